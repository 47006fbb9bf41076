"""Spike traces: exponentially decaying memories of past spikes, the clock of every STDP rule.

With a step of ``dt`` and a time constant ``tau`` (same unit), the per-step decay is
``d = exp(-dt / tau)`` and, for a spike train ``S[t]``,

    all-to-all (additive):  X[t] = d X[t-1] + S[t]          every earlier spike counts
    nearest spike:          X[t] = S[t] ? 1 : d X[t-1]      only the latest spike counts

so a single spike at step ``t0`` leaves ``X[t0 + k] = exp(-k dt / tau)``. The trace is updated with
the spike of the same step before it is read (a pre and a post spike in the same step count as
dt = 0).

Shapes: ``s_seq`` is ``T x N x ...``; the traces have its shape. The recursion is a loop of ``T``
element-wise operations over the whole ``N x ...`` tensor (no loop over neurons or synapses).

>>> s = torch.zeros(5, 1, 1); s[1] = 1
>>> exp_trace(s, decay=0.5, init=None)[:, 0, 0]
tensor([0.0000, 1.0000, 0.5000, 0.2500, 0.1250])
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor

TRACE_MODES = ("all_to_all", "nearest")


def check_positive(value, owner: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{owner}: {name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{owner}: {name} must be a positive finite number, got {value}")
    return value


def decay_factor(tau: float, dt: float) -> float:
    """The per-step decay ``exp(-dt / tau)`` of a trace with time constant ``tau``."""
    return math.exp(-dt / tau)


def check_trace_mode(mode: str, owner: str) -> str:
    if mode not in TRACE_MODES:
        raise ValueError(f"{owner}: trace must be one of {', '.join(map(repr, TRACE_MODES))}, got {mode!r}")
    return mode


def exp_trace(s_seq: Tensor, decay: float, init: Optional[Tensor] = None, mode: str = "all_to_all") -> Tensor:
    """The trace of ``s_seq`` (``T x N x ...``) at every step, starting from ``init`` (None: zeros).

    Returns a ``T x N x ...`` tensor in ``s_seq``'s dtype; ``out[-1]`` is the state to carry into
    the next call.
    """
    check_trace_mode(mode, "exp_trace")
    out = torch.empty_like(s_seq)
    x = torch.zeros_like(s_seq[0]) if init is None else init.to(s_seq)
    for t, s in enumerate(s_seq.unbind(0)):
        if mode == "all_to_all":
            x = torch.add(s, x, alpha=decay)
        else:
            x = torch.where(s > 0, torch.ones_like(s), x * decay)
        out[t] = x
    return out


def before_spike(trace_seq: Tensor, decay: float, init: Optional[Tensor]) -> Tensor:
    """The trace just before each step's own spike is added (``d X[t-1]``), as triplet rules read it."""
    prev = torch.empty_like(trace_seq)
    prev[0] = 0 if init is None else init.to(trace_seq) * decay
    prev[1:] = trace_seq[:-1] * decay
    return prev


def decay_weights(T: int, decay: float, like: Tensor) -> Tensor:
    """``[d^(T-1), ..., d, 1]``: how much a contribution made at step t is left at the last step."""
    powers = torch.arange(T - 1, -1, -1, dtype=torch.float64, device=like.device)
    return (decay ** powers).to(like.dtype)
