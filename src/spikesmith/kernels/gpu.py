"""The fused kernels in Triton: the GPU twin of ``cpu``, same maths, same contract.

    s_seq, v_T, a_T = multi_step_gpu(x_seq, v0, charge="lif", v_threshold=1.0, v_reset=0.0, decay=0.5,
                                     surrogate=Sigmoid(alpha=4.0))

``x_seq`` is ``T x N x ...`` float32 on a CUDA device, or on the CPU under Triton's interpreter
(``TRITON_INTERPRET=1``, which is how the tests run it where no GPU exists). The kernels are
generated per charge kind (and, for the backward, per surrogate) by ``_triton_source`` from the kind's
table entry; the order of operations and the backward recurrences are those of the CPU kernel, and
both are compiled without FMA contraction (``enable_fp_fusion=False``), like the CPU kernel's
``-ffp-contract=off``, so that the spikes and states equal the scan's bit for bit and the
backward recomputes the very H of the forward.

What the forward keeps for the backward is what ``cpu`` keeps (see ``fused``); the backward's
scratch (H, and the states the kind reads before each step, ``time_chunk x N`` floats each) lives
only during the backward.

Triton is optional and imported on first use: this module imports without it and ``available()``
says whether it can be used. The same kernel source is launched compiled (CUDA) or interpreted
(``TRITON_INTERPRET=1``, read at each call, not at import).
"""

from __future__ import annotations

import os
import threading
from typing import Optional, Union

import torch
from torch import Tensor

from . import _triton_source, arguments, ops
from .cpu import spec_from_keywords
from .fused import DEFAULT_TIME_CHUNK, run

Scalar = Union[float, Tensor]

#: Largest block of neurons one program takes (the tests lower it to get several blocks).
MAX_BLOCK = 1024

# ``triton.language``, bound on first use by ``_load``; the generated kernels read it as a global.
tl = None
_triton = None
_LOCK = threading.Lock()
_TRIED = False
_ERROR: Optional[str] = None
_WRAPPED: dict = {}
_SOURCES: dict = {}  # (kind, surrogate code or None) -> generated function


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


def _generated(kind, code=None):
    """The generated forward kernel of ``kind`` (``code`` None), or its backward with surrogate ``code``."""
    key = (kind, code)
    if key not in _SOURCES:
        _load()
        name, text = _triton_source.forward_source(kind) if code is None else _triton_source.backward_source(kind, code)
        _SOURCES[key] = _triton_source.compile_source(text, name, tl)
    return _SOURCES[key]


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


class _Launcher:
    """Launches the generated Triton kernels (``_triton_source``) for a ``fused.Plan``."""

    name = 'triton'
    fills_in_kernel = False   # states and their gradients are given as tensors

    def forward(self, plan, x, s, states, ck, init):
        T, N = x.shape
        ptrs = [t for t, _ in plan.params]
        strides = {f"S_{name}": stride for name, (_, stride) in zip(plan.param_names, plan.params)}
        _launch(_generated(plan.kind), N, x.device, x, s, *states, *ptrs, *(ck if ck else states), T, N,
                plan.time_chunk, **strides, SOFT=int(plan.soft), **plan.option_values, CKPT=int(ck is not None))

    def backward(self, plan, x, gs, gx, gstates, gparams, ck, zero_gstate, need_gd):
        T, N = x.shape
        L = min(plan.time_chunk, T)
        h_buf = torch.empty((L, N), dtype=torch.float32, device=x.device)
        prev = [torch.empty((L, N), dtype=torch.float32, device=x.device)
                if plan.kind.prev.get(s) == "always" or (plan.kind.prev.get(s) == "grad" and need_gd) else h_buf
                for s in plan.kind.state]
        ptrs = [t for t, _ in plan.params]
        strides = {f"S_{name}": stride for name, (_, stride) in zip(plan.param_names, plan.params)}
        gp = [gparams[p] if need_gd else gx for p in plan.kind.grad_params]   # unused pointers get any tensor
        p0, p1, p2 = plan.form.params
        _launch(_generated(plan.kind, plan.form.code), N, x.device, x, gs, gx, *gstates, *gp, *ptrs, *ck, h_buf,
                *prev, T, N, plan.time_chunk, float(p0), float(p1), float(p2), **strides, SOFT=int(plan.soft),
                **plan.option_values, DETACH=int(plan.detach), GD=int(need_gd))


LAUNCHER = _Launcher()
ops.LAUNCHERS[LAUNCHER.name] = LAUNCHER


def check_input(x_seq: Tensor) -> None:
    """Whether the Triton kernels can take ``x_seq``: an error naming the problem and the fix."""
    if not isinstance(x_seq, Tensor) or x_seq.dtype != torch.float32:
        what = x_seq.dtype if isinstance(x_seq, Tensor) else type(x_seq).__name__
        raise TypeError(f"multi_step_gpu takes a float32 x_seq, got {what}; convert it with x_seq.float()")
    if x_seq.dim() >= 1 and x_seq.shape[0] == 0:
        raise ValueError(f"{arguments.EMPTY_SEQUENCE}, got x_seq of shape {list(x_seq.shape)}")
    if x_seq.dim() < 2 or x_seq.numel() == 0:
        raise ValueError(f"multi_step_gpu expects a non-empty x_seq of shape [T, N, ...], got {list(x_seq.shape)}")
    reason = device_reason(x_seq.device)
    if reason is not None:
        raise ValueError(f"multi_step_gpu cannot run: {reason}")
    if x_seq.shape[1:].numel() >= 2**31:
        raise ValueError(f"multi_step_gpu takes fewer than 2^31 neurons per step, got {x_seq.shape[1:].numel()}")


def multi_step_gpu(x_seq: Tensor, v0: Union[Tensor, float], *, charge: str, v_threshold, v_reset, surrogate,
                   detach_reset: bool = False, time_chunk: Optional[int] = DEFAULT_TIME_CHUNK,
                   **named) -> tuple[Tensor, Tensor, Optional[Tensor]]:
    """Run a whole sequence through the Triton kernels; returns ``(spikes, v_T, second state or None)``.

    Arguments as ``cpu.multi_step``; ``x_seq`` is a float32 CUDA tensor (or a CPU tensor with
    ``TRITON_INTERPRET=1``), initial states one step's shape on the same device, or numbers.
    """
    check_input(x_seq)
    spec, rest = spec_from_keywords(charge, v_threshold, v_reset, surrogate, detach_reset, named)
    arguments.keywords(spec, x_seq, [v0, *rest], "multi_step_gpu")
    s, state = run(LAUNCHER, spec, x_seq, [v0, *rest], time_chunk)
    return s, state[0], (state[1] if len(state) > 1 else None)


#: The same signature as ``cpu.multi_step``.
multi_step = multi_step_gpu
