"""Events to dense tensors: event-count frames (``T x P x H x W``) and voxel grids.

Slicing for :func:`to_frame` (exactly one of the three; ``t0``/``t1`` are the first/last event times):

* ``time_window=w`` (µs), ``overlap=o`` (µs, ``0 <= o < w``): window ``k`` covers
  ``[t0 + k (w - o), t0 + k (w - o) + w)``. Only complete windows (ending at or before ``t1 + 1``)
  are kept unless ``include_incomplete=True``, which adds windows until every event is covered.
* ``event_count=n``, ``overlap=o`` (events, ``0 <= o < n``): slice ``k`` holds events
  ``[k (n - o), k (n - o) + n)``; a shorter last slice only with ``include_incomplete=True``.
* ``n_time_bins=T``, ``overlap=f`` (a fraction in ``[0, 1)``): ``T`` windows of equal length
  ``L = (t1 - t0 + 1) / (1 + (T - 1)(1 - f))`` and stride ``L (1 - f)`` tile ``[t0, t1 + 1)``
  exactly, so every event falls in at least one frame and ``T`` is fixed: the choice for
  datasets.

An empty stream gives ``T = 0`` frames for ``time_window`` / ``event_count`` and ``T`` zero frames
for ``n_time_bins``. Events outside ``sensor_size`` raise ValueError.

**Output size.** The number of frames depends on the data (one late timestamp in a damaged file
makes ``time_window`` slicing ask for millions of frames), so every function here computes the
output's size first and raises ValueError naming it when it exceeds ``max_bytes`` (default
:data:`MAX_OUTPUT_BYTES`, 1 GiB) before anything of that size is allocated; pass a larger
``max_bytes=`` (or ``max_bytes=None``: no limit) when the output is really wanted. Working memory
beyond the output grows with the number of events, not with the output.

Example::

    frames = to_frame(ev, (34, 34, 2), n_time_bins=10)     # int32 [10, 2, 34, 34]
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from spikesmith.events.core import check_events, check_sensor_size, sort_events


MAX_OUTPUT_BYTES = 1 << 30
"""Default ``max_bytes`` of :func:`to_frame` and :func:`to_voxel_grid`: 1 GiB of output."""


def check_output_size(shape: tuple[int, ...], dtype: Any, max_bytes: int | None, where: str) -> None:
    """ValueError if an array of ``shape`` and ``dtype`` would take more than ``max_bytes`` bytes."""
    if max_bytes is None:
        return
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, numbers.Integral) or max_bytes <= 0:
        raise ValueError(f"{where}: max_bytes must be a positive int or None (no limit), got {max_bytes!r}")
    n_bytes = math.prod(shape) * np.dtype(dtype).itemsize
    if n_bytes > max_bytes:
        raise ValueError(f"{where}: the output would be {list(shape)} {np.dtype(dtype)} = {n_bytes} bytes "
                         f"({n_bytes / 2**30:.3g} GiB), more than max_bytes={max_bytes}; check the event "
                         "times (one stray timestamp makes a huge time span), or pass fewer or longer "
                         "frames, or a larger max_bytes= (None: no limit)")


def _pos_int(v: Any, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v <= 0:
        raise ValueError(f"to_frame: {name} must be a positive int, got {v!r}")
    return int(v)


def frame_count(t: np.ndarray, time_window: float | None = None, event_count: int | None = None,
                n_time_bins: int | None = None, overlap: float = 0.0, include_incomplete: bool = False) -> int:
    """The number of frames :func:`frame_windows` gives for the sorted times ``t``; nothing is allocated."""
    return _plan(t, time_window, event_count, n_time_bins, overlap, include_incomplete)[0]


def _plan(t: np.ndarray, time_window: float | None, event_count: int | None, n_time_bins: int | None,
          overlap: float, include_incomplete: bool) -> tuple[int, str, float]:
    """Check the slicing arguments: ``(number of frames, which slicing, stride)``."""
    given = [name for name, v in (("time_window", time_window), ("event_count", event_count),
                                  ("n_time_bins", n_time_bins)) if v is not None]
    if len(given) != 1:
        raise ValueError("to_frame: pass exactly one of time_window, event_count, n_time_bins; "
                         f"got {given or 'none'}")
    if isinstance(overlap, bool) or not isinstance(overlap, numbers.Real) or not np.isfinite(overlap) or overlap < 0:
        raise ValueError(f"to_frame: overlap must be a finite number >= 0, got {overlap!r}")
    n = t.size
    if event_count is not None:
        count = _pos_int(event_count, "event_count")
        if overlap != int(overlap) or overlap >= count:
            raise ValueError(f"to_frame: with event_count={count}, overlap must be an int in 0..{count - 1}, "
                             f"got {overlap!r}")
        stride = count - int(overlap)
        if n == 0:
            k = 0
        elif include_incomplete:
            k = -(-max(n - count, 0) // stride) + 1
        else:
            k = (n - count) // stride + 1 if n >= count else 0
        return k, "event_count", stride
    if time_window is not None:
        if isinstance(time_window, bool) or not isinstance(time_window, numbers.Real) or not (
                np.isfinite(time_window) and time_window > 0):
            raise ValueError(f"to_frame: time_window must be a number > 0 (µs), got {time_window!r}")
        window = float(time_window)
        if overlap >= window:
            raise ValueError(f"to_frame: overlap must be smaller than time_window={time_window}, got {overlap!r}")
        stride = window - float(overlap)
        if n == 0:
            return 0, "time_window", stride
        t0, t1 = int(t[0]), int(t[-1])
        if include_incomplete:
            k = math.floor((t1 - t0) / stride) + 1
        else:
            k = math.floor((t1 + 1 - t0 - window) / stride) + 1 if t1 + 1 - t0 >= window else 0
        return k, "time_window", stride
    bins = _pos_int(n_time_bins, "n_time_bins")
    if overlap >= 1:
        raise ValueError(f"to_frame: with n_time_bins, overlap is a fraction in [0, 1), got {overlap!r}")
    return bins, "n_time_bins", 0.0


def frame_windows(t: np.ndarray, time_window: float | None = None, event_count: int | None = None,
                  n_time_bins: int | None = None, overlap: float = 0.0,
                  include_incomplete: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Index ranges ``[lo[k], hi[k])`` into the sorted times ``t`` of every frame (see the module doc).

    ``lo`` and ``hi`` hold one entry per frame: check :func:`frame_count` first when ``t`` may
    come from a damaged file.
    """
    k, kind, stride = _plan(t, time_window, event_count, n_time_bins, overlap, include_incomplete)
    n = t.size
    if kind == "event_count":
        count = int(event_count)
        lo = np.arange(k, dtype=np.int64) * int(stride)
        return lo, np.minimum(lo + count, n)
    if n == 0:
        z = np.zeros(k, np.int64)
        return z, z
    t0, t1 = int(t[0]), int(t[-1])
    if kind == "time_window":
        starts = t0 + np.arange(k, dtype=np.float64) * stride
        ends = starts + float(time_window)
    else:
        span = float(t1 - t0 + 1)
        length = span / (1.0 + (k - 1) * (1.0 - float(overlap)))
        starts = t0 + np.arange(k, dtype=np.float64) * length * (1.0 - float(overlap))
        ends = starts + length
        ends[-1] = t1 + 1  # absorb rounding: the last frame always ends after the last event
    lo = np.searchsorted(t, starts, side="left")
    hi = np.searchsorted(t, ends, side="left")
    return lo.astype(np.int64), hi.astype(np.int64)


