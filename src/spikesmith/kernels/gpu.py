"""Fused multi-step IF / LIF / PLIF / ALIF in Triton: the GPU twin of ``cpu``, same maths, same API.

    s_seq, v_T, a_T = multi_step_gpu(x_seq, v0, charge="lif", v_threshold=1.0, v_reset=0.0, decay=0.5,
                                     surrogate=Sigmoid(alpha=4.0))

``x_seq`` is ``T x N x ...`` float32 on a CUDA device, or on the CPU under Triton's interpreter
(``TRITON_INTERPRET=1``, which is how the tests run it where no GPU exists). The equations, the
order of operations and the backward recurrences are those of the CPU kernel (see ``_source``);
both kernels are compiled without FMA contraction (``enable_fp_fusion=False``), like the CPU
kernel's ``-ffp-contract=off``, so that the spikes and states equal the scan's bit for bit and the
backward recomputes the very H of the forward.

Kernels: one program per block of neurons loops over T with the state in registers.
    forward:  writes the spikes, and the state every ``time_chunk`` steps (V, and a for ALIF).
    backward: for each chunk, last first, recomputes H (and V and a before each step, where
              PLIF's decay gradient or ALIF needs them) from the checkpoint and the saved input
              into a scratch of ``time_chunk x N`` floats per recomputed quantity, then makes one
              pass back over the chunk. PLIF's decay gradient is summed per neuron in float64
              and then summed to the parameter's shape.
What the forward keeps for the backward, per neuron and step, is what ``cpu`` keeps: the input
(a reference, 4 bytes) and the state every ``time_chunk`` steps (4 / time_chunk bytes each); the
scratch lives only during the backward.

Triton is optional and imported on first use: this module imports without it and ``available()``
says whether it can be used. The same kernel source is launched compiled (CUDA) or interpreted
(``TRITON_INTERPRET=1``, read at each call, not at import).
"""

from __future__ import annotations

import ast
import linecache
import os
import re
import textwrap
import threading
from typing import Optional, Union

import torch
from torch import Tensor

from .cpu import DEFAULT_TIME_CHUNK, _Config, _flat, _like_step, dense_steps, kernel_config

Scalar = Union[float, Tensor]

#: Largest block of neurons one program takes (the tests lower it to get several blocks).
MAX_BLOCK = 1024

# ``triton.language``, bound on first use by ``_load``; the kernels below read it as a global.
tl = None
_triton = None
_LOCK = threading.Lock()
_TRIED = False
_ERROR: Optional[str] = None
_WRAPPED: dict = {}


def _load():
    """Import triton once; returns the module or None (see ``unavailable_reason``)."""
    global tl, _triton, _TRIED, _ERROR
    with _LOCK:
        if not _TRIED:
            _TRIED = True
            try:
                import triton
                import triton.language as language
            except Exception as exc:  # ImportError, or a broken install
                _ERROR = f"triton could not be imported ({type(exc).__name__}: {exc}); pip install triton"
            else:
                _triton, tl = triton, language
    return _triton


def available() -> bool:
    """Whether triton can be imported (a GPU, or ``TRITON_INTERPRET=1``, is needed to run too)."""
    return _load() is not None


def unavailable_reason() -> Optional[str]:
    _load()
    return _ERROR


def interpreting() -> bool:
    """Whether ``TRITON_INTERPRET`` is set now: the kernels then run in Triton's interpreter."""
    if _load() is None:
        return False
    knobs = getattr(_triton, "knobs", None)  # triton >= 3.4; older ones read the variable the same way
    if knobs is not None:
        return bool(knobs.runtime.interpret)
    return os.environ.get("TRITON_INTERPRET", "0").strip().lower() in ("1", "true", "yes", "on", "y")


def device_reason(device: torch.device) -> Optional[str]:
    """Why the Triton kernels cannot run on ``device`` now (None: they can)."""
    if not available():
        return unavailable_reason()
    if device.type == "cuda" or interpreting():
        return None
    return (f"the input is on {device}; the Triton kernels need a CUDA device, or TRITON_INTERPRET=1 set "
            f"to run them in Triton's interpreter")


