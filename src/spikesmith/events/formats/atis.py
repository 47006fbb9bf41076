"""N-MNIST / N-Caltech101 binary files (ATIS sensor): 5 bytes, 40 bits, per event.

Layout of one event (Orchard et al. 2015)::

    byte 0      x (8 bits)
    byte 1      y (8 bits)
    byte 2      bit 7: polarity (1 = ON); bits 6..0: timestamp bits 22..16
    bytes 3, 4  timestamp bits 15..8 and 7..0 (µs; 23 bits in all)

An event with ``y == 240`` (a row the 304 x 240 ATIS does not have) is a timestamp-overflow
marker: every later timestamp gains 2**13 µs, and the marker itself is not an event. The reader
applies that rule; the writer stores times below 2**23 µs only and never writes markers, so a
file without markers (every N-MNIST sample) reads and writes back byte for byte.

The sensor size is not in the file: it is ``(34, 34, 2)`` when every event fits N-MNIST's 34 x 34,
else the full ATIS sensor ``(304, 240, 2)`` (which holds every N-Caltech101 sample); pass
``sensor_size`` to override.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from spikesmith.atomic import atomic_write
from spikesmith.events.core import EVENT_DTYPE, check_events, check_sensor_size
from spikesmith.events.formats._common import DEFAULT_TIMESTAMPS, apply_timestamp_policy, fail, read_all

FORMAT = "N-MNIST binary"
NMNIST_SENSOR = (34, 34, 2)
ATIS_SENSOR = (304, 240, 2)
OVERFLOW_Y = 240
OVERFLOW_STEP = 1 << 13
MAX_TIME = (1 << 23) - 1


def decode(data: bytes, path: str | os.PathLike = "<bytes>", sensor_size: Any = None,
           timestamps: str = DEFAULT_TIMESTAMPS) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Decode the bytes of an N-MNIST file; see :func:`read`."""
    if len(data) % 5:
        raise fail(path, FORMAT, f"{len(data)} bytes is not a multiple of 5 bytes per event "
                                 f"(truncated or not an N-MNIST file; {len(data) % 5} byte(s) left over)")
    raw = np.frombuffer(data, dtype=np.uint8).reshape(-1, 5)
    b2 = raw[:, 2].astype(np.int64)
    t = ((b2 & 0x7F) << 16) | (raw[:, 3].astype(np.int64) << 8) | raw[:, 4].astype(np.int64)
    marker = raw[:, 1] == OVERFLOW_Y
    if marker.any():
        t = t + OVERFLOW_STEP * np.cumsum(marker)
        keep = ~marker
        raw, t, b2 = raw[keep], t[keep], b2[keep]
    events = np.empty(raw.shape[0], dtype=EVENT_DTYPE)
    events["x"] = raw[:, 0]
    events["y"] = raw[:, 1]
    events["t"] = t
    events["p"] = b2 >> 7
    if sensor_size is None:
        small = events.size == 0 or (events["x"].max() < NMNIST_SENSOR[0] and events["y"].max() < NMNIST_SENSOR[1])
        sensor_size = NMNIST_SENSOR if small else ATIS_SENSOR
    sensor_size = check_sensor_size(sensor_size)
    try:
        check_events(events, sensor_size)
    except ValueError as err:
        raise fail(path, FORMAT, f"{err} (corrupt file, or pass sensor_size)") from None
    return apply_timestamp_policy(events, path, FORMAT, timestamps), sensor_size


def read(path: str | os.PathLike, sensor_size: Any = None,
         timestamps: str = DEFAULT_TIMESTAMPS) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Read an N-MNIST / N-Caltech101 ``.bin`` file: ``(events, sensor_size)``, events in file order.

    Times that go backwards raise EventFileError unless ``timestamps`` asks for a repair
    (``"sort"``, ``"keep"``; see :data:`~spikesmith.events.formats._common.TIMESTAMP_POLICIES`).

    **What this format cannot detect.** The file is bare 5-byte records with no header, count or
    checksum, so a file cut at a record boundary reads as a shorter valid recording, and a flipped
    bit that keeps x and y on the sensor and the time in order gives a wrong event silently.
    Cuts elsewhere (not a multiple of 5 bytes), coordinates off the sensor, and times that go
    backwards are detected.
    """
    return decode(read_all(path), path, sensor_size, timestamps)


def encode(events: np.ndarray) -> bytes:
    """The N-MNIST bytes of ``events`` (in the given order).

    Raises ValueError for what the format cannot hold: times outside ``0 .. 2**23 - 1`` µs,
    coordinates outside ``0..255``, ``y == 240`` (the overflow marker) or polarities other than 0/1.
    """
    check_events(events)
    x, y, t, p = (events[k].astype(np.int64) for k in ("x", "y", "t", "p"))
    problems = []
    if events.size:
        if t.min() < 0 or t.max() > MAX_TIME:
            problems.append(f"times must lie in 0..{MAX_TIME} µs (23 bits), got {t.min()}..{t.max()}")
        if x.min() < 0 or x.max() > 255 or y.min() < 0 or y.max() > 255:
            problems.append(f"x and y must lie in 0..255, got x {x.min()}..{x.max()}, y {y.min()}..{y.max()}")
        if (y == OVERFLOW_Y).any():
            problems.append("y == 240 is the format's overflow marker and cannot be an event")
        if p.min() < 0 or p.max() > 1:
            problems.append(f"polarities must be 0 or 1, got {p.min()}..{p.max()}")
    if problems:
        raise ValueError("cannot write N-MNIST binary: " + "; ".join(problems))
    raw = np.empty((events.size, 5), dtype=np.uint8)
    raw[:, 0] = x
    raw[:, 1] = y
    raw[:, 2] = (p << 7) | (t >> 16)
    raw[:, 3] = (t >> 8) & 0xFF
    raw[:, 4] = t & 0xFF
    return raw.tobytes()


__all__ = ["ATIS_SENSOR", "NMNIST_SENSOR", "decode", "encode", "read"]


def write(path: str | os.PathLike, events: np.ndarray, sensor_size: Any = None) -> None:
    """Write ``events`` atomically as an N-MNIST ``.bin`` file (the format stores no sensor size)."""
    data = encode(events)
    with atomic_write(path) as f:
        f.write(data)
