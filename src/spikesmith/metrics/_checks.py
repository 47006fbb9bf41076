"""Argument checks shared by the spike-train metrics.

A spike-time list is a sorted 1-D sequence of finite times (list, tuple, numpy array or tensor);
a binned train is a ``T x ...`` tensor (time first) whose nonzero entries are spikes. Every check
raises ``TypeError`` or ``ValueError`` naming the function, the argument, what was given and the fix.
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import Tensor


def spike_times(x: object, where: str = "as_spike_times", name: str = "times", *, allow_empty: bool = True) -> Tensor:
    """``x`` as a float64 1-D tensor of sorted finite spike times, or a one-line error naming ``where`` and
    ``name`` (public as ``metrics.as_spike_times``: the check every metric runs on its trains)."""
    if isinstance(x, Tensor):
        t = x.detach().to(torch.float64).cpu()
    else:
        try:
            t = torch.as_tensor(x, dtype=torch.float64)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise TypeError(f"{where}: {name} must be a 1-D sequence of spike times (list, array or tensor), "
                            f"got {type(x).__name__}") from exc
    if t.dim() != 1:
        raise ValueError(f"{where}: {name} must be a 1-D list of spike times, got shape {list(t.shape)}; "
                         f"pass one train at a time, or a binned T x ... tensor to the *_binned function")
    if t.numel() == 0 and not allow_empty:
        raise ValueError(f"{where}: {name} is empty, but this measure is undefined for a train without spikes; "
                         f"drop empty trains before calling it")
    if not torch.isfinite(t).all():
        raise ValueError(f"{where}: {name} contains NaN or infinite spike times; remove them first")
    if t.numel() > 1 and bool((t[1:] < t[:-1]).any()):
        first = int((t[1:] < t[:-1]).nonzero()[0, 0])
        raise ValueError(f"{where}: {name} must be sorted in time, but spike {first + 1} ({float(t[first + 1]):g}) "
                         f"comes before spike {first} ({float(t[first]):g}); sort it first, e.g. sorted({name})")
    return t


PAIR_BLOCK = 1 << 20                    # entries of a pairwise table held at once (8 MB of float64)
PAIR_ROWS = 256                         # rows per block: few enough that a block's columns are mostly in reach


def pair_sum(x: Tensor, y: Tensor, kernel, reach: float) -> Tensor:
    """``sum_ij kernel(x_i - y_j)`` in float64 for sorted ``x`` and ``y``, skipping pairs farther apart than
    ``reach`` (where the kernel is below double precision), a block of rows at a time: memory stays
    O(PAIR_BLOCK) and time O(pairs within reach), not O(n m), for long trains."""
    total = torch.zeros((), dtype=torch.float64)
    n = x.numel()
    if n == 0 or y.numel() == 0:
        return total
    start, rows = 0, PAIR_ROWS
    while start < n:
        rows = min(max(rows, 1), n - start)
        while True:
            lo = int(torch.searchsorted(y, x[start] - reach))
            hi = int(torch.searchsorted(y, x[start + rows - 1] + reach, right=True))
            if rows == 1 or rows * (hi - lo) <= PAIR_BLOCK:
                break
            rows //= 2
        if hi > lo:
            total = total + kernel(x[start:start + rows, None] - y[None, lo:hi]).sum()
        start += rows
        rows = min(2 * rows, PAIR_ROWS)
    return total


def non_negative(value: object, where: str, name: str) -> float:
    """``value`` as a finite float >= 0 (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: {name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{where}: {name} must be a finite number >= 0, got {value}; "
                         f"pass its absolute value (a cost or a time constant is never negative)")
    return value


def positive(value: object, where: str, name: str) -> float:
    """``value`` as a finite float > 0 (bools refused)."""
    value = non_negative(value, where, name)
    if value == 0:
        raise ValueError(f"{where}: {name} must be > 0, got 0; pass a positive time scale (same unit as the times)")
    return value


def binned_pair(a: object, b: object, where: str) -> tuple[Tensor, Tensor]:
    """Two binned trains of equal shape ``T x ...`` (time first) as float64 tensors."""
    out = []
    for name, x in (("spikes_a", a), ("spikes_b", b)):
        if not isinstance(x, Tensor):
            raise TypeError(f"{where}: {name} must be a T x ... tensor (time first), got {type(x).__name__}; "
                            f"wrap it with torch.as_tensor")
        if x.dim() < 1 or x.shape[0] == 0:
            raise ValueError(f"{where}: {name} must have at least one time step (T x ...), got shape {list(x.shape)}")
        x = x.detach().to(torch.float64)
        if not bool(torch.isfinite(x).all()):
            raise ValueError(f"{where}: {name} contains NaN or infinite values; a binned train holds spike counts")
        out.append(x)
    if out[0].shape != out[1].shape:
        raise ValueError(f"{where}: spikes_a and spikes_b must have the same shape, got {list(out[0].shape)} and "
                         f"{list(out[1].shape)}")
    return out[0], out[1]


def times_of_bins(spikes: Tensor, dt: float) -> list[Tensor]:
    """Spike times (step index x dt) of each trailing element of a ``T x ...`` train, flattened in order."""
    flat = (spikes != 0).reshape(spikes.shape[0], -1)
    return [flat[:, k].nonzero()[:, 0].to(torch.float64) * dt for k in range(flat.shape[1])]
