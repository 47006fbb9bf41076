"""Non-leaky integrate-and-fire neurons that fire at most once (the neurons of the STDP-trained deep
spiking CNN, Kheradpisheh et al. 2018).

A neuron sums its weighted input spikes with no leak and fires the first time the sum reaches the
threshold; after that spike it is silent for the rest of the input (one spike per neuron)::

    V(t) = V(t - 1) + sum_j w_j S_j(t)          V(-1) = 0
    t_fire = min { t : V(t) >= V_th }            (inf: never fires)
    S(t) = 1 if t == t_fire else 0

With one spike per input, ``V(t) = sum_j w_j [t_j <= t]``: the potential at ``t`` is the synaptic
sum of the inputs that have fired by ``t`` (``encoding.rank_order_encode(..., cumulative=True)``),
so a whole layer is one linear map of those cumulative inputs. This module imports only torch.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor

__all__ = ["first_crossing", "if_first_spike", "if_first_spike_times"]


def first_crossing(potentials: Tensor, threshold: float) -> Tensor:
    """The first step at which ``potentials`` ``[T, ...]`` reach ``threshold``: a float ``[...]``, ``inf``
    where they never do."""
    if potentials.dim() < 1 or potentials.shape[0] < 1:
        raise ValueError(f"first_crossing: potentials must be [T, ...] with T >= 1, got shape {list(potentials.shape)}")
    reached = potentials >= threshold
    dtype = potentials.dtype if potentials.is_floating_point() else torch.float32
    first = reached.to(torch.uint8).argmax(0).to(dtype)
    return torch.where(reached.any(0), first, torch.full_like(first, math.inf))


def if_first_spike(currents: Tensor, threshold: float) -> tuple[Tensor, Tensor]:
    """Input currents ``[T, ...]`` (the weighted input spikes of each step) -> ``(spikes, potentials)``,
    both ``[T, ...]``: one spike at most per neuron, at its first crossing of ``threshold``; the
    potentials are the running sums (see the module docstring)."""
    potentials = currents.cumsum(0)
    times = first_crossing(potentials, threshold)
    steps = torch.arange(currents.shape[0], dtype=times.dtype, device=currents.device)
    spikes = (steps.view(-1, *([1] * times.dim())) == times.unsqueeze(0)).to(currents.dtype)
    return spikes, potentials


def if_first_spike_times(potential_at: Callable[[int], Tensor], T: int, threshold: float) -> tuple[Tensor, Tensor]:
    """:func:`first_crossing` without the ``[T, ...]`` tensor: ``potential_at(t)`` gives ``V(t)`` one
    step at a time; returns ``(times, potentials at the spike)`` (``inf`` and 0 where a neuron never
    fires). Memory of one step, for layers whose ``[T, ...]`` potentials would not fit."""
    if isinstance(T, bool) or not isinstance(T, int) or T < 1:
        raise ValueError(f"if_first_spike_times: T must be an int >= 1 (time steps), got {T!r}")
    v = potential_at(0)
    done = v >= threshold
    times = torch.full_like(v, math.inf).masked_fill_(done, 0.0)
    fired_at = torch.where(done, v, torch.zeros_like(v))
    for t in range(1, T):
        v = potential_at(t)
        new = (v >= threshold).logical_and_(done.logical_not())
        times.masked_fill_(new, float(t))
        torch.where(new, v, fired_at, out=fired_at)
        done.logical_or_(new)
    return times, fired_at
