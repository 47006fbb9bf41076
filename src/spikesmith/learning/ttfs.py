"""Exact first-spike times of non-leaky integrate-and-fire neurons with exponentially decaying
synaptic currents (Mostafa 2017), in closed form and differentiable by autograd.

Time is in units of the synaptic time constant. An input spike at ``t_i`` through weight ``w_i``
adds ``w_i (1 - exp(-(t - t_i)))`` to the membrane potential for ``t > t_i``; the neuron fires once,
when the potential first reaches 1. With ``z = exp(t)`` and the causal set ``C`` (the inputs before
the output spike), the spike is at

    z_out = sum_C w_i z_i / (sum_C w_i - 1)        (sum_C w_i > 1)

so ``t_out = log z_out`` is a smooth function of the weights and the input times once the causal set
is known. The causal set is the first prefix of the inputs, in time order, whose candidate spike
falls before the next input: found without gradient, then the closed form carries the exact
gradient (``torch.autograd``). A neuron whose inputs never sum past 1 does not fire: its time is
``inf`` (``fired`` False).

Two entry points, one rule:

- :func:`first_spike_times`: any input times ``N x M`` (``inf``: no spike); sorts them per sample.
- :func:`first_spike_times_levels`: inputs on a few shared times (pixels coded on ``L`` latency
  levels): per-level sums are one matrix product, ``O(N L M K)`` on BLAS instead of a sort.

Both take a ``bias``: the weight of a reference spike at time 0 per output neuron.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor

__all__ = ["first_spike_times", "first_spike_times_levels", "latency_levels", "crossing"]


def crossing(sum_w: Tensor, sum_wz: Tensor, z_start: Tensor, z_next: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """The first threshold crossing over consecutive input intervals.

    ``sum_w``, ``sum_wz``: ``N x L x K`` sums of ``w`` and ``w z`` over the inputs up to interval
    ``l``; the interval runs from ``z_start`` to ``z_next`` (``N x L`` or ``L``; ``inf`` closes the
    last). Returns ``(t_out, fired, total_w)``: ``N x K`` spike times (``inf`` where none), whether
    each neuron fired, and the weight sum of its causal inputs (of all inputs where it did not fire).
    """
    n, levels, k = sum_w.shape
    if z_start.dim() == 1:
        z_start, z_next = z_start.expand(n, levels), z_next.expand(n, levels)
    with torch.no_grad():
        excess = sum_w - 1
        candidate = sum_wz / excess.clamp_min(1e-30)
        valid = (excess > 0) & (candidate < z_next.unsqueeze(-1)) & (candidate >= z_start.unsqueeze(-1) * (1 - 1e-6))
        fired = valid.any(1)
        first = torch.where(fired, valid.float().argmax(1), torch.full_like(fired, levels - 1, dtype=torch.long))
    index = first.unsqueeze(1)
    w_causal = sum_w.gather(1, index).squeeze(1)
    wz_causal = sum_wz.gather(1, index).squeeze(1)
    safe_excess = torch.where(fired, w_causal - 1, torch.ones_like(w_causal))
    safe_wz = torch.where(fired, wz_causal, torch.ones_like(wz_causal))
    t_out = torch.where(fired, torch.log(safe_wz / safe_excess), torch.full_like(w_causal, math.inf))
    return t_out, fired, w_causal


def first_spike_times(t_in: Tensor, weight: Tensor, bias: Optional[Tensor] = None) -> tuple[Tensor, Tensor, Tensor]:
    """Spike times ``N x K`` of ``K`` neurons driven by input spike times ``t_in`` (``N x M``, ``inf``
    for an input that did not fire) through ``weight`` (``M x K``); see :func:`crossing` for the result."""
    if t_in.dim() != 2 or weight.dim() != 2 or t_in.shape[1] != weight.shape[0]:
        raise ValueError(f"first_spike_times takes input times N x M and weights M x K, got {list(t_in.shape)} and "
                         f"{list(weight.shape)}; flatten the inputs to N x M")
    if torch.isnan(t_in).any():
        raise ValueError("input spike times hold NaN; give inf for an input that does not fire")
    if bias is not None:        # the reference spike at time 0
        t_in = torch.cat([torch.zeros_like(t_in[:, :1]), t_in], 1)
        weight = torch.cat([bias.unsqueeze(0), weight], 0)
    t_sorted, order = torch.sort(t_in, dim=1)
    fired_in = torch.isfinite(t_sorted)
    z = torch.exp(torch.where(fired_in, t_sorted, torch.zeros_like(t_sorted)))
    w_sorted = weight[order] * fired_in.unsqueeze(-1)                     # N x M x K, silent inputs weigh 0
    sum_w = w_sorted.cumsum(1)
    sum_wz = (w_sorted * z.unsqueeze(-1)).cumsum(1)
    z_start = torch.where(fired_in, z, torch.full_like(z, math.inf)).detach()
    z_next = torch.cat([z_start[:, 1:], torch.full_like(z_start[:, :1], math.inf)], 1)
    return crossing(sum_w, sum_wz, z_start, z_next)


def latency_levels(x: Tensor, levels: int, window: float) -> tuple[Tensor, Tensor]:
    """Intensity-to-latency coding on ``levels`` shared times: ``x`` in [0, 1] (``N x M``) -> the one-hot
    level of each input ``N x levels x M`` (level 0: ``x = 1``, at time 0; ``x = 0`` does not fire) and
    the level times ``levels`` (``(1 - x) * window``, ``x`` rounded to the nearest of ``levels`` steps)."""
    if levels < 2:
        raise ValueError(f"levels must be an int >= 2, got {levels!r}; e.g. 17 (the digits' own 0..16 grey levels)")
    if torch.isnan(x).any():
        raise ValueError("pixel intensities hold NaN; give values in [0, 1] (0: the pixel does not fire)")
    step = torch.round((1 - x.clamp(0, 1)) * (levels - 1)).long()             # 0 brightest .. levels-1 darkest
    silent = x <= 0
    onehot = torch.nn.functional.one_hot(step.clamp(0, levels - 1), levels).to(x.dtype)   # N x M x L
    onehot = (onehot * (~silent).unsqueeze(-1)).transpose(1, 2)
    times = torch.arange(levels, dtype=x.dtype, device=x.device) * (window / (levels - 1))
    return onehot, times


def first_spike_times_levels(onehot: Tensor, times: Tensor, weight: Tensor,
                             bias: Optional[Tensor] = None) -> tuple[Tensor, Tensor, Tensor]:
    """:func:`first_spike_times` for inputs on shared ``times`` (``L``, ascending): ``onehot``
    ``N x L x M`` says which inputs fire at each; ``weight`` ``M x K``."""
    if onehot.dim() != 3 or onehot.shape[1] != times.shape[0] or onehot.shape[2] != weight.shape[0]:
        raise ValueError(f"first_spike_times_levels takes levels N x L x M, L times and weights M x K, got "
                         f"{list(onehot.shape)}, {list(times.shape)} and {list(weight.shape)}")
    per_level = onehot @ weight                                   # N x L x K: the weight arriving at each level
    if bias is not None:
        if float(times[0]) != 0.0:
            raise ValueError("the reference spike is at time 0: the first level time must be 0")
        per_level = torch.cat([per_level[:, :1] + bias, per_level[:, 1:]], 1)
    z = torch.exp(times)
    sum_w = per_level.cumsum(1)
    sum_wz = (per_level * z.view(1, -1, 1)).cumsum(1)
    z_next = torch.cat([z[1:], z.new_full((1,), math.inf)])
    return crossing(sum_w, sum_wz, z, z_next)
