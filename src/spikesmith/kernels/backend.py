"""Which implementation runs a neuron's multi-step call: the ``scan`` reference or a fused kernel.

    backend = choose(requested, x_seq, state, spec, owner="LIFNode", reason=None)
    s_seq, state = run(backend, spec, x_seq, state)      # for 'cpu' and 'triton'

``'torch'`` is the reference ``scan`` loop; ``'cpu'`` the fused C++ kernels (float32 CPU tensors);
``'triton'`` the same kernels in Triton (float32 CUDA tensors, or CPU tensors under Triton's
interpreter, ``TRITON_INTERPRET=1``); ``'auto'`` (the neurons' default) takes ``'cpu'`` for CPU
inputs and ``'triton'`` for CUDA inputs where they can run the call, and ``'torch'`` otherwise.
A fused backend named explicitly that cannot run the call is an error that says why.
"""

from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import Tensor

from . import cpu, fused, gpu
from .contract import KernelSpec

#: The backends a neuron may name.
BACKENDS = ["auto", "torch", "cpu", "triton"]

_LAUNCHERS = {"cpu": cpu.LAUNCHER, "triton": gpu.LAUNCHER}


def check_backend(backend: str, owner: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"{owner}: unknown backend {backend!r}; available backends: {', '.join(BACKENDS)}")
    return backend


def fused_target(requested: str, device: torch.device) -> str:
    """The fused backend a call would use: the one named, or for ``'auto'`` the input's device's."""
    if requested in ("cpu", "triton"):
        return requested
    return "triton" if device.type == "cuda" else "cpu"


def obstacle(target: str, x_seq: Tensor, state: Sequence, spec: Optional[KernelSpec]) -> Optional[str]:
    """Why the fused backend ``target`` cannot run this call (None: it can)."""
    if target == "cpu" and x_seq.device.type != "cpu":
        return f"the input is on {x_seq.device} (the fused CPU kernel runs on the CPU)"
    if x_seq.dtype != torch.float32:
        return f"the input is {x_seq.dtype} (the fused kernel takes float32)"
    if x_seq.shape[0] == 0 or x_seq.shape[1:].numel() == 0:
        return "the input is empty"
    if spec is None:
        return "the neuron has no fused kernel"
    tensors = spec.tensors() + [t for t in state if isinstance(t, Tensor)]
    if any(t.dtype != torch.float32 for t in tensors):
        return "a parameter or the state is not float32"
    if spec.surrogate is None or spec.surrogate.kernel_form() is None:
        return f"the surrogate {spec.surrogate!r} declares no kernel form (its class has no kernel_code)"
    if target == "triton":
        return gpu.device_reason(x_seq.device)
    if not cpu.available(spec.charge):
        return f"the kernels could not be built ({cpu.unavailable_reason()})"
    return None


def choose(requested: str, x_seq: Tensor, state: Sequence, spec: Optional[KernelSpec], owner: str,
           reason: Optional[str] = None) -> str:
    """The backend that runs this call: ``requested`` where it can, ``'torch'`` for ``'auto'`` where
    no fused kernel can; ``reason`` is the caller's own reason against a fused kernel (step hooks, ...)."""
    if requested == "torch":
        return "torch"
    target = fused_target(requested, x_seq.device)
    reason = reason or obstacle(target, x_seq, state, spec)
    if reason is None:
        return target
    if requested == "triton" or (requested == "cpu" and cpu.available()):
        raise ValueError(f"{owner}: backend={requested!r} cannot run this call: {reason}; use backend='auto' "
                         f"(which falls back to scan) or backend='torch'")
    return "torch"


def run(backend: str, spec: KernelSpec, x_seq: Tensor, state: Sequence,
        time_chunk: int = fused.DEFAULT_TIME_CHUNK) -> tuple[Tensor, tuple[Tensor, ...]]:
    """Run ``spec`` over ``x_seq`` on the fused ``backend`` (``'cpu'`` or ``'triton'``)."""
    if backend not in _LAUNCHERS:
        raise ValueError(f"run: backend must be one of {', '.join(_LAUNCHERS)}, got {backend!r}")
    return fused.run(_LAUNCHERS[backend], spec, x_seq, state, time_chunk)
