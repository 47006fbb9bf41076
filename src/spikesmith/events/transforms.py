"""Composable transforms: small frozen dataclasses over the functions of
:mod:`spikesmith.events.functional` and :mod:`spikesmith.events.frames`.

Every transform is called as ``transform(events, rng=None)``. Random ones draw from ``rng`` when
given (a ``np.random.Generator`` or an int seed), else from their own generator, made once from
their ``seed`` field: the same seed gives the same sequence of augmentations, call after call.
(With several DataLoader workers, each worker holds a copy of that generator; pass a ``rng`` per
sample, or a different seed per worker, when the workers must differ.)

Example::

    transform = Compose([
        Denoise(sensor_size=(34, 34, 2), filter_time=10_000),
        RandomFlipLR(sensor_size=(34, 34, 2), p=0.5, seed=0),
        ToFrame(sensor_size=(34, 34, 2), n_time_bins=10),
    ])
    frames = transform(events)                  # int32 [10, 2, 34, 34]

Empty streams and out-of-range coordinates behave as the functional module documents: empty in,
empty out (``ToFrame`` with ``n_time_bins`` gives zero frames); events outside ``sensor_size``
are rejected with ValueError; ``SpatialJitter`` drops (or clips) events it pushes off the sensor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from spikesmith.events import functional as F
from spikesmith.events.core import check_sensor_size
from spikesmith.events.frames import MAX_OUTPUT_BYTES, to_frame, to_voxel_grid


class _Random:
    """Mixin for random transforms: a private generator made from the ``seed`` field."""

    def __post_init__(self) -> None:
        seed = getattr(self, "seed")
        object.__setattr__(self, "_rng", F.as_rng(seed) if not isinstance(seed, np.random.Generator) else seed)

    def _gen(self, rng: Any) -> np.random.Generator:
        return F.as_rng(rng) if rng is not None else self._rng  # type: ignore[attr-defined]


def _sensor(obj: Any) -> None:
    check_sensor_size(obj.sensor_size, f"{type(obj).__name__}: sensor_size")


@dataclass(frozen=True)
class Compose:
    """Apply ``transforms`` in order; ``rng`` (if given) is passed to each of them."""

    transforms: Sequence[Callable[..., Any]]

    def __post_init__(self) -> None:
        object.__setattr__(self, "transforms", tuple(self.transforms))
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose: every transform must be callable, got {type(t).__name__}")

    def __call__(self, events: Any, rng: Any = None) -> Any:
        gen = F.as_rng(rng) if rng is not None else None
        for t in self.transforms:
            if gen is not None and isinstance(t, (_Random, Compose)):
                events = t(events, rng=gen)
            else:
                events = t(events)
        return events


@dataclass(frozen=True)
class ToFrame:
    """Events -> int counts ``[T, P, H, W]``; see :func:`spikesmith.events.frames.to_frame`."""

    sensor_size: tuple[int, int, int]
    time_window: float | None = None
    event_count: int | None = None
    n_time_bins: int | None = None
    overlap: float = 0.0
    include_incomplete: bool = False
    dtype: Any = np.int32
    max_bytes: int | None = MAX_OUTPUT_BYTES

    def __post_init__(self) -> None:
        _sensor(self)

    def __call__(self, events: np.ndarray, rng: Any = None) -> np.ndarray:
        return to_frame(events, self.sensor_size, self.time_window, self.event_count, self.n_time_bins,
                        self.overlap, self.include_incomplete, self.dtype, self.max_bytes)


@dataclass(frozen=True)
class ToVoxelGrid:
    """Events -> float32 ``[T, 1, H, W]`` voxel grid; see :func:`spikesmith.events.frames.to_voxel_grid`."""

    sensor_size: tuple[int, int, int]
    n_time_bins: int
    max_bytes: int | None = MAX_OUTPUT_BYTES

    def __post_init__(self) -> None:
        _sensor(self)

    def __call__(self, events: np.ndarray, rng: Any = None) -> np.ndarray:
        return to_voxel_grid(events, self.sensor_size, self.n_time_bins, self.max_bytes)


@dataclass(frozen=True)
class Denoise:
    """Keep events with an 8-neighbour event in the last ``filter_time`` µs (:func:`functional.denoise`)."""

    sensor_size: tuple[int, int, int]
    filter_time: float

    def __post_init__(self) -> None:
        _sensor(self)

    def __call__(self, events: np.ndarray, rng: Any = None) -> np.ndarray:
        return F.denoise(events, self.sensor_size, self.filter_time)


@dataclass(frozen=True)
class RefractoryPeriod:
    """Drop events within ``refractory_period`` µs of the last kept event of their pixel."""

    refractory_period: float

    def __call__(self, events: np.ndarray, rng: Any = None) -> np.ndarray:
        return F.refractory_period(events, self.refractory_period)


@dataclass(frozen=True)
class Downsample:
    """Scale space by ``spatial_factor`` (in (0, 1]) and time by ``time_factor``; see :func:`functional.downsample`."""

    sensor_size: tuple[int, int, int]
    spatial_factor: float | tuple[float, float] = 1.0
    time_factor: float = 1.0

    def __post_init__(self) -> None:
        _sensor(self)

    @property
    def out_sensor_size(self) -> tuple[int, int, int]:
        """The sensor size of the output."""
        return F.downsample_sensor_size(self.sensor_size, self.spatial_factor)

    def __call__(self, events: np.ndarray, rng: Any = None) -> np.ndarray:
        return F.downsample(events, self.sensor_size, self.spatial_factor, self.time_factor)


@dataclass(frozen=True)
class CenterCrop:
    """Keep the centred ``size`` window (``int`` or ``(w, h)``); the output sensor is ``(w, h, P)``."""

    sensor_size: tuple[int, int, int]
    size: int | tuple[int, int]

    def __post_init__(self) -> None:
        _sensor(self)

    def __call__(self, events: np.ndarray, rng: Any = None) -> np.ndarray:
        return F.center_crop(events, self.sensor_size, self.size)


@dataclass(frozen=True)
class RandomCrop(_Random):
    """Keep a ``size`` window at a uniformly drawn position."""

    sensor_size: tuple[int, int, int]
    size: int | tuple[int, int]
    seed: Any = None

    def __post_init__(self) -> None:
        _sensor(self)
        super().__post_init__()

    def __call__(self, events: np.ndarray, rng: Any = None) -> np.ndarray:
        return F.random_crop(events, self.sensor_size, self.size, self._gen(rng))


@dataclass(frozen=True)
class RandomFlipLR(_Random):
    """Mirror left-right with probability ``p``."""

    sensor_size: tuple[int, int, int]
    p: float = 0.5
    seed: Any = None

    def __post_init__(self) -> None:
        _sensor(self)
        super().__post_init__()

    def __call__(self, events: np.ndarray, rng: Any = None) -> np.ndarray:
        return F.flip_lr(events, self.sensor_size, self.p, self._gen(rng))


@dataclass(frozen=True)
class RandomFlipUD(_Random):
    """Mirror up-down with probability ``p``."""

    sensor_size: tuple[int, int, int]
    p: float = 0.5
    seed: Any = None

    def __post_init__(self) -> None:
        _sensor(self)
        super().__post_init__()

    def __call__(self, events: np.ndarray, rng: Any = None) -> np.ndarray:
        return F.flip_ud(events, self.sensor_size, self.p, self._gen(rng))


@dataclass(frozen=True)
class TimeJitter(_Random):
    """Gaussian noise of ``std`` µs on every timestamp; see :func:`functional.time_jitter`."""

    std: float
    clip_negative: bool = False
    sort: bool = True
    seed: Any = None

    def __call__(self, events: np.ndarray, rng: Any = None) -> np.ndarray:
        return F.time_jitter(events, self.std, self.clip_negative, self.sort, self._gen(rng))


@dataclass(frozen=True)
class TimeSkew(_Random):
    """``t' = round(t * coefficient + offset)``; either may be a ``(low, high)`` range drawn per call."""

    coefficient: float | tuple[float, float]
    offset: float | tuple[float, float] = 0
    seed: Any = None

    def __call__(self, events: np.ndarray, rng: Any = None) -> np.ndarray:
        return F.time_skew(events, self.coefficient, self.offset, self._gen(rng))


@dataclass(frozen=True)
class SpatialJitter(_Random):
    """Gaussian pixel offsets; events leaving the sensor are dropped (``outside="drop"``) or clipped."""

    sensor_size: tuple[int, int, int]
    std_x: float = 1.0
    std_y: float = 1.0
    outside: str = "drop"
    seed: Any = None

    def __post_init__(self) -> None:
        _sensor(self)
        super().__post_init__()

    def __call__(self, events: np.ndarray, rng: Any = None) -> np.ndarray:
        return F.spatial_jitter(events, self.sensor_size, self.std_x, self.std_y, self.outside, self._gen(rng))


@dataclass(frozen=True)
class DropEvent(_Random):
    """Drop each event with probability ``p`` (a number or a ``(low, high)`` range drawn per call)."""

    p: float | tuple[float, float] = 0.1
    seed: Any = None

    def __call__(self, events: np.ndarray, rng: Any = None) -> np.ndarray:
        return F.drop_event(events, self.p, self._gen(rng))


@dataclass(frozen=True)
class MergePolarities:
    """Every polarity becomes 0 (the sensor becomes ``(W, H, 1)``)."""

    def __call__(self, events: np.ndarray, rng: Any = None) -> np.ndarray:
        return F.merge_polarities(events)

