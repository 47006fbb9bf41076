"""The Victor–Purpura distance: the cheapest way to edit one spike train into another.

Deleting or inserting a spike costs 1; moving a spike by ``dt`` costs ``q |dt|``. So two spikes closer
than ``2 / q`` are moved, farther ones are deleted and re-inserted; ``q = 0`` counts the difference in
spike numbers, a large ``q`` counts the spikes that do not coincide (Victor & Purpura 1996).

    D[i, j] = min(D[i-1, j] + 1, D[i, j-1] + 1, D[i-1, j-1] + q |a_i - b_j|),  D[i, 0] = i, D[0, j] = j

The recursion runs over the spikes of ``a``; each row is vectorised (the ``D[i, j-1] + 1`` chain is a
running minimum, ``j + cummin_k(E[k] - k)``) and over the pairs of a batch.

>>> victor_purpura([1.0], [1.5], q=1.0)
0.5
>>> victor_purpura([], [1.0, 2.0], q=1.0)
2.0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
from torch import Tensor

from ._checks import binned_pair, non_negative, positive, spike_times, times_of_bins


def _next_row(prev: Tensor, i: int, a_i: Tensor, b: Tensor, q: float) -> Tensor:
    """Row ``i`` of the DP table from row ``i - 1`` (``prev``: ``B x (m+1)``; ``a_i``: ``B``; ``b``: ``B x m``)."""
    shift = prev[:, :-1] + q * (a_i[:, None] - b).abs()
    best = torch.minimum(prev[:, 1:] + 1.0, shift)
    edge = torch.full_like(prev[:, :1], float(i))
    e = torch.cat([edge, best], dim=1)
    k = torch.arange(e.shape[1], dtype=e.dtype, device=e.device)
    return torch.cummin(e - k, dim=1).values + k


def _pad(trains: list[Tensor]) -> tuple[Tensor, Tensor]:
    lengths = torch.tensor([len(t) for t in trains], dtype=torch.long)
    width = max(int(lengths.max()) if len(trains) else 0, 1)
    padded = torch.zeros(len(trains), width, dtype=torch.float64)
    for row, t in enumerate(trains):
        padded[row, : len(t)] = t
    return padded, lengths


def victor_purpura_batch(trains_a: Sequence, trains_b: Sequence, q: float) -> Tensor:
    """The distance of each pair ``(trains_a[k], trains_b[k])`` as a float64 tensor of shape ``[K]``.

    Every train is a sorted 1-D list of spike times; lengths may differ (padding never reaches a result:
    row ``i`` depends only on earlier rows and column ``j`` only on earlier columns).
    """
    where = "victor_purpura"
    q = non_negative(q, where, "q")
    if len(trains_a) != len(trains_b):
        raise ValueError(f"{where}: trains_a and trains_b must hold the same number of trains, "
                         f"got {len(trains_a)} and {len(trains_b)}")
    a = [spike_times(t, where, f"trains_a[{k}]") for k, t in enumerate(trains_a)]
    b = [spike_times(t, where, f"trains_b[{k}]") for k, t in enumerate(trains_b)]
    if not a:
        return torch.zeros(0, dtype=torch.float64)
    pa, na = _pad(a)
    pb, nb = _pad(b)
    row = torch.arange(pb.shape[1] + 1, dtype=torch.float64).expand(len(a), -1).clone()
    result = row.gather(1, nb[:, None])[:, 0]
    for i in range(1, int(na.max()) + 1):
        row = _next_row(row, i, pa[:, i - 1], pb, q)
        result = torch.where(na == i, row.gather(1, nb[:, None])[:, 0], result)
    return result


def victor_purpura(a: Sequence, b: Sequence, q: float) -> float:
    """The Victor–Purpura distance between two sorted spike-time lists (``q``: cost per unit of time moved)."""
    return float(victor_purpura_batch([a], [b], q)[0])


def victor_purpura_binned(spikes_a: Tensor, spikes_b: Tensor, q: float, dt: float) -> Tensor:
    """The distance between binned trains ``T x ...`` (a spike in step k is at time ``k dt``), one per
    trailing element: a ``T x N`` pair gives ``[N]`` distances. A bin holding n > 1 counts as one spike."""
    where = "victor_purpura_binned"
    dt = positive(dt, where, "dt")
    a, b = binned_pair(spikes_a, spikes_b, where)
    return victor_purpura_batch(times_of_bins(a, dt), times_of_bins(b, dt), q).reshape(a.shape[1:])


MAX_ALIGNMENT_CELLS = 20_000_000        # the alignment keeps its whole table (about 160 MB at this size)


@dataclass(frozen=True)
class Alignment:
    """The cheapest edit of ``a`` into ``b``: ``pairs`` (i, j) moved from ``a[i]`` to ``b[j]``, spikes of ``a``
    deleted (``only_a``) and spikes of ``b`` inserted (``only_b``), with the total cost ``distance``."""

    distance: float
    pairs: tuple[tuple[int, int], ...]
    only_a: tuple[int, ...]
    only_b: tuple[int, ...]


def victor_purpura_alignment(a: Sequence, b: Sequence, q: float) -> Alignment:
    """The edit behind the Victor–Purpura distance (ties prefer a move over a delete and insert)."""
    where = "victor_purpura_alignment"
    q = non_negative(q, where, "q")
    ta, tb = spike_times(a, where, "a"), spike_times(b, where, "b")
    n, m = len(ta), len(tb)
    if (n + 1) * (m + 1) > MAX_ALIGNMENT_CELLS:
        raise ValueError(f"{where}: aligning {n} with {m} spikes needs a {n + 1} x {m + 1} table "
                         f"(more than {MAX_ALIGNMENT_CELLS:,} cells); align shorter windows of the trains, "
                         f"or use victor_purpura for the distance alone")
    rows = [torch.arange(m + 1, dtype=torch.float64)[None]]
    for i in range(1, n + 1):
        rows.append(_next_row(rows[-1], i, ta[i - 1 : i], tb[None], q))
    d = torch.cat(rows).tolist()
    pairs, only_a, only_b = [], [], []
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0 and abs(d[i][j] - (d[i - 1][j - 1] + q * abs(float(ta[i - 1] - tb[j - 1])))) < 1e-9:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif i > 0 and abs(d[i][j] - (d[i - 1][j] + 1.0)) < 1e-9:
            only_a.append(i - 1)
            i -= 1
        else:
            only_b.append(j - 1)
            j -= 1
    return Alignment(float(d[n][m]), tuple(reversed(pairs)), tuple(reversed(only_a)), tuple(reversed(only_b)))
