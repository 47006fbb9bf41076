"""The time loop: run a step function over the leading (time) dimension.

    outputs, state = scan(step, x_seq, state)

``step(x_t, state) -> (out_t, state)`` where ``out_t`` is a tensor or a tuple of tensors.
``x_seq`` is ``T x N x ...``; the outputs are stacked into ``T x N x ...`` tensors.
The loop iterates over ``x_seq.unbind(0)`` (never ``x_seq[t]``, whose backward writes a
zero tensor the size of the whole input at every step).
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import Tensor


def scan(step: Callable[[Tensor, Any], tuple[Any, Any]], x_seq: Tensor, state: Any) -> tuple[Any, Any]:
    """Apply ``step`` at every time step; return the stacked outputs and the final state."""
    outs = []
    for x in x_seq.unbind(0):
        out, state = step(x, state)
        outs.append(out)
    if not outs:
        raise ValueError(f"scan needs at least one time step, got x_seq of shape {list(x_seq.shape)}")
    if isinstance(outs[0], tuple):
        return tuple(torch.stack(parts) for parts in zip(*outs)), state
    return torch.stack(outs), state
