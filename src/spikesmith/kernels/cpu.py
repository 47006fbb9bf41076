"""Fused multi-step IF / LIF / PLIF / ALIF on the CPU: one autograd Function for every family.

    s_seq, v_T, a_T = multi_step(x_seq, v0, charge="lif", v_threshold=1.0, v_reset=0.0, decay=0.5,
                                 surrogate=Sigmoid(alpha=4.0))

The equations are those of ``spikesmith.dynamics`` (see ``_source`` for the step); ``x_seq`` is
``T x N x ...`` float32 on the CPU, ``v0`` (and ``a0``) one step's shape, parameters floats or
tensors broadcastable to one step's shape.

What the forward keeps for the backward, per neuron and step:
    the input ``x_seq`` (a reference, no copy, when every step is dense, e.g. contiguous or
    channels_last float32: 4 bytes), and the
    state every ``time_chunk`` steps (V, and a for ALIF: 4 / time_chunk bytes each).
The backward recomputes H chunk by chunk from these (one pass of the forward maths over a chunk
held in cache), then makes one pass back over the chunk. With the default ``time_chunk=16``
that is 4.25 bytes per neuron-step (4.5 for ALIF); spikes are not kept at all.
"""

from __future__ import annotations

import ctypes
from typing import Optional, Union

import torch
from torch import Tensor

from ..surrogate import SurrogateFunction
from . import _build

Scalar = Union[float, Tensor]

#: Steps between two kept states; the backward recomputes H within a chunk.
DEFAULT_TIME_CHUNK = 16


def surrogate_spec(sg):
    """The kernel form (``surrogate.KernelForm``: its code and hyper-parameters) of a surrogate whose
    class declares one, else None (learnable Dspike, ``spiking=False`` and undeclared surrogates
    run on ``scan``)."""
    return sg.kernel_form() if isinstance(sg, SurrogateFunction) else None


def available() -> bool:
    """Whether the compiled CPU kernels can be used (builds them on the first call)."""
    return _build.load() is not None


def unavailable_reason() -> Optional[str]:
    return _build.error()


def dense_steps(x_seq: Tensor) -> bool:
    """Whether every time step of ``x_seq`` fills one block of memory, in any order of its dims
    (contiguous, channels_last, ...), with time the outermost stride: the kernels then run on the
    memory as it is and their outputs keep the input's layout."""
    if x_seq.dim() < 1 or x_seq.numel() == 0:
        return False
    step = x_seq.shape[1:].numel()
    if x_seq.shape[0] > 1 and x_seq.stride(0) != step:
        return False
    dims = sorted(((x_seq.stride(d), x_seq.shape[d]) for d in range(1, x_seq.dim()) if x_seq.shape[d] > 1),
                  reverse=True)
    expected = 1
    for stride, size in reversed(dims):
        if stride != expected:
            return False
        expected *= size
    return True


def _flat(t: Tensor) -> Tensor:
    """The memory of a dense tensor as a 1-d view, in memory order."""
    return t.as_strided((t.numel(),), (1,))


def _like_step(value: Tensor, step: Tensor, dtype=torch.float32) -> Tensor:
    """``value`` broadcast to one step's shape, laid out in memory like ``step``."""
    out = torch.empty_like(step, dtype=dtype)
    out.copy_(value.detach().expand(step.shape))
    return out


def _param(value: Optional[Scalar], step: Tensor) -> tuple[Tensor, int]:
    """A float32 parameter for the kernel: a 1-element scalar (stride 0) or an N array (stride 1)
    in the memory order of the input's steps."""
    if value is None:
        return torch.zeros(1, dtype=torch.float32, device=step.device), 0
    if not isinstance(value, Tensor):
        return torch.tensor([float(value)], dtype=torch.float32, device=step.device), 0
    value = value.detach()
    if value.numel() == 1:
        return value.reshape(1).to(device=step.device, dtype=torch.float32), 0
    return _flat(_like_step(value, step)), 1


class _Config:
    """Everything the Function needs besides its tensor inputs."""

    def __init__(self, charge: int, soft: bool, alif: bool, detach: bool, sg: tuple, params: list,
                 time_chunk: int):
        self.charge, self.soft, self.alif, self.detach, self.sg = charge, soft, alif, detach, sg
        self.params = params  # [(tensor, stride)] x 5: v_threshold, rest, decay, rho, beta
        self.time_chunk = time_chunk

    def tensors(self) -> list:
        return [t for t, _ in self.params]

    def strides(self) -> dict:
        names = ("S_VTH", "S_REST", "S_D", "S_RHO", "S_BETA")
        return {n: s for n, (_, s) in zip(names, self.params)}

    def pointers(self):
        ptrs = (ctypes.c_void_p * 5)(*[t.data_ptr() for t, _ in self.params])
        strides = (ctypes.c_int * 5)(*[s for _, s in self.params])
        return ptrs, strides


def _ptr(t: Optional[Tensor]):
    return None if t is None else t.data_ptr()


