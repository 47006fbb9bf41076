"""The ISI distance (Kreuz et al. 2007): how much the local firing rates of two trains differ over time.

At every instant t each train has a current inter-spike interval x(t) (from its last spike at or before
t to its next one after t). The distance averages their relative difference over the window
``[t_start, t_end]``:

    I(t) = |x_a(t) - x_b(t)| / max(x_a(t), x_b(t)),      D_I = (1 / (t_end - t_start)) integral I(t) dt

The window's edges count as spikes of both trains (the convention of the original paper), so an empty
train has one interval, the whole window. I(t) is constant between the spikes of both trains, so the
integral is a sum over those pieces: exact, vectorised with ``searchsorted``. 0 for identical trains,
below 1 always.

>>> isi_distance([], [5.0], t_start=0.0, t_end=10.0)                 # intervals 10 against 5 everywhere
0.5
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from ._checks import spike_times


def windowed_pair(a: Sequence, b: Sequence, t_start: float, t_end: float, where: str) -> tuple[Tensor, Tensor]:
    """The two trains as checked tensors, after checking the window and that every spike lies in it."""
    for name, value in (("t_start", t_start), ("t_end", t_end)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not float("-inf") < value < float("inf"):
            raise ValueError(f"{where}: {name} must be a finite number, got {value!r}")
    if not t_end > t_start:
        raise ValueError(f"{where}: the window must have t_end > t_start, got [{t_start}, {t_end}]; "
                         f"pass the start and end of the recording")
    ta, tb = spike_times(a, where, "a"), spike_times(b, where, "b")
    for name, t in (("a", ta), ("b", tb)):
        if t.numel() and (float(t[0]) < t_start or float(t[-1]) > t_end):
            raise ValueError(f"{where}: {name} has spikes outside the window [{t_start:g}, {t_end:g}]; "
                             f"widen the window or drop them")
    return ta, tb


def with_edges(t: Tensor, t_start: float, t_end: float) -> Tensor:
    return torch.cat([t.new_tensor([t_start]), t, t.new_tensor([t_end])])


def isi_distance(a: Sequence, b: Sequence, t_start: float, t_end: float) -> float:
    """The ISI distance in [0, 1) of two sorted spike-time lists inside the window ``[t_start, t_end]``."""
    where = "isi_distance"
    ta, tb = windowed_pair(a, b, t_start, t_end, where)
    ea, eb = with_edges(ta, t_start, t_end), with_edges(tb, t_start, t_end)
    cuts = torch.unique(torch.cat([ea, eb]))                                 # sorted breakpoints
    left, right = cuts[:-1], cuts[1:]

    def interval(edges: Tensor) -> Tensor:                                   # each piece's current ISI
        prev = edges[torch.searchsorted(edges, left, right=True) - 1]
        nxt = edges[torch.searchsorted(edges, right, right=False)]
        return nxt - prev

    xa, xb = interval(ea), interval(eb)
    local = (xa - xb).abs() / torch.maximum(xa, xb)
    return float((local * (right - left)).sum() / (t_end - t_start))
