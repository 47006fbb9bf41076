"""Plain functions over event arrays: filters, geometry and time changes, random augmentations.

Each function takes an event array (:data:`~spikesmith.events.core.EVENT_DTYPE`) and returns a
new one; the input is never modified. The dataclasses in :mod:`spikesmith.events.transforms` are
thin wrappers over these.

Conventions shared by all of them:

* **Empty streams** pass through: the result is an empty array of the same dtype.
* **Out-of-range input** (a coordinate or polarity outside ``sensor_size``) is rejected with
  ValueError by every function that takes a ``sensor_size``; nothing is silently wrapped.
* **Out-of-range output**: functions that move events (``spatial_jitter``) drop the events that
  leave the sensor (``outside="drop"``, the default) or clamp them to the border (``"clip"``).
* **Randomness** comes from ``rng``: an ``np.random.Generator``, an int seed, or None (fresh
  entropy). The same seed gives the same result.
* Functions that depend on time order (``denoise``, ``refractory_period``) sort stably first;
  the output is in time order.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from spikesmith.events.core import EVENT_DTYPE, check_events, check_sensor_size, sort_events


def as_rng(rng: Any) -> np.random.Generator:
    """``rng`` as a Generator: a Generator is used as is, an int seeds a new one, None is fresh entropy."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be a numpy Generator, an int seed or None, got {type(rng).__name__}")


def _nonneg(value: Any, name: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value < 0:
        raise ValueError(f"{where}: {name} must be a finite number >= 0, got {value!r}")
    return float(value)


def _prob(value: Any, name: str, where: str) -> float:
    v = _nonneg(value, name, where)
    if v > 1:
        raise ValueError(f"{where}: {name} must be a probability in [0, 1], got {value!r}")
    return v


def _draw(value: Any, name: str, where: str, rng: np.random.Generator) -> float:
    """A number, or a uniform draw from a ``(low, high)`` range."""
    if isinstance(value, tuple):
        if len(value) != 2 or not all(isinstance(v, numbers.Real) for v in value) or value[0] > value[1]:
            raise ValueError(f"{where}: {name} must be a number or a (low, high) range, got {value!r}")
        return float(rng.uniform(value[0], value[1]))
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{where}: {name} must be a finite number or a (low, high) range, got {value!r}")
    return float(value)


def _size2(size: Any, where: str) -> tuple[int, int]:
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        size = (size, size)
    if (not isinstance(size, (tuple, list)) or len(size) != 2
            or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0 for s in size)):
        raise ValueError(f"{where}: size must be a positive int or (width, height), got {size!r}")
    return int(size[0]), int(size[1])


# --------------------------------------------------------------------------- filters


