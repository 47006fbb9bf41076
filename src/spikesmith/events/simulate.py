"""Static images to events: a simulated event camera.

Three ways, as the neuromorphic datasets were made:

1. :func:`saccade_events` — the camera watches the image while it moves along three
   micro-saccades (the N-MNIST recording method, Orchard et al. 2015). Each pixel keeps a
   reference log intensity ``L_ref``; when ``|log(I + eps) - L_ref|`` reaches the contrast
   threshold ``C`` the pixel emits ``floor(|ΔL| / C)`` events (ON if brighter) and moves its
   reference by that many thresholds (per-pixel reset). A pixel in its refractory period emits
   nothing (its change keeps accumulating) and, with a refractory period, at most one event per
   step. Optional background noise adds Poisson events at ``noise_rate`` Hz per pixel.
2. :func:`flash_events` — the light ramps on, stays, and ramps off: each pixel crosses
   ``floor((log(I + eps) - log(eps)) / C)`` levels up (ON events) and as many down (OFF), at the
   exact times the linear ramp crosses them.
3. :func:`poisson_events` — each pixel fires a Poisson process at ``intensity * max_rate`` Hz
   (all events ON, ``p = 1``, on a two-polarity sensor so frames keep two channels).

Images are ``[H, W]`` (or ``[1, H, W]``), uint8 0..255 or float 0..1, NumPy or torch. Every
function returns ``(events, sensor_size)``; events are time-sorted, times in µs from 0.
Uniform regions make no saccade events: only edges move.

Example::

    ev, size = saccade_events(image, threshold=0.2, rng=0)     # size == (34, 34, 2) for 28 x 28
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from spikesmith.events.core import EVENT_DTYPE, check_sensor_size, empty_events, make_events, sort_events
from spikesmith.events.functional import as_rng, refractory_period

SACCADE_US = 100_000  # N-MNIST: three saccades of about 100 ms each


def as_images(images: Any, where: str) -> np.ndarray:
    """``images`` as float64 ``[N, H, W]`` in [0, 1] (accepts ``[H, W]``, ``[N, H, W]``, ``[N, 1, H, W]``)."""
    if hasattr(images, "detach"):
        images = images.detach().cpu().numpy()
    arr = np.asarray(images)
    if arr.ndim == 4 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1] == 0 or arr.shape[2] == 0:
        raise ValueError(f"{where}: images must be [H, W], [N, H, W] or [N, 1, H, W], got shape {list(arr.shape)}")
    if arr.dtype == np.uint8:
        return arr.astype(np.float64) / 255.0
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{where}: images must be uint8 or float, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.size and (not np.all(np.isfinite(arr)) or arr.min() < 0 or arr.max() > 1):
        raise ValueError(f"{where}: float images must lie in [0, 1] (uint8 images in 0..255), "
                         f"got {arr.min()}..{arr.max()}")
    return arr


def _positive(v: Any, name: str, where: str, allow_zero: bool = False) -> float:
    ok = isinstance(v, numbers.Real) and not isinstance(v, bool) and np.isfinite(v) and (v >= 0 if allow_zero else v > 0)
    if not ok:
        raise ValueError(f"{where}: {name} must be a finite number {'>= 0' if allow_zero else '> 0'}, got {v!r}")
    return float(v)


def saccade_path(amplitude: float, steps_per_saccade: int) -> np.ndarray:
    """Image offsets ``[3 * steps, 2]`` (dx, dy in pixels) along the triangle (0,0) -> (A/2, A) -> (A, 0) -> (0,0)."""
    a = float(amplitude)
    corners = np.array([[0.0, 0.0], [a / 2, a], [a, 0.0], [0.0, 0.0]])
    frac = (np.arange(1, steps_per_saccade + 1) / steps_per_saccade)[:, None]
    return np.concatenate([c0 + frac * (c1 - c0) for c0, c1 in zip(corners[:-1], corners[1:])])


class _Mover:
    """Bilinear shifts of a batch of canvases ``[N, H, W]`` (float32, zero outside), as views of one padded copy."""

    def __init__(self, canvas: np.ndarray, reach: float):
        self.r = int(np.ceil(reach)) + 2
        n, self.h, self.w = canvas.shape
        self.pad = np.zeros((n, self.h + 2 * self.r, self.w + 2 * self.r), dtype=np.float32)
        self.pad[:, self.r:self.r + self.h, self.r:self.r + self.w] = canvas

    def view(self, ox: int, oy: int) -> np.ndarray:  # out[y, x] = canvas[y - oy, x - ox]
        y0, x0 = self.r - oy, self.r - ox
        return self.pad[:, y0:y0 + self.h, x0:x0 + self.w]

    def __call__(self, dx: float, dy: float, out: np.ndarray | None = None) -> np.ndarray:
        ix, iy = int(np.floor(dx)), int(np.floor(dy))
        fx, fy = np.float32(dx - ix), np.float32(dy - iy)
        out = np.multiply(self.view(ix, iy), (1 - fx) * (1 - fy), out=out)
        tmp = np.empty_like(out) if (fx or fy) else None
        for ox, oy, weight in ((1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
            if weight:
                out += np.multiply(self.view(ix + ox, iy + oy), weight, out=tmp)
        return out


def _noise(n_images: int, sensor: tuple[int, int, int], duration: int, rate: float,
           gen: np.random.Generator) -> list[np.ndarray]:
    w, h, _ = sensor
    out = []
    for _ in range(n_images):
        k = int(gen.poisson(rate * duration * 1e-6 * w * h))
        out.append(make_events(gen.integers(0, w, k), gen.integers(0, h, k), gen.integers(0, duration, k),
                               gen.integers(0, 2, k)))
    return out


def saccade_events_batch(images: Any, threshold: float = 0.2, margin: int = 3, amplitude: float = 3.0,
                         saccade_us: int = SACCADE_US, steps_per_saccade: int = 100,
                         refractory_us: int = 0, noise_rate: float = 0.0, log_eps: float = 0.1,
                         rng: Any = None) -> tuple[list[np.ndarray], tuple[int, int, int]]:
    """:func:`saccade_events` for a batch ``[N, H, W]``: a list of N event arrays and the shared sensor size.

    Simulating many images at once is much faster than one by one (one NumPy pass per time step).
    """
    where = "saccade_events"
    imgs = as_images(images, where)
    c = _positive(threshold, "threshold", where)
    eps = _positive(log_eps, "log_eps", where)
    amp = _positive(amplitude, "amplitude", where, allow_zero=True)
    rate = _positive(noise_rate, "noise_rate", where, allow_zero=True)
    refr = int(_positive(refractory_us, "refractory_us", where, allow_zero=True))
    for name, v in (("margin", margin), ("saccade_us", saccade_us), ("steps_per_saccade", steps_per_saccade)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < (0 if name == "margin" else 1):
            raise ValueError(f"{where}: {name} must be a positive int, got {v!r}")
    n, h, w = imgs.shape
    sensor = check_sensor_size((w + 2 * margin, h + 2 * margin, 2))
    sw, sh = sensor[0], sensor[1]
    canvas = np.zeros((n, sh, sw), dtype=np.float32)
    canvas[:, margin:margin + h, margin:margin + w] = imgs
    base = -amp / 2   # the path (offsets 0..A) is centred on the image's resting place
    move = _Mover(canvas, amp / 2 + 1)
    eps32 = np.float32(eps)
    ref = np.log(move(base, base) + eps32).ravel()
    last_fire = np.full(ref.size, -np.inf) if refr > 0 else None
    dt = saccade_us / steps_per_saccade
    parts: list[tuple[np.ndarray, ...]] = []
    plane = sh * sw
    cur = np.empty((n, sh, sw), dtype=np.float32)
    flat = cur.reshape(-1)
    mag = np.empty_like(flat)
    for k, (dx, dy) in enumerate(saccade_path(amp, steps_per_saccade)):
        t = int(round((k + 1) * dt))
        move(base + dx, base + dy, out=cur)
        np.log(np.add(cur, eps32, out=cur), out=cur)
        diff = np.subtract(flat, ref, out=flat)
        idx = np.flatnonzero(np.abs(diff, out=mag) >= c)
        if last_fire is not None and idx.size:
            idx = idx[t - last_fire[idx] >= refr]
        if idx.size == 0:
            continue
        d = diff[idx].astype(np.float64)
        cnt = np.floor(np.abs(d) / c).astype(np.int64)
        if last_fire is not None:
            cnt = np.minimum(cnt, 1)
            last_fire[idx] = t
        ref[idx] += (np.sign(d) * cnt * c).astype(np.float32)
        if cnt.max() > 1:
            idx, d = np.repeat(idx, cnt), np.repeat(d, cnt)
        b, rest = np.divmod(idx, plane)
        yy, xx = np.divmod(rest, sw)
        parts.append((b, xx, yy, np.full(idx.size, t, np.int64), d > 0))
    gen = as_rng(rng)
    noise = _noise(n, sensor, 3 * saccade_us, rate, gen) if rate > 0 else None
    out = _split(parts, n)
    if noise is not None:
        out = [sort_events(np.concatenate([e, z])) for e, z in zip(out, noise)]
    return out, sensor


def _split(parts: list[tuple[np.ndarray, ...]], n: int) -> list[np.ndarray]:
    """Per-step event groups (image index, x, y, t, p), appended in time order -> n event arrays."""
    if not parts:
        return [empty_events() for _ in range(n)]
    b = np.concatenate([q[0] for q in parts])
    ev = np.empty(b.size, dtype=EVENT_DTYPE)
    for j, name in enumerate(("x", "y", "t", "p"), start=1):
        ev[name] = np.concatenate([q[j] for q in parts])
    small = np.int16 if n <= np.iinfo(np.int16).max else np.int64
    order = np.argsort(b.astype(small), kind="stable")   # group by image, keep time order
    ev = ev[order]
    bounds = np.searchsorted(b[order], np.arange(n + 1))
    return [ev[bounds[i]:bounds[i + 1]] for i in range(n)]


def saccade_events(image: Any, threshold: float = 0.2, margin: int = 3, amplitude: float = 3.0,
                   saccade_us: int = SACCADE_US, steps_per_saccade: int = 100, refractory_us: int = 0,
                   noise_rate: float = 0.0, log_eps: float = 0.1,
                   rng: Any = None) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Events of a camera watching ``image`` move along three micro-saccades (N-MNIST style).

    Args:
        image: ``[H, W]``, uint8 or float in [0, 1]; placed on a black canvas ``margin`` pixels
            wider on each side, so the sensor is ``(W + 2 margin, H + 2 margin, 2)`` (34 x 34 for 28 x 28).
        threshold: contrast threshold ``C`` on ``log(I + log_eps)``; larger -> fewer events.
        amplitude: saccade size in pixels (triangle (0,0) -> (A/2, A) -> (A, 0) -> (0,0), centred).
        saccade_us, steps_per_saccade: duration of one saccade and the simulation steps in it; the
            event times are the ends of the steps (``saccade_us / steps_per_saccade`` µs apart).
        refractory_us: per-pixel refractory period (0: none).
        noise_rate: background events per pixel per second (uniform times and polarities).
        rng: seed or Generator (only the noise is random).
    """
    img = as_images(image, "saccade_events")
    if img.shape[0] != 1:
        raise ValueError(f"saccade_events: expected one image, got {img.shape[0]}; use saccade_events_batch")
    events, sensor = saccade_events_batch(img, threshold, margin, amplitude, saccade_us, steps_per_saccade,
                                          refractory_us, noise_rate, log_eps, rng)
    return events[0], sensor