class FusedNeuronFunction(torch.autograd.Function):
    """Multi-step IF/LIF/PLIF/ALIF: forward one pass over T, backward one pass back.

    Inputs: ``x_seq`` [T, *S], ``v0`` [*S] or a number (a fresh state, every neuron at that value),
    ``a0`` [*S] or a number (ALIF, else None), ``decay`` (a tensor that
    needs a gradient, PLIF's sigmoid(w), else None), a ``_Config``.
    Outputs: spikes [T, *S] and the final V and a [*S] (a is an empty tensor without ALIF).
    """

    @staticmethod
    def forward(ctx, x_seq: Tensor, v0: Tensor, a0: Optional[Tensor], decay: Optional[Tensor], cfg: _Config):
        lib = _build.load()
        T, step_shape = x_seq.shape[0], x_seq.shape[1:]
        N = step_shape.numel()
        if not dense_steps(x_seq):
            x_seq = x_seq.contiguous()
        step = x_seq[0]
        x = _flat(x_seq).view(T, N)
        s_seq = torch.empty_like(x_seq)
        s_out = _flat(s_seq).view(T, N)
        # a fresh state is given as numbers: the kernel fills it tile by tile, in cache
        init = not isinstance(v0, Tensor)
        if init and cfg.alif and isinstance(a0, Tensor):
            v0, init = torch.tensor(float(v0)), False
        v_step = torch.empty_like(step) if init else _like_step(v0, step)
        v = _flat(v_step)
        a_step = (torch.empty_like(step) if init else _like_step(a0, step)) if cfg.alif else None
        a = _flat(a_step) if cfg.alif else None
        ctx.set_materialize_grads(False)
        train = any(ctx.needs_input_grad)
        K = max(1, int(cfg.time_chunk))
        nck = (T + K - 1) // K
        ck_v = torch.empty((nck, N), dtype=torch.float32) if train else None
        ck_a = torch.empty((nck, N), dtype=torch.float32) if train and cfg.alif else None
        ptrs, strides = cfg.pointers()
        rc = lib.sf_forward(cfg.charge, int(cfg.soft), int(cfg.alif), T, N, x.data_ptr(), s_out.data_ptr(),
                            v.data_ptr(), _ptr(a), ptrs, strides, _ptr(ck_v), _ptr(ck_a), K,
                            torch.get_num_threads(), int(init), float(v0) if init else 0.0,
                            float(a0) if init and cfg.alif else 0.0)
        if rc != 0:
            raise RuntimeError(f"spikesmith kernel sf_forward: unsupported configuration (code {rc})")
        if train:
            ctx.save_for_backward(x_seq, ck_v, ck_a, decay)
            ctx.cfg, ctx.K = cfg, K
        a_out = a_step if cfg.alif else torch.empty(0)
        if not cfg.alif:
            ctx.mark_non_differentiable(a_out)
        return s_seq, v_step, a_out

    @staticmethod
    def backward(ctx, g_s: Tensor, g_v: Tensor, g_a: Tensor):
        lib = _build.load()
        x_seq, ck_v, ck_a, decay = ctx.saved_tensors
        cfg, K = ctx.cfg, ctx.K
        T, step = x_seq.shape[0], x_seq[0]
        N = step.numel()
        x = _flat(x_seq).view(T, N)
        if g_s is None:
            g_s = torch.zeros_like(x_seq)
        elif g_s.stride() != x_seq.stride() or g_s.dtype != torch.float32:
            g_s = torch.empty_like(x_seq).copy_(g_s)
        gs = _flat(g_s).view(T, N)
        # grads of unused outputs arrive as None (set_materialize_grads(False)): with no gradient on
        # the final state the kernel starts from zero in cache instead of reading an N array of zeros
        zero_gstate = g_v is None and (not cfg.alif or g_a is None)
        zero = torch.zeros((), dtype=torch.float32)
        gv_step = torch.empty_like(step) if zero_gstate else _like_step(zero if g_v is None else g_v, step)
        gv = _flat(gv_step)
        ga_step = None
        if cfg.alif:
            ga_step = torch.empty_like(step) if zero_gstate else _like_step(zero if g_a is None else g_a, step)
        ga = _flat(ga_step) if cfg.alif else None
        gx_seq = torch.empty_like(x_seq)
        gx = _flat(gx_seq).view(T, N)
        need_gd = decay is not None and ctx.needs_input_grad[3]
        gd_step = torch.zeros_like(step, dtype=torch.float64) if need_gd else None
        gd = _flat(gd_step) if need_gd else None
        ptrs, strides = cfg.pointers()
        code = _build.surrogate_number(cfg.sg.code)
        if code is None:
            raise RuntimeError(f"spikesmith kernel sf_backward: the surrogate code {cfg.sg.code.name!r} could not be "
                               f"compiled ({_build.error()})")
        p0, p1, p2 = cfg.sg.params
        lib = _build.load()
        rc = lib.sf_backward(cfg.charge, int(cfg.soft), int(cfg.alif), int(cfg.detach), int(need_gd), T, N,
                             x.data_ptr(), gs.data_ptr(), gx.data_ptr(), gv.data_ptr(), _ptr(ga), _ptr(gd), ptrs,
                             strides, ck_v.data_ptr(), _ptr(ck_a), K, code, p0, p1, p2, torch.get_num_threads(),
                             int(zero_gstate))
        if rc != 0:
            raise RuntimeError(f"spikesmith kernel sf_backward: unsupported configuration (code {rc})")
        g_x = gx_seq if ctx.needs_input_grad[0] else None
        g_v0 = gv_step if ctx.needs_input_grad[1] else None
        g_a0 = ga_step if cfg.alif and ctx.needs_input_grad[2] else None
        g_decay = None
        if need_gd:
            g_decay = gd_step.sum_to_size(decay.shape).to(decay.dtype)
        return g_x, g_v0, g_a0, g_decay, None


