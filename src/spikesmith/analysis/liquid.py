"""Measures of a reservoir (liquid): memory capacity, the fading-memory curve, the separation
property. Pure functions of states and inputs, so any reservoir (spiking or an echo-state network)
can be measured.

Memory capacity (Jaeger 2002): for an i.i.d. random input u(t) and states x(t) [T, features],
a linear readout y_k(t) = w_k . x(t) + b_k is fitted (ridge) to reproduce u(t - k), and

    MC_k = corr(u(t - k), y_k(t))^2        (the fading-memory curve, one value per delay k)
    MC   = sum_k MC_k

Delay 0 (the current input) is counted: a delay line of L units holding u(t) ... u(t - L + 1)
has capacity L. The readouts are fitted on the first ``train_fraction`` of the time steps (after
``washout``) and MC_k is measured on the rest, so a large reservoir cannot score by over-fitting.

Separation: for pairs of inputs (a, b), the distance of the liquid states ||x_a - x_b|| against
the distance of the inputs; a good liquid maps more distant inputs to more distant states.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import torch
from torch import Tensor

from ..models.lsm_readout import RidgeReadout

__all__ = ["MemoryCurve", "filtered_distance", "memory_capacity", "memory_curve", "separation",
           "separation_curve", "squared_correlation"]


@dataclass(frozen=True)
class MemoryCurve:
    delays: tuple            # the delays k, in time steps of the states
    r2: Tensor               # MC_k, float64 [len(delays)]: the fading-memory curve

    @property
    def capacity(self) -> float:
        return float(self.r2.sum())


def squared_correlation(a: Tensor, b: Tensor) -> float:
    """corr(a, b)^2 over samples (0 when either is constant)."""
    a, b = a.to(torch.float64) - a.double().mean(), b.to(torch.float64) - b.double().mean()
    denominator = float((a * a).sum() * (b * b).sum())
    return 0.0 if denominator == 0 else float((a * b).sum()) ** 2 / denominator


def memory_curve(states: Tensor, inputs: Tensor, delays: Optional[Sequence[int]] = None, max_delay: int = 40,
                 washout: int = 0, train_fraction: float = 0.7, alpha: float = 1e-6) -> MemoryCurve:
    """MC_k for each delay k (default 0 ... max_delay). states [T, features], inputs [T]."""
    if not isinstance(states, Tensor) or states.dim() != 2:
        raise ValueError(f"memory_curve: states must be [T, features], got "
                         f"{tuple(states.shape) if isinstance(states, Tensor) else type(states).__name__}; "
                         f"for a batch of one, pass states[:, 0]")
    inputs = inputs.reshape(-1) if isinstance(inputs, Tensor) and inputs.dim() == 2 and 1 in inputs.shape[1:] \
        else inputs
    if not isinstance(inputs, Tensor) or inputs.shape != (states.shape[0],):
        raise ValueError(f"memory_curve: inputs must be [T={states.shape[0]}] (one scalar input per state), got "
                         f"{tuple(inputs.shape) if isinstance(inputs, Tensor) else type(inputs).__name__}")
    delays = tuple(range(max_delay + 1)) if delays is None else tuple(int(k) for k in delays)
    if not delays or min(delays) < 0:
        raise ValueError(f"memory_curve: delays must be non-negative ints, got {delays}")
    first = washout + max(delays)
    n = states.shape[0] - first
    n_train = int(n * train_fraction)
    if n_train < 2 or n - n_train < 2:
        raise ValueError(f"memory_curve: {states.shape[0]} steps leave {n} after washout {washout} and the "
                         f"largest delay {max(delays)}; give more steps or fewer delays")
    x = states[first:].to(torch.float64)
    r2 = []
    for k in delays:
        target = inputs[first - k: states.shape[0] - k].to(torch.float64)
        readout = RidgeReadout(alpha).fit(x[:n_train], target[:n_train])
        r2.append(squared_correlation(readout(x[n_train:])[:, 0], target[n_train:]))
    return MemoryCurve(delays, torch.tensor(r2, dtype=torch.float64))


def memory_capacity(states: Tensor, inputs: Tensor, **kwargs) -> float:
    """Jaeger's memory capacity, sum_k MC_k (see :func:`memory_curve` for the arguments)."""
    return memory_curve(states, inputs, **kwargs).capacity


def filtered_distance(a: Tensor, b: Tensor, tau: float = 5.0) -> Tensor:
    """Distance of two input sequences [T, N, features] per sample [N]: the L2 norm of their
    difference low-pass filtered with exp(-t/tau) (in steps), divided by sqrt(T)."""
    if a.shape != b.shape or a.dim() != 3:
        raise ValueError(f"filtered_distance: a and b must have one shape [T, N, features], got "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    decay = torch.exp(torch.tensor(-1.0 / tau, dtype=torch.float64))
    trace = torch.zeros(a.shape[1:], dtype=torch.float64)
    total = torch.zeros(a.shape[1], dtype=torch.float64)
    for t in range(a.shape[0]):
        trace = trace * decay + (a[t] - b[t]).double()
        total += (trace * trace).sum(-1)
    return (total / a.shape[0]).sqrt()


def separation(liquid: Callable[[Tensor], Tensor], inputs_a: Tensor, inputs_b: Tensor,
               tau: float = 5.0) -> tuple[Tensor, Tensor]:
    """(input distance [N], state distance [N]) for N pairs of inputs [T, N, features];
    ``liquid`` maps inputs to states [N, features] (e.g. ``lambda x: lsm(x).states[-1]``)."""
    state_a, state_b = liquid(inputs_a), liquid(inputs_b)
    if state_a.shape != state_b.shape or state_a.shape[0] != inputs_a.shape[1]:
        raise ValueError(f"separation: liquid must return states [N={inputs_a.shape[1]}, features], got "
                         f"{tuple(state_a.shape)}")
    state_distance = (state_a.double() - state_b.double()).flatten(1).norm(dim=1)
    return filtered_distance(inputs_a, inputs_b, tau), state_distance


def separation_curve(input_distance: Tensor, state_distance: Tensor, bins: int = 5) -> tuple[Tensor, Tensor]:
    """(bin centres, mean state distance per bin) over equal-width bins of input distance; bins
    with no pair are left out."""
    lo, hi = float(input_distance.min()), float(input_distance.max())
    edges = torch.linspace(lo, hi if hi > lo else lo + 1.0, bins + 1, dtype=torch.float64)
    which = torch.bucketize(input_distance.double(), edges[1:-1], right=True)
    centres, means = [], []
    for i in range(bins):
        pick = which == i
        if bool(pick.any()):
            centres.append(float((edges[i] + edges[i + 1]) / 2))
            means.append(float(state_distance[pick].double().mean()))
    return torch.tensor(centres, dtype=torch.float64), torch.tensor(means, dtype=torch.float64)