def _kernel(fn):
    """``fn`` wrapped for this call: interpreted under ``TRITON_INTERPRET=1``, else compiled."""
    interpret = interpreting()
    key = (fn, interpret)
    if key not in _WRAPPED:
        if interpret:
            from triton.runtime.interpreter import InterpretedFunction

            _WRAPPED[key] = InterpretedFunction(fn)
        else:
            from triton.runtime.jit import JITFunction

            _WRAPPED[key] = JITFunction(fn)
    return _WRAPPED[key]


# --------------------------------------------------------------------------- the kernels
# Plain functions, wrapped by ``_kernel``; the integer codes are those of ``_source`` (charge CH:
# 0 IF, 1 LIF decay_input, 2 LIF not decay_input); the backward is generated once per surrogate,
# with the surrogate's own ``KernelCode.triton`` inlined. A parameter
# pointer with stride S_* = 0 is a scalar. Row offsets are int64 (N64), so T * N may exceed 2^31.
# They call only Triton builtins (``tl.full``, not ``tl.zeros``): the helpers of
# ``triton.language.standard`` are jit functions bound to the interpreter or the compiler once, when
# triton is imported, and would tie these kernels to the mode of that moment.

def _forward_kernel(x, s, v, a, p_vth, p_rest, p_d, p_rho, p_beta, ck_v, ck_a, T, N, K,
                    S_VTH: tl.constexpr, S_REST: tl.constexpr, S_D: tl.constexpr, S_RHO: tl.constexpr,
                    S_BETA: tl.constexpr, CH: tl.constexpr, SOFT: tl.constexpr, ALIF: tl.constexpr,
                    CKPT: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < N
    N64 = N.to(tl.int64)
    vth = tl.load(p_vth + offs * S_VTH, mask=m, other=1.0)
    rest = tl.load(p_rest + offs * S_REST, mask=m, other=0.0)
    d = tl.load(p_d + offs * S_D, mask=m, other=0.0)
    rho = tl.load(p_rho + offs * S_RHO, mask=m, other=0.0)
    beta = tl.load(p_beta + offs * S_BETA, mask=m, other=0.0)
    vv = tl.load(v + offs, mask=m, other=0.0)
    aa = tl.full([BLOCK], 0.0, tl.float32)
    if ALIF:
        aa = tl.load(a + offs, mask=m, other=0.0)
    nck = (T + K - 1) // K
    for c in range(0, nck):
        t0 = c * K
        L = tl.minimum(K, T - t0)
        if CKPT:
            tl.store(ck_v + c * N64 + offs, vv, mask=m)
            if ALIF:
                tl.store(ck_a + c * N64 + offs, aa, mask=m)
        for j in range(0, L):
            row = (t0 + j) * N64
            xt = tl.load(x + row + offs, mask=m, other=0.0)
            if CH == 0:
                h = vv + xt
            elif CH == 1:
                h = vv + (xt - (vv - rest)) * d
            else:
                h = (vv - (vv - rest) * d) + xt
            th = vth
            if ALIF:
                th = vth + beta * aa
            spike = (h - th) >= 0.0
            sf = tl.where(spike, 1.0, 0.0)
            tl.store(s + row + offs, sf, mask=m)
            if SOFT:
                vv = h - th * sf
            else:
                vv = tl.where(spike, rest, h)
            if ALIF:
                aa = aa * rho + sf
    tl.store(v + offs, vv, mask=m)
    if ALIF:
        tl.store(a + offs, aa, mask=m)


_BACKWARD_TEMPLATE = """
def _backward_kernel_@NAME@(x, gs, gx, gv, ga, gd, p_vth, p_rest, p_d, p_rho, p_beta, ck_v, ck_a, h_buf, vp_buf, ap_buf,
                     T, N, K, p0, p1, p2,
                     S_VTH: tl.constexpr, S_REST: tl.constexpr, S_D: tl.constexpr, S_RHO: tl.constexpr,
                     S_BETA: tl.constexpr, CH: tl.constexpr, SOFT: tl.constexpr, ALIF: tl.constexpr,
                     DETACH: tl.constexpr, GD: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < N
    N64 = N.to(tl.int64)
    vth = tl.load(p_vth + offs * S_VTH, mask=m, other=1.0)
    rest = tl.load(p_rest + offs * S_REST, mask=m, other=0.0)
    d = tl.load(p_d + offs * S_D, mask=m, other=0.0)
    rho = tl.load(p_rho + offs * S_RHO, mask=m, other=0.0)
    beta = tl.load(p_beta + offs * S_BETA, mask=m, other=0.0)
    gvv = tl.load(gv + offs, mask=m, other=0.0)
    gaa = tl.full([BLOCK], 0.0, tl.float32)
    if ALIF:
        gaa = tl.load(ga + offs, mask=m, other=0.0)
    gdacc = tl.full([BLOCK], 0.0, tl.float64)
    nck = (T + K - 1) // K
    for cc in range(0, nck):
        c = nck - 1 - cc
        t0 = c * K
        L = tl.minimum(K, T - t0)
        # recompute the chunk from its checkpoint: H, and V / a before each step where needed
        vv = tl.load(ck_v + c * N64 + offs, mask=m, other=0.0)
        aa = tl.full([BLOCK], 0.0, tl.float32)
        if ALIF:
            aa = tl.load(ck_a + c * N64 + offs, mask=m, other=0.0)
        for j in range(0, L):
            srow = j * N64
            xt = tl.load(x + (t0 + j) * N64 + offs, mask=m, other=0.0)
            if GD:
                tl.store(vp_buf + srow + offs, vv, mask=m)
            if ALIF:
                tl.store(ap_buf + srow + offs, aa, mask=m)
            if CH == 0:
                h = vv + xt
            elif CH == 1:
                h = vv + (xt - (vv - rest)) * d
            else:
                h = (vv - (vv - rest) * d) + xt
            th = vth
            if ALIF:
                th = vth + beta * aa
            spike = (h - th) >= 0.0
            sf = tl.where(spike, 1.0, 0.0)
            tl.store(h_buf + srow + offs, h, mask=m)
            if SOFT:
                vv = h - th * sf
            else:
                vv = tl.where(spike, rest, h)
            if ALIF:
                aa = aa * rho + sf
        tl.debug_barrier()
        # one pass back over the chunk
        for jj in range(0, L):
            j = L - 1 - jj
            row = (t0 + j) * N64
            srow = j * N64
            h = tl.load(h_buf + srow + offs, mask=m, other=0.0)
            ap = tl.full([BLOCK], 0.0, tl.float32)
            th = vth
            if ALIF:
                ap = tl.load(ap_buf + srow + offs, mask=m, other=0.0)
                th = vth + beta * ap
            z = h - th
@SURROGATE@
            sf = tl.where(z >= 0.0, 1.0, 0.0)
            go = tl.load(gs + row + offs, mask=m, other=0.0)
            if ALIF:
                go = go + gaa
            if not DETACH:
                if SOFT:
                    go = go + gvv * (-th)
                else:
                    go = go + gvv * (rest - h)
            gz = go * g
            if SOFT:
                gh = gvv + gz
            else:
                gh = gvv * (1.0 - sf) + gz
            if ALIF:
                if SOFT:
                    gth = -gz - gvv * sf
                else:
                    gth = -gz
                gaa = gaa * rho + gth * beta
            if CH == 0:
                tl.store(gx + row + offs, gh, mask=m)
                gvv = gh
            else:
                ghd = gh * d
                if CH == 1:
                    tl.store(gx + row + offs, ghd, mask=m)
                else:
                    tl.store(gx + row + offs, gh, mask=m)
                gvv = gh - ghd
                if GD:
                    vp = tl.load(vp_buf + srow + offs, mask=m, other=0.0)
                    if CH == 1:
                        xt = tl.load(x + row + offs, mask=m, other=0.0)
                        q = xt - (vp - rest)
                    else:
                        q = -(vp - rest)
                    gdacc += (gh * q).to(tl.float64)
        tl.debug_barrier()
    tl.store(gv + offs, gvv, mask=m)
    if ALIF:
        tl.store(ga + offs, gaa, mask=m)
    if GD:
        tl.store(gd + offs, gdacc, mask=m)
"""


def _surrogate_lines(code) -> str:
    """The surrogate's ``KernelCode.triton`` as lines of the backward loop: it reads z, p0, p1, p2
    and sets g; its other names get a ``_sg_`` prefix so that they cannot clash with the kernel's."""
    tree = ast.parse(code.triton)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in ("z", "g", "p0", "p1", "p2", "tl"):
            node.id = f"_sg_{node.id}"
    return textwrap.indent(ast.unparse(tree), " " * 12)


_BACKWARDS: dict = {}


def _backward_kernel(code):
    """The backward kernel with surrogate ``code`` inlined (generated once per code)."""
    if code not in _BACKWARDS:
        name = re.sub(r"\W", "_", code.name)
        text = _BACKWARD_TEMPLATE.replace("@NAME@", name).replace("@SURROGATE@", _surrogate_lines(code))
        filename = f"<spikesmith triton backward {code.name}>"
        linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)  # inspect reads it
        namespace = {"tl": tl}
        exec(compile(text, filename, "exec"), namespace)
        _BACKWARDS[code] = namespace[f"_backward_kernel_{name}"]
    return _BACKWARDS[code]