def denoise(events: np.ndarray, sensor_size: Any, filter_time: float) -> np.ndarray:
    """Drop events that no neighbouring pixel supports (background-activity filter).

    An event at ``(x, y, t)`` is kept iff one of its 8 neighbours (not the pixel itself, either
    polarity) had an event at a time ``t'`` with ``t - filter_time <= t' <= t``. Causal: only the
    past and the same instant count, as in an online filter.

    Vectorised: per neighbour offset, a binary search in the events sorted by (pixel, time).
    """
    check_events(events, sensor_size, "denoise: events")
    ft = _nonneg(filter_time, "filter_time", "denoise")
    w, h, _ = check_sensor_size(sensor_size)
    ev = sort_events(events)
    n = ev.size
    if n == 0:
        return ev.copy()
    x = ev["x"].astype(np.int64)
    y = ev["y"].astype(np.int64)
    t = ev["t"]
    rank = np.arange(n, dtype=np.int64)             # position in time order
    pix = y * w + x
    key = pix * n + rank                             # sorted by pixel, then time
    order = np.argsort(key, kind="stable")
    key_sorted = key[order]
    # the last event (in time order) at or before time t_i: events with equal t count as "before"
    last_rank = np.searchsorted(t, t, side="right") - 1
    keep = np.zeros(n, dtype=bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dx == 0 and dy == 0:
                continue
            nx, ny = x + dx, y + dy
            inside = (nx >= 0) & (nx < w) & (ny >= 0) & (ny < h) & ~keep
            if not inside.any():
                continue
            idx = np.nonzero(inside)[0]
            npix = ny[idx] * w + nx[idx]
            pos = np.searchsorted(key_sorted, npix * n + last_rank[idx], side="right") - 1
            ok = pos >= 0
            found = key_sorted[np.where(ok, pos, 0)]
            ok &= (found // n) == npix
            tj = t[found % n]
            ok &= (t[idx] - tj) <= ft
            keep[idx[ok]] = True
    return ev[keep]


def refractory_period(events: np.ndarray, refractory_period: float) -> np.ndarray:
    """Drop events that come less than ``refractory_period`` µs after the last *kept* event of their pixel.

    Polarity is ignored (a pixel is one circuit). ``refractory_period=0`` keeps every event.
    Pixels are processed independently; within a pixel the greedy rule is exact.
    """
    check_events(events, name="refractory_period: events")
    rp = _nonneg(refractory_period, "refractory_period", "refractory_period")
    ev = sort_events(events)
    if ev.size == 0 or rp == 0:
        return ev.copy()
    t = ev["t"]
    pix = (ev["x"].astype(np.int64) << 16) | (ev["y"].astype(np.int64) & 0xFFFF)
    order = np.lexsort((np.arange(ev.size), pix))    # by pixel, then time order
    pix_s, t_s = pix[order], t[order]
    gap = np.empty(ev.size, dtype=bool)
    gap[0] = True
    gap[1:] = (pix_s[1:] != pix_s[:-1]) | (t_s[1:] - t_s[:-1] >= rp)
    keep_s = gap.copy()
    # only pixels with events closer than rp need the greedy walk (a dropped event does not
    # restart the period); that walk is done in Python over those pixels alone
    close = np.nonzero(~gap)[0]
    if close.size:
        starts = np.nonzero(np.r_[True, pix_s[1:] != pix_s[:-1]])[0]
        ends = np.r_[starts[1:], ev.size]
        group = np.searchsorted(starts, close, side="right") - 1
        t_list = t_s.tolist()
        for g in np.unique(group).tolist():
            last = t_list[starts[g]]
            for i in range(starts[g] + 1, ends[g]):
                if t_list[i] - last >= rp:
                    last = t_list[i]
                    keep_s[i] = True
                else:
                    keep_s[i] = False
    keep = np.empty(ev.size, dtype=bool)
    keep[order] = keep_s
    return ev[keep]


def drop_event(events: np.ndarray, p: float | tuple[float, float], rng: Any = None) -> np.ndarray:
    """Drop each event independently with probability ``p`` (or one drawn from a ``(low, high)`` range)."""
    check_events(events, name="drop_event: events")
    gen = as_rng(rng)
    prob = _draw(p, "p", "drop_event", gen)
    _prob(prob, "p", "drop_event")
    if events.size == 0:
        return events.copy()
    return events[gen.random(events.size) >= prob]


def merge_polarities(events: np.ndarray) -> np.ndarray:
    """Set every polarity to 0; the sensor becomes ``(W, H, 1)``."""
    check_events(events, name="merge_polarities: events")
    out = events.copy()
    out["p"] = 0
    return out


# --------------------------------------------------------------------------- geometry


def downsample_sensor_size(sensor_size: Any, spatial_factor: float | tuple[float, float]) -> tuple[int, int, int]:
    """The sensor size after :func:`downsample`: ``floor((W - 1) * fx) + 1`` by ``floor((H - 1) * fy) + 1``."""
    w, h, p = check_sensor_size(sensor_size)
    fx, fy = _factors(spatial_factor, "downsample_sensor_size")
    return int(np.floor((w - 1) * fx + 1e-9)) + 1, int(np.floor((h - 1) * fy + 1e-9)) + 1, p


def _factors(spatial_factor: Any, where: str) -> tuple[float, float]:
    f = spatial_factor if isinstance(spatial_factor, tuple) else (spatial_factor, spatial_factor)
    if len(f) != 2 or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) and 0 < v <= 1 for v in f):
        raise ValueError(f"{where}: spatial_factor must be a number in (0, 1] or a pair (fx, fy), "
                         f"got {spatial_factor!r}")
    return float(f[0]), float(f[1])


