"""Rank-order (intensity-to-latency) coding: the stronger an input, the earlier its one spike.

Within each sample the inputs above zero are sorted, strongest first, and dealt into ``T`` time
steps of (nearly) equal size: the ``n`` firing inputs of a sample fill ``ceil(n / T)`` per step,
so the first step holds the strongest ``ceil(n / T)`` inputs. Inputs equal to 0 never fire. Equal
values keep their order of appearance (a stable sort), so the code is deterministic::

    rank(i)  = position of x_i among the sample's positive inputs, in decreasing order (0 first)
    t(i)     = floor(rank(i) / ceil(n / T))              in [0, T - 1]; inf where x_i = 0

A stronger input never fires after a weaker one, whatever the scale of the values: the code
depends on the order only (the contrast of the DoG front end, :mod:`spikesmith.encoding.dog`,
needs no rescaling to [0, 1]).

``rank_order_times`` gives the spike steps ``[N, ...]`` (``inf``: no spike); ``rank_order_encode``
the spike trains ``[T, N, ...]``, or with ``cumulative=True`` the inputs that have fired by each
step (what a non-leaky integrate-and-fire layer integrates)::

    >>> rank_order_times(torch.tensor([[0.2, 0.9, 0.0, 0.5]]), T=3)
    tensor([[2., 0., inf, 1.]])
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ._checks import check_float_tensor, check_T
from .latency import times_to_spikes

__all__ = ["rank_order_times", "rank_order_encode"]


def rank_order_times(x: Tensor, T: int) -> Tensor:
    """Spike step of each input of ``x`` ``[N, ...]`` (see the module docstring); float, ``inf`` = none."""
    where = "rank_order_times"
    T = check_T(T, where)
    x = check_float_tensor(x, where)
    if x.dim() < 2:
        raise ValueError(f"{where}: x must be [N, ...] with the samples first, got shape {list(x.shape)}; "
                         f"add the batch dimension, e.g. x.unsqueeze(0)")
    if x.numel() and (bool((x < 0).any()) or not bool(torch.isfinite(x).all())):
        raise ValueError(f"{where}: x must be finite and >= 0 (0: no spike), got values in "
                         f"[{float(x.min()):g}, {float(x.max()):g}]; split signed inputs into on/off channels "
                         f"(e.g. encoding.dog_on_off)")
    n = math.prod(x.shape[1:])
    flat = x.reshape(x.shape[0], n)
    order = torch.sort(flat, dim=1, descending=True, stable=True).indices
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(n, device=x.device).expand_as(order))
    firing = (flat > 0).sum(1, keepdim=True)
    per_step = torch.div(firing + T - 1, T, rounding_mode="floor").clamp_min(1)
    times = torch.div(rank, per_step, rounding_mode="floor").to(torch.float32 if x.dtype != torch.float64
                                                                  else torch.float64)
    times = torch.where(flat > 0, times, torch.full_like(times, math.inf))
    return times.reshape(x.shape)


def rank_order_encode(x: Tensor, T: int, cumulative: bool = False) -> Tensor:
    """``[N, ...] -> [T, N, ...]`` in ``x.dtype``: one spike per positive input at its rank-order step,
    or with ``cumulative`` a 1 from that step on (``S_cum[t] = sum of S[0..t]``)."""
    times = rank_order_times(x, T)
    if cumulative:
        steps = torch.arange(T, dtype=times.dtype, device=times.device).view(-1, *([1] * times.dim()))
        return (times.unsqueeze(0) <= steps).to(x.dtype)
    return times_to_spikes(times, T, dtype=x.dtype)