# --------------------------------------------------------------------------- launching
def _block(N: int, device: torch.device) -> int:
    """Neurons per program: a power of two, small enough that a GPU gets several programs per SM."""
    block = _triton.next_power_of_2(N)
    if device.type == "cuda":
        sms = torch.cuda.get_device_properties(device).multi_processor_count
        block = _triton.next_power_of_2(max(1, -(-N // (4 * sms))))
        block = max(block, 128)
    return max(16, min(block, MAX_BLOCK))


def _launch(fn, N: int, device: torch.device, *args, **meta):
    block = _block(N, device)
    grid = (_triton.cdiv(N, block),)
    kernel = _kernel(fn)
    if device.type == "cuda":
        with torch.cuda.device(device):
            kernel[grid](*args, BLOCK=block, num_warps=max(1, min(8, block // 256)), enable_fp_fusion=False,
                         **meta)
    else:
        kernel[grid](*args, BLOCK=block, **meta)


class TritonNeuronFunction(torch.autograd.Function):
    """Multi-step IF/LIF/PLIF/ALIF in Triton: forward one pass over T, backward one pass back.

    Inputs and outputs as ``cpu.FusedNeuronFunction``: ``x_seq`` [T, *S], ``v0`` [*S], ``a0`` [*S]
    (ALIF, else None), ``decay`` (a tensor that needs a gradient, PLIF's sigmoid(w), else None), a
    ``_Config``; returns spikes [T, *S] and the final V and a [*S] (a is empty without ALIF).
    """

    @staticmethod
    def forward(ctx, x_seq: Tensor, v0: Tensor, a0: Optional[Tensor], decay: Optional[Tensor], cfg: _Config):
        T, step_shape = x_seq.shape[0], x_seq.shape[1:]
        N = step_shape.numel()
        if not dense_steps(x_seq):
            x_seq = x_seq.contiguous()
        step, dev = x_seq[0], x_seq.device
        x = _flat(x_seq).view(T, N)
        s_seq = torch.empty_like(x_seq)
        v_step = _like_step(v0, step)
        a_step = _like_step(a0, step) if cfg.alif else None
        train = any(ctx.needs_input_grad)
        K = max(1, int(cfg.time_chunk))
        nck = (T + K - 1) // K
        ck_v = torch.empty((nck, N), dtype=torch.float32, device=dev) if train else None
        ck_a = torch.empty((nck, N), dtype=torch.float32, device=dev) if train and cfg.alif else None
        v = _flat(v_step)
        a = _flat(a_step) if cfg.alif else v  # unused pointers get any tensor
        _launch(_forward_kernel, N, dev, x, _flat(s_seq).view(T, N), v, a, *cfg.tensors(),
                ck_v if train else v, ck_a if ck_a is not None else v, T, N, K, **cfg.strides(),
                CH=cfg.charge, SOFT=int(cfg.soft), ALIF=int(cfg.alif), CKPT=int(train))
        if train:
            ctx.save_for_backward(x_seq, ck_v, ck_a, decay)
            ctx.cfg, ctx.K = cfg, K
        a_out = a_step if cfg.alif else torch.empty(0, device=dev)
        if not cfg.alif:
            ctx.mark_non_differentiable(a_out)
        return s_seq, v_step, a_out

    @staticmethod
    def backward(ctx, g_s: Tensor, g_v: Tensor, g_a: Tensor):
        x_seq, ck_v, ck_a, decay = ctx.saved_tensors
        cfg, K = ctx.cfg, ctx.K
        T, step, dev = x_seq.shape[0], x_seq[0], x_seq.device
        N = step.numel()
        if g_s.stride() != x_seq.stride() or g_s.dtype != torch.float32:
            g_s = torch.empty_like(x_seq).copy_(g_s)
        gv_step = _like_step(g_v, step)
        ga_step = _like_step(g_a, step) if cfg.alif else None
        gx_seq = torch.empty_like(x_seq)
        need_gd = decay is not None and ctx.needs_input_grad[3]
        gd_step = torch.zeros_like(step, dtype=torch.float64) if need_gd else None
        L = min(K, T)
        h_buf = torch.empty((L, N), dtype=torch.float32, device=dev)
        vp_buf = torch.empty((L, N), dtype=torch.float32, device=dev) if need_gd else h_buf
        ap_buf = torch.empty((L, N), dtype=torch.float32, device=dev) if cfg.alif else h_buf
        gv = _flat(gv_step)
        p0, p1, p2 = cfg.sg.params
        _launch(_backward_kernel(cfg.sg.code), N, dev, _flat(x_seq).view(T, N), _flat(g_s).view(T, N), _flat(gx_seq).view(T, N),
                gv, _flat(ga_step) if cfg.alif else gv, _flat(gd_step) if need_gd else gv, *cfg.tensors(),
                ck_v, ck_a if ck_a is not None else ck_v, h_buf, vp_buf, ap_buf, T, N, K, float(p0), float(p1),
                float(p2), **cfg.strides(), CH=cfg.charge, SOFT=int(cfg.soft), ALIF=int(cfg.alif),
                DETACH=int(cfg.detach), GD=int(need_gd))
        g_x = gx_seq if ctx.needs_input_grad[0] else None
        g_v0 = gv_step if ctx.needs_input_grad[1] else None
        g_a0 = ga_step if cfg.alif and ctx.needs_input_grad[2] else None
        g_decay = None
        if need_gd:
            g_decay = gd_step.sum_to_size(decay.shape).to(decay.dtype)
        return g_x, g_v0, g_a0, g_decay, None


def multi_step_gpu(
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
    """Run a whole sequence through the Triton kernels; returns ``(spikes, v_T, a_T or None)``.

    Arguments as ``cpu.multi_step``; ``x_seq`` is a float32 CUDA tensor (or a CPU tensor with
    ``TRITON_INTERPRET=1``), ``v0`` / ``a0`` one step's shape on the same device, or numbers (a
    fresh state with every neuron at that value).
    """
    if x_seq.dtype != torch.float32:
        raise TypeError(f"multi_step_gpu takes a float32 x_seq, got {x_seq.dtype}; convert it with x_seq.float()")
    if x_seq.dim() < 2 or x_seq.numel() == 0:
        raise ValueError(f"multi_step_gpu expects a non-empty x_seq of shape [T, N, ...], got {list(x_seq.shape)}")
    reason = device_reason(x_seq.device)
    if reason is not None:
        raise ValueError(f"multi_step_gpu cannot run: {reason}")
    if x_seq.shape[1:].numel() >= 2**31:
        raise ValueError(f"multi_step_gpu takes fewer than 2^31 neurons per step, got {x_seq.shape[1:].numel()}")
    alif = a0 is not None
    x_seq, cfg, decay_t = kernel_config(x_seq, charge=charge, v_threshold=v_threshold, v_reset=v_reset,
                                        surrogate=surrogate, decay=decay, decay_input=decay_input,
                                        detach_reset=detach_reset, alif=alif, rho=rho, beta=beta,
                                        time_chunk=time_chunk)
    step = x_seq[0]
    if not isinstance(v0, Tensor):
        v0 = torch.tensor(float(v0), dtype=torch.float32, device=step.device)
    if alif and not isinstance(a0, Tensor):
        a0 = torch.tensor(float(a0), dtype=torch.float32, device=step.device)
    s, v, a = TritonNeuronFunction.apply(x_seq, v0, a0, decay_t, cfg)
    return s, v, (a if alif else None)


#: The same signature as ``cpu.multi_step``.
multi_step = multi_step_gpu
