"""The van Rossum distance: the L2 distance between two spike trains filtered by a causal exponential.

Each spike becomes ``exp(-(t - t_f) / tau)`` for ``t >= t_f``; with the normalisation used here,

    D^2 = (2 / tau) * integral (f_a(t) - f_b(t))^2 dt
        = sum_ij K(a_i - a_j) + sum_ij K(b_i - b_j) - 2 sum_ij K(a_i - b_j),   K(x) = exp(-|x| / tau)

so one spike against none is 1 (like a deletion in Victor–Purpura) and two single spikes ``d`` apart are
``sqrt(2 (1 - exp(-|d| / tau)))`` (van Rossum 2001). The binned form runs the trace
``f[k] = exp(-dt / tau) f[k-1] + s[k]`` over ``T x ...`` trains and adds the tail after the last step, so a
train whose spikes lie on the grid ``k dt`` gives the closed form above exactly.

>>> round(van_rossum([0.0], [1.0], tau=1.0) ** 2, 6) == round(2 * (1 - math.exp(-1.0)), 6)
True
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor

from ._checks import binned_pair, pair_sum, positive, spike_times


def _kernel_sum(x: Tensor, y: Tensor, tau: float) -> Tensor:
    return pair_sum(x, y, lambda d: torch.exp(-d.abs() / tau), reach=40.0 * tau)       # e^-40 ~ 4e-18


def van_rossum(a: Sequence, b: Sequence, tau: float) -> float:
    """The van Rossum distance between two sorted spike-time lists (``tau`` in the times' unit)."""
    where = "van_rossum"
    tau = positive(tau, where, "tau")
    ta, tb = spike_times(a, where, "a"), spike_times(b, where, "b")
    squared = _kernel_sum(ta, ta, tau) + _kernel_sum(tb, tb, tau) - 2 * _kernel_sum(ta, tb, tau)
    return math.sqrt(max(float(squared), 0.0))


def van_rossum_binned(spikes_a: Tensor, spikes_b: Tensor, tau: float, dt: float) -> Tensor:
    """The distance between binned trains ``T x ...`` (a value n in a step is n spikes at ``k dt``), one per
    trailing element: a ``T x N`` pair gives ``[N]`` distances. One pass over T, vectorised over the rest."""
    where = "van_rossum_binned"
    tau, dt = positive(tau, where, "tau"), positive(dt, where, "dt")
    a, b = binned_pair(spikes_a, spikes_b, where)
    decay = math.exp(-dt / tau)
    diff = torch.zeros_like(a[0])
    total = torch.zeros_like(a[0])
    for step in (a - b).unbind(0):
        diff = diff * decay + step
        total = total + diff * diff
    keep = -math.expm1(-2 * dt / tau)                                   # 1 - decay^2, exact for a long tau
    squared = total * keep + diff * diff * decay ** 2                   # + the tail after the last step
    return squared.clamp(min=0).sqrt()