def downsample(events: np.ndarray, sensor_size: Any, spatial_factor: float | tuple[float, float] = 1.0,
               time_factor: float = 1.0) -> np.ndarray:
    """Scale coordinates and times: ``x' = floor(x * fx)``, ``y' = floor(y * fy)``, ``t' = floor(t * time_factor)``.

    ``spatial_factor`` in (0, 1] (0.5 halves the resolution; events of merged pixels stay separate
    events); ``time_factor > 0`` (0.001 turns µs into ms). The new sensor size is
    :func:`downsample_sensor_size`. Time order is preserved.
    """
    check_events(events, sensor_size, "downsample: events")
    fx, fy = _factors(spatial_factor, "downsample")
    if isinstance(time_factor, bool) or not isinstance(time_factor, numbers.Real) or not (
            np.isfinite(time_factor) and time_factor > 0):
        raise ValueError(f"downsample: time_factor must be a finite number > 0, got {time_factor!r}")
    out = events.copy()
    if out.size == 0:
        return out
    out["x"] = np.floor(events["x"] * fx + 1e-9).astype(np.int16)
    out["y"] = np.floor(events["y"] * fy + 1e-9).astype(np.int16)
    if time_factor != 1.0:
        t = np.floor(events["t"].astype(np.float64) * float(time_factor))
        out["t"] = t.astype(np.int64)
    return out


def crop(events: np.ndarray, sensor_size: Any, origin: tuple[int, int], size: Any) -> np.ndarray:
    """Keep the events inside the window ``[x0, x0 + w) x [y0, y0 + h)`` and shift it to (0, 0).

    The window must lie inside the sensor (ValueError otherwise); the new sensor is ``(w, h, P)``.
    """
    check_events(events, sensor_size, "crop: events")
    sw, sh, _ = check_sensor_size(sensor_size)
    cw, ch = _size2(size, "crop")
    x0, y0 = (int(v) for v in origin)
    if x0 < 0 or y0 < 0 or x0 + cw > sw or y0 + ch > sh:
        raise ValueError(f"crop: window at {(x0, y0)} of size {(cw, ch)} does not fit the sensor {(sw, sh)}")
    keep = ((events["x"] >= x0) & (events["x"] < x0 + cw) & (events["y"] >= y0) & (events["y"] < y0 + ch))
    out = events[keep]
    out["x"] -= x0
    out["y"] -= y0
    return out


