"""Event arrays: one NumPy structured array per stream, and the sensor size that goes with it.

An event is ``(x, y, t, p)``: the pixel column and row, the time in microseconds and the polarity
(0 = OFF, brightness fell; 1 = ON, brightness rose). The dtype is fixed::

    EVENT_DTYPE = [("x", "<i2"), ("y", "<i2"), ("t", "<i8"), ("p", "i1")]

The field names are Tonic's, so ``events["t"]`` means the same in both. A sensor size is
``(W, H, P)``: width, height and number of polarities (2, or 1 after merging); a valid event has
``0 <= x < W``, ``0 <= y < H`` and ``0 <= p < P``. Streams are ordered by time; functions that
need the order say so and sort (stably) when it is missing.

Example::

    ev = make_events(x=[0, 3], y=[1, 2], t=[10, 25], p=[1, 0])
    check_events(ev, (34, 34, 2))           # ValueError if a coordinate lies outside the sensor
    ev2 = from_structured(tonic_array)      # any dtype with x, y, t (or ts) and p (or polarity)
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

EVENT_DTYPE = np.dtype([("x", "<i2"), ("y", "<i2"), ("t", "<i8"), ("p", "i1")])
"""The one event dtype used everywhere in :mod:`spikesmith.events`."""

MAX_COORD = int(np.iinfo(np.int16).max)  # x and y are int16: sensors up to 32767 pixels wide

_T_NAMES = ("t", "ts", "timestamp", "timestamps")
_P_NAMES = ("p", "polarity", "pol", "on")


def check_sensor_size(sensor_size: Any, where: str = "sensor_size") -> tuple[int, int, int]:
    """``sensor_size`` as a tuple of three positive ints ``(W, H, P)``; ValueError otherwise.

    ``W`` and ``H`` must fit int16 coordinates (at most 32768); ``P`` is 1 or 2.
    """
    try:
        values = tuple(sensor_size)
    except TypeError:
        values = None
    if values is None or len(values) != 3 or not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
        raise ValueError(f"{where} must be (W, H, P), three ints, e.g. (34, 34, 2); got {sensor_size!r}")
    w, h, p = (int(v) for v in values)
    if not (1 <= w <= MAX_COORD + 1 and 1 <= h <= MAX_COORD + 1):
        raise ValueError(f"{where}: width and height must be in 1..{MAX_COORD + 1}, got {sensor_size!r}")
    if p not in (1, 2):
        raise ValueError(f"{where}: the number of polarities P must be 1 or 2, got {sensor_size!r}")
    return w, h, p


def empty_events() -> np.ndarray:
    """A stream with no events (length 0, :data:`EVENT_DTYPE`)."""
    return np.zeros(0, dtype=EVENT_DTYPE)


def make_events(x: Any, y: Any, t: Any, p: Any, sensor_size: Any = None,
                sort: bool = False) -> np.ndarray:
    """Build an event array from four 1-D sequences of equal length.

    Values are checked before the cast: integers only, within the range of each field (no silent
    wrap-around of int16 coordinates). With ``sensor_size`` the events are also checked against the
    sensor (:func:`check_events`); with ``sort=True`` they are stably sorted by time.

    Example::

        make_events([1, 2], [0, 0], [5, 3], [1, 1], sort=True)["t"]   # array([3, 5])
    """
    cols = {}
    for name, values in (("x", x), ("y", y), ("t", t), ("p", p)):
        arr = np.asarray(values)
        if arr.ndim != 1:
            raise ValueError(f"make_events: {name} must be 1-D, got shape {list(arr.shape)}")
        if arr.dtype == bool:
            arr = arr.astype(np.int8)
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            if not np.issubdtype(arr.dtype, np.floating) or not np.all(np.isfinite(arr)) \
                    or not np.all(arr == np.round(arr)):
                raise ValueError(f"make_events: {name} must hold integers, got dtype {arr.dtype}")
        info = np.iinfo(EVENT_DTYPE[name])
        if arr.size and (arr.min() < info.min or arr.max() > info.max):
            raise ValueError(f"make_events: {name} values must lie in {info.min}..{info.max} "
                             f"({EVENT_DTYPE[name]}), got {arr.min()}..{arr.max()}")
        cols[name] = arr
    lengths = {name: len(a) for name, a in cols.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"make_events: x, y, t, p must have the same length, got {lengths}")
    events = np.empty(lengths["x"], dtype=EVENT_DTYPE)
    for name, arr in cols.items():
        events[name] = arr
    if sort:
        events = sort_events(events)
    if sensor_size is not None:
        check_events(events, sensor_size)
    return events


def check_events(events: Any, sensor_size: Any = None, name: str = "events") -> np.ndarray:
    """Return ``events`` if it is a valid event array (and inside ``sensor_size`` if given).

    Raises:
        TypeError: not a 1-D NumPy structured array with exactly :data:`EVENT_DTYPE` (use
            :func:`from_structured` to convert other dtypes).
        ValueError: a coordinate or polarity outside ``sensor_size`` (the message gives the first
            offending event and the ranges found).
    """
    if not isinstance(events, np.ndarray) or events.dtype != EVENT_DTYPE:
        got = f"ndarray of dtype {events.dtype}" if isinstance(events, np.ndarray) else type(events).__name__
        raise TypeError(f"{name} must be a NumPy array of dtype {EVENT_DTYPE.descr} "
                        f"(see spikesmith.events.make_events / from_structured), got {got}")
    if events.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {list(events.shape)}")
    if sensor_size is None or events.size == 0:
        return events
    w, h, p = check_sensor_size(sensor_size)
    bad = ((events["x"] < 0) | (events["x"] >= w) | (events["y"] < 0) | (events["y"] >= h)
           | (events["p"] < 0) | (events["p"] >= p))
    if bad.any():
        i = int(np.argmax(bad))
        e = events[i]
        raise ValueError(
            f"{name}: {int(bad.sum())} event(s) lie outside the sensor (W, H, P) = {(w, h, p)}; first "
            f"at index {i}: x={e['x']}, y={e['y']}, p={e['p']} (ranges found: x {events['x'].min()}.."
            f"{events['x'].max()}, y {events['y'].min()}..{events['y'].max()}, p {events['p'].min()}.."
            f"{events['p'].max()}); crop, downsample or pass the right sensor_size")
    return events


def is_sorted(events: np.ndarray) -> bool:
    """Whether the events are in non-decreasing time order."""
    t = events["t"]
    return bool(t.size < 2 or np.all(t[1:] >= t[:-1]))


def sort_events(events: np.ndarray) -> np.ndarray:
    """The events in non-decreasing time order (stable: equal times keep their order)."""
    if is_sorted(events):
        return events
    return events[np.argsort(events["t"], kind="stable")]


def _field(arr: np.ndarray, names: Sequence[str], what: str) -> np.ndarray:
    fields = arr.dtype.fields or {}
    for n in names:
        if n in fields:  # dtype.fields also lists titles, e.g. ("p", "on") in aedat's dtype
            return arr[n]
    raise ValueError(f"from_structured: no {what} field among {list(arr.dtype.names or ())}; "
                     f"expected one of {list(names)}")


def from_structured(arr: Any, time_scale: float = 1.0) -> np.ndarray:
    """Convert any structured array with x, y, time and polarity fields to :data:`EVENT_DTYPE`.

    Accepts Tonic's per-dataset dtypes (any field order, any integer or bool types), fields named
    ``t``/``ts``/``timestamp`` and ``p``/``polarity``/``pol``/``on``. Polarities are mapped to
    0/1: bools as 0/1, and signed ``-1/+1`` encodings as ``p > 0``. ``time_scale`` multiplies the
    times (e.g. ``1e6`` for seconds) before rounding to integer microseconds.

    Example::

        tonic_like = np.zeros(3, dtype=[("t", "<f8"), ("x", "<u2"), ("y", "<u2"), ("polarity", "?")])
        ev = from_structured(tonic_like)
    """
    arr = np.asarray(arr)
    if arr.dtype.names is None:
        raise TypeError(f"from_structured expects a structured array (named fields), got dtype {arr.dtype}")
    arr = arr.reshape(-1)
    t = _field(arr, _T_NAMES, "time")
    p = _field(arr, _P_NAMES, "polarity").astype(np.int64)
    if p.size and p.min() < 0:
        p = (p > 0).astype(np.int64)
    if time_scale != 1.0 or not np.issubdtype(t.dtype, np.integer):
        t = np.asarray(t, dtype=np.float64) * float(time_scale)
        if t.size and not np.all(np.isfinite(t)):
            raise ValueError("from_structured: times contain NaN or infinite values")
        t = np.round(t)
    return make_events(_field(arr, ("x",), "x"), _field(arr, ("y",), "y"), t, p)


def infer_sensor_size(events: np.ndarray, polarities: int = 2) -> tuple[int, int, int]:
    """The smallest sensor holding ``events``: ``(max x + 1, max y + 1, polarities)`` (1 x 1 when empty)."""
    check_events(events)
    if events.size == 0:
        return 1, 1, polarities
    if events["x"].min() < 0 or events["y"].min() < 0:
        raise ValueError("infer_sensor_size: events have negative coordinates")
    return int(events["x"].max()) + 1, int(events["y"].max()) + 1, polarities
