"""How the kernels see tensors: time-major steps of N neurons, each step one block of memory.

``x_seq`` is ``T x N x ...``; a step may be laid out in any order of its dims (contiguous,
channels_last, ...) as long as it fills one block: the kernels then run on the memory as it is and
their outputs keep the input's layout. States and per-neuron parameters are laid out like a step.
"""

from __future__ import annotations

from typing import Optional, Union

import torch
from torch import Tensor

Scalar = Union[float, Tensor]


def dense_steps(x_seq: Tensor) -> bool:
    """Whether every time step of ``x_seq`` fills one block of memory, in any order of its dims,
    with time the outermost stride."""
    if x_seq.dim() < 1 or x_seq.numel() == 0:
        return False
    step = x_seq.shape[1:].numel()
    if x_seq.shape[0] > 1 and x_seq.stride(0) != step:
        return False
    # chain the dims from the innermost: each next one's stride is the block the ones before fill
    # (no sort, so that torch.compile traces it on symbolic strides too)
    dims = [(x_seq.stride(d), x_seq.shape[d]) for d in range(1, x_seq.dim()) if x_seq.shape[d] > 1]
    expected = 1
    while dims:
        at = next((k for k, (stride, _) in enumerate(dims) if stride == expected), None)
        if at is None:
            return False
        expected *= dims.pop(at)[1]
    return True


def flat(t: Tensor) -> Tensor:
    """The memory of a dense tensor as a 1-d view, in memory order."""
    return t.as_strided((t.numel(),), (1,))


def like_step(value: Union[Tensor, float], step: Tensor, dtype=torch.float32) -> Tensor:
    """``value`` broadcast to one step's shape, laid out in memory like ``step``."""
    out = torch.empty_like(step, dtype=dtype)
    return out.copy_(value.detach().expand(step.shape)) if isinstance(value, Tensor) else out.fill_(float(value))


def param(value: Optional[Scalar], step: Tensor) -> tuple[Tensor, int]:
    """A float32 parameter for the kernel: a 1-element scalar (stride 0) or an N array (stride 1)
    in the memory order of the input's steps."""
    if value is None:
        return torch.zeros(1, dtype=torch.float32, device=step.device), 0
    if not isinstance(value, Tensor):
        return torch.tensor([float(value)], dtype=torch.float32, device=step.device), 0
    value = value.detach()
    if value.numel() == 1:
        return value.reshape(1).to(device=step.device, dtype=torch.float32), 0
    return flat(like_step(value, step)), 1