def center_crop(events: np.ndarray, sensor_size: Any, size: Any) -> np.ndarray:
    """:func:`crop` with the window centred: origin ``((W - w) // 2, (H - h) // 2)``."""
    sw, sh, _ = check_sensor_size(sensor_size)
    cw, ch = _size2(size, "center_crop")
    if cw > sw or ch > sh:
        raise ValueError(f"center_crop: size {(cw, ch)} is larger than the sensor {(sw, sh)}")
    return crop(events, sensor_size, ((sw - cw) // 2, (sh - ch) // 2), (cw, ch))


def random_crop(events: np.ndarray, sensor_size: Any, size: Any, rng: Any = None) -> np.ndarray:
    """:func:`crop` at an origin drawn uniformly from every window position that fits."""
    sw, sh, _ = check_sensor_size(sensor_size)
    cw, ch = _size2(size, "random_crop")
    if cw > sw or ch > sh:
        raise ValueError(f"random_crop: size {(cw, ch)} is larger than the sensor {(sw, sh)}")
    gen = as_rng(rng)
    x0 = int(gen.integers(0, sw - cw + 1))
    y0 = int(gen.integers(0, sh - ch + 1))
    return crop(events, sensor_size, (x0, y0), (cw, ch))


def flip_lr(events: np.ndarray, sensor_size: Any, p: float = 1.0, rng: Any = None) -> np.ndarray:
    """With probability ``p`` mirror left-right: ``x' = W - 1 - x`` (``p=1`` always flips)."""
    check_events(events, sensor_size, "flip_lr: events")
    prob = _prob(p, "p", "flip_lr")
    w, _, _ = check_sensor_size(sensor_size)
    out = events.copy()
    if prob >= 1 or (prob > 0 and as_rng(rng).random() < prob):
        out["x"] = w - 1 - events["x"]
    return out


def flip_ud(events: np.ndarray, sensor_size: Any, p: float = 1.0, rng: Any = None) -> np.ndarray:
    """With probability ``p`` mirror up-down: ``y' = H - 1 - y``."""
    check_events(events, sensor_size, "flip_ud: events")
    prob = _prob(p, "p", "flip_ud")
    _, h, _ = check_sensor_size(sensor_size)
    out = events.copy()
    if prob >= 1 or (prob > 0 and as_rng(rng).random() < prob):
        out["y"] = h - 1 - events["y"]
    return out


def spatial_jitter(events: np.ndarray, sensor_size: Any, std_x: float, std_y: float,
                   outside: str = "drop", rng: Any = None) -> np.ndarray:
    """Move each event by rounded Gaussian offsets ``(N(0, std_x), N(0, std_y))`` pixels.

    Events pushed off the sensor are dropped (``outside="drop"``) or clamped to the nearest border
    pixel (``outside="clip"``).
    """
    check_events(events, sensor_size, "spatial_jitter: events")
    sx = _nonneg(std_x, "std_x", "spatial_jitter")
    sy = _nonneg(std_y, "std_y", "spatial_jitter")
    if outside not in ("drop", "clip"):
        raise ValueError(f"spatial_jitter: outside must be 'drop' or 'clip', got {outside!r}")
    w, h, _ = check_sensor_size(sensor_size)
    gen = as_rng(rng)
    n = events.size
    x = events["x"] + np.rint(gen.normal(0.0, sx, n)).astype(np.int64) if sx > 0 else events["x"].astype(np.int64)
    y = events["y"] + np.rint(gen.normal(0.0, sy, n)).astype(np.int64) if sy > 0 else events["y"].astype(np.int64)
    out = events.copy()
    if outside == "clip":
        out["x"] = np.clip(x, 0, w - 1)
        out["y"] = np.clip(y, 0, h - 1)
        return out
    keep = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    out["x"] = np.clip(x, 0, w - 1)
    out["y"] = np.clip(y, 0, h - 1)
    return out[keep]


# --------------------------------------------------------------------------- time


def time_jitter(events: np.ndarray, std: float, clip_negative: bool = False, sort: bool = True,
                rng: Any = None) -> np.ndarray:
    """Add rounded Gaussian noise ``N(0, std)`` µs to every timestamp.

    ``clip_negative=True`` drops events whose new time is negative; ``sort=True`` restores time
    order (stably), ``sort=False`` leaves the events where they were.
    """
    check_events(events, name="time_jitter: events")
    s = _nonneg(std, "std", "time_jitter")
    gen = as_rng(rng)
    out = events.copy()
    if out.size == 0:
        return out
    if s > 0:
        out["t"] = events["t"] + np.rint(gen.normal(0.0, s, events.size)).astype(np.int64)
    if clip_negative:
        out = out[out["t"] >= 0]
    return sort_events(out) if sort else out


def time_skew(events: np.ndarray, coefficient: float | tuple[float, float], offset: float | tuple[float, float] = 0,
              rng: Any = None) -> np.ndarray:
    """Stretch and shift time: ``t' = round(t * coefficient + offset)`` (each a number or a ``(low, high)`` range).

    ``coefficient`` must be > 0, so time order is preserved.
    """
    check_events(events, name="time_skew: events")
    gen = as_rng(rng)
    c = _draw(coefficient, "coefficient", "time_skew", gen)
    o = _draw(offset, "offset", "time_skew", gen)
    if c <= 0:
        raise ValueError(f"time_skew: coefficient must be > 0, got {coefficient!r}")
    out = events.copy()
    if out.size:
        out["t"] = np.rint(events["t"].astype(np.float64) * c + o).astype(np.int64)
    return out


__all__ = [
    "EVENT_DTYPE", "as_rng", "center_crop", "crop", "denoise", "downsample", "downsample_sensor_size",
    "drop_event", "flip_lr", "flip_ud", "merge_polarities", "random_crop", "refractory_period",
    "spatial_jitter", "time_jitter", "time_skew",
]