def flash_events(image: Any, threshold: float = 0.2, on_us: int = 100_000, ramp_us: int = 10_000,
                 refractory_us: int = 0, log_eps: float = 0.1,
                 ) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Events of a camera watching ``image`` while the light ramps on (0 .. ramp_us), stays, and ramps off.

    The light rises linearly from 0 to full over ``ramp_us`` µs, stays on, and falls back over
    ``ramp_us`` µs starting at ``on_us``. A pixel of intensity ``I`` crosses its levels
    ``log(eps) + k C`` (``k = 1 .. floor((log(I + eps) - log(eps)) / C)``) at exact times: ON
    events on the way up, OFF events on the way down. Dark pixels make no events. The sensor is
    ``(W, H, 2)``; ``refractory_us`` drops crossings too close to the previous event of a pixel.
    """
    where = "flash_events"
    img = as_images(image, where)
    if img.shape[0] != 1:
        raise ValueError(f"{where}: expected one image, got {img.shape[0]}")
    img = img[0]
    c = _positive(threshold, "threshold", where)
    eps = _positive(log_eps, "log_eps", where)
    on_us = int(_positive(on_us, "on_us", where))
    ramp = int(_positive(ramp_us, "ramp_us", where))
    if on_us < ramp:
        raise ValueError(f"{where}: on_us ({on_us}) must be >= ramp_us ({ramp})")
    h, w = img.shape
    sensor = (w, h, 2)
    levels = np.floor((np.log(img + eps) - np.log(eps)) / c).astype(np.int64)
    yy, xx = np.nonzero(levels > 0)
    cnt = levels[yy, xx]
    if cnt.size == 0:
        return empty_events(), sensor
    px, py = np.repeat(xx, cnt), np.repeat(yy, cnt)
    intensity = np.repeat(img[yy, xx], cnt)
    k = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt) + 1   # 1..levels per pixel
    # light fraction at which log(f I + eps) = log(eps) + k C
    frac = np.clip(eps * (np.exp(k * c) - 1.0) / intensity, 0.0, 1.0)
    t_up = np.rint(frac * ramp).astype(np.int64)
    t_down = on_us + np.rint((1.0 - frac) * ramp).astype(np.int64)
    events = make_events(np.r_[px, px], np.r_[py, py], np.r_[t_up, t_down],
                         np.r_[np.ones(px.size, np.int64), np.zeros(px.size, np.int64)], sort=True)
    if refractory_us:
        events = refractory_period(events, refractory_us)
    return events, sensor


def poisson_events(image: Any, duration_us: int = 100_000, max_rate: float = 200.0,
                   refractory_us: int = 0, rng: Any = None) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Poisson spike trains: pixel ``(x, y)`` fires at ``I(x, y) * max_rate`` Hz for ``duration_us`` µs.

    All events are ON (``p = 1``) on a ``(W, H, 2)`` sensor. Times are uniform integers in
    ``[0, duration_us)``; ``refractory_us`` then drops events too close to the previous one.
    """
    where = "poisson_events"
    img = as_images(image, where)
    if img.shape[0] != 1:
        raise ValueError(f"{where}: expected one image, got {img.shape[0]}")
    img = img[0]
    dur = int(_positive(duration_us, "duration_us", where))
    rate = _positive(max_rate, "max_rate", where, allow_zero=True)
    gen = as_rng(rng)
    h, w = img.shape
    counts = gen.poisson(img * rate * dur * 1e-6)
    yy, xx = np.nonzero(counts)
    cnt = counts[yy, xx]
    events = make_events(np.repeat(xx, cnt), np.repeat(yy, cnt), gen.integers(0, dur, int(cnt.sum())),
                         np.ones(int(cnt.sum()), np.int64), sort=True)
    if refractory_us:
        events = refractory_period(events, refractory_us)
    return events, check_sensor_size((w, h, 2))