def to_frame(events: np.ndarray, sensor_size: Any, time_window: float | None = None,
             event_count: int | None = None, n_time_bins: int | None = None, overlap: float = 0.0,
             include_incomplete: bool = False, dtype: Any = np.int32,
             max_bytes: int | None = MAX_OUTPUT_BYTES) -> np.ndarray:
    """Count events per pixel and polarity in each time slice: ``[T, P, H, W]`` integers.

    ``frames[k, p, y, x]`` is the number of events with that polarity at ``(x, y)`` in slice
    ``k``. ``dtype`` is any integer dtype; a count that does not fit raises ValueError (no
    wrap-around). See the module doc for the slicing rules. An output above ``max_bytes``
    (default 1 GiB; None: no limit) raises ValueError naming its size before it is allocated.
    """
    check_events(events, sensor_size, "to_frame: events")
    w, h, p = check_sensor_size(sensor_size)
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.integer):
        raise ValueError(f"to_frame: dtype must be an integer dtype, got {dtype}")
    ev = sort_events(events)
    frames_n = frame_count(ev["t"], time_window, event_count, n_time_bins, overlap, include_incomplete)
    check_output_size((frames_n, p, h, w), dtype, max_bytes, "to_frame")
    lo, hi = frame_windows(ev["t"], time_window, event_count, n_time_bins, overlap, include_incomplete)
    plane = p * h * w
    if frames_n == 0 or ev.size == 0:
        return np.zeros((frames_n, p, h, w), dtype=dtype)
    flat = (ev["p"].astype(np.int64) * h + ev["y"]) * w + ev["x"]
    lengths = hi - lo
    total = int(lengths.sum())
    # for each frame k, the events lo[k]..hi[k]: one gather and one bincount for all frames
    frame_of = np.repeat(np.arange(frames_n, dtype=np.int64), lengths)
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    idx = np.repeat(lo, lengths) + offsets
    # count only the cells that get events: working memory grows with the events, not the output
    cells, counts = np.unique(frame_of * plane + flat[idx], return_counts=True)
    if counts.size and counts.max() > np.iinfo(dtype).max:
        raise ValueError(f"to_frame: a pixel counts {counts.max()} events, more than {dtype} holds; "
                         "pass a wider dtype")
    out = np.zeros(frames_n * plane, dtype=dtype)
    out[cells] = counts
    return out.reshape(frames_n, p, h, w)