def multi_step(
    x_seq: Tensor,
    v0: Union[Tensor, float],
    *,
    charge: str,
    v_threshold: Scalar,
    v_reset: Optional[Scalar],
    surrogate,
    decay: Optional[Scalar] = None,
    decay_input: bool = True,
    detach_reset: bool = False,
    a0: Optional[Union[Tensor, float]] = None,
    rho: Optional[Scalar] = None,
    beta: Optional[Scalar] = None,
    time_chunk: int = DEFAULT_TIME_CHUNK,
) -> tuple[Tensor, Tensor, Optional[Tensor]]:
    """Run a whole sequence through the fused kernel; returns ``(spikes, v_T, a_T or None)``.

    Args:
        x_seq: ``T x N x ...`` float32 CPU tensor.
        v0: the membrane potential before the first step, one step's shape, or a number: a fresh
            state with every neuron at that value (filled by the kernel, no N array to read).
        charge: ``'if'`` (H = V + X) or ``'lif'`` (leaky, with ``decay`` = 1/tau).
        v_threshold, v_reset: as in the neurons; ``v_reset=None`` is a soft reset.
        surrogate: a fixed-shape surrogate (see ``surrogate_spec``).
        decay: 1/tau (float or tensor); a tensor that requires grad receives its gradient (PLIF).
        a0, rho, beta: ALIF's adaptation state, its decay 1 - 1/tau_adapt and its strength; giving
            ``a0`` selects ALIF.
        time_chunk: steps between kept states (see the module docstring).
    """
    if not isinstance(x_seq, Tensor) or x_seq.dtype != torch.float32 or x_seq.device.type != "cpu":
        what = type(x_seq).__name__ if not isinstance(x_seq, Tensor) else f"{x_seq.dtype} on {x_seq.device}"
        raise TypeError(f"the fused CPU kernel takes a float32 CPU tensor, got {what}; convert it with "
                        f".float().cpu(), or use the neuron's scan path (backend='torch')")
    x_seq, cfg, decay_t = kernel_config(x_seq, charge=charge, v_threshold=v_threshold, v_reset=v_reset,
                                        surrogate=surrogate, decay=decay, decay_input=decay_input,
                                        detach_reset=detach_reset, alif=a0 is not None, rho=rho, beta=beta,
                                        time_chunk=time_chunk)
    s, v, a = FusedNeuronFunction.apply(x_seq, v0, a0, decay_t, cfg)
    return s, v, (a if cfg.alif else None)


def kernel_config(x_seq: Tensor, *, charge: str, v_threshold, v_reset, surrogate, decay, decay_input: bool,
                  detach_reset: bool, alif: bool, rho, beta, time_chunk: int) -> tuple[Tensor, _Config, Optional[Tensor]]:
    """Check ``multi_step``'s arguments (shared by the CPU and Triton kernels) and return the input
    in a layout the kernels read, their ``_Config`` (parameters on the input's device) and the decay
    tensor that receives a gradient (PLIF), else None."""
    sg = surrogate_spec(surrogate)
    if sg is None:
        raise ValueError(f"the fused kernels do not support the surrogate {surrogate!r}; use the scan path")
    if charge not in ("if", "lif"):
        raise ValueError(f"charge must be 'if' or 'lif', got {charge!r}")
    if alif and charge != "lif":
        raise ValueError("ALIF (a0 given) needs charge='lif'")
    if not dense_steps(x_seq):
        x_seq = x_seq.contiguous()
    step = x_seq[0]
    code = 0 if charge == "if" else (1 if decay_input else 2)
    soft = v_reset is None
    params = [
        _param(v_threshold, step),
        _param(0.0 if soft else v_reset, step),
        _param(decay if charge == "lif" else None, step),
        _param(rho if alif else None, step),
        _param(beta if alif else None, step),
    ]
    cfg = _Config(code, soft, alif, detach_reset, sg, params, time_chunk)
    decay_t = decay if isinstance(decay, Tensor) and decay.requires_grad else None
    return x_seq, cfg, decay_t