def to_voxel_grid(events: np.ndarray, sensor_size: Any, n_time_bins: int,
                  max_bytes: int | None = MAX_OUTPUT_BYTES) -> np.ndarray:
    """Voxel grid (Zhu et al. 2019): float32 ``[T, 1, H, W]``, polarity spread linearly over two bins.

    Times are mapped to ``s = (T - 1)(t - t0) / (t1 - t0)`` (``s = 0`` when ``t1 == t0``); an event
    of value ``v`` (+1 for ON, -1 for OFF; +1 when ``P == 1``) adds ``v (1 - (s - floor s))`` to bin
    ``floor s`` and ``v (s - floor s)`` to bin ``floor s + 1``. An empty stream gives zeros.
    Contributions are summed in float64, in event order, then rounded to float32. An output above
    ``max_bytes`` (default 1 GiB; None: no limit) raises ValueError before it is allocated.
    """
    check_events(events, sensor_size, "to_voxel_grid: events")
    w, h, p = check_sensor_size(sensor_size)
    bins = _pos_int(n_time_bins, "n_time_bins")
    check_output_size((bins, 1, h, w), np.float32, max_bytes, "to_voxel_grid")
    grid = np.zeros(bins * h * w, dtype=np.float32)
    if events.size:
        t = events["t"].astype(np.float64)
        t0, t1 = t.min(), t.max()
        s = (bins - 1) * (t - t0) / (t1 - t0) if t1 > t0 else np.zeros_like(t)
        left = np.floor(s).astype(np.int64)
        frac = s - left
        value = np.where(events["p"] > 0, 1.0, -1.0) if p == 2 else np.ones(events.size)
        pix = events["y"].astype(np.int64) * w + events["x"]
        right = left + 1
        ok = right < bins
        # sum per touched cell only (float64, left parts then right parts, each in event order)
        cell = np.concatenate([left * h * w + pix, right[ok] * h * w + pix[ok]])
        weight = np.concatenate([value * (1.0 - frac), (value * frac)[ok]])
        cells, slot = np.unique(cell, return_inverse=True)
        grid[cells] = np.bincount(slot, weights=weight, minlength=cells.size)
    return grid.reshape(bins, 1, h, w)
