"""AEDAT 2.0 (jAER): a ``#`` text header, then big-endian ``int32 address, int32 timestamp`` pairs.

The address is decoded by the chip class named in the header (``# AEChip: ...``) or by ``layout``:

* ``"dvs128"`` (DVS128, 128 x 128): bit 15 external event (skipped), bits 14..8 y, bits 7..1 x,
  bit 0 polarity (1 = ON).
* ``"davis"`` (DAVIS240/346/640): bit 31 set = APS (frame) sample, skipped; bit 10 set = IMU or
  special event, skipped; otherwise a polarity event with y = bits 30..22, x = bits 21..12,
  polarity = bit 11 (1 = ON).

Coordinates are returned as stored: jAER puts (0, 0) at the lower left of the sensor.
Timestamps are microseconds; 32-bit wrap-arounds (a drop of more than 2**31 µs) are unwrapped.
Without an ``AEChip`` line, addresses that all fit 16 bits mean ``dvs128``, else ``davis``
with the sensor size inferred from the events. A header with no events after it gives zero
events.
"""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np

from spikesmith.events.core import EVENT_DTYPE, check_events, check_sensor_size, infer_sensor_size
from spikesmith.events.formats._common import DEFAULT_TIMESTAMPS, apply_timestamp_policy, fail, header_lines, read_all

FORMAT = "AEDAT 2.0"
VERSION_LINE = "#!AER-DAT2.0"
LAYOUTS = ("dvs128", "davis")

# AEChip class name fragments -> (layout, sensor size)
CHIPS: dict[str, tuple[str, tuple[int, int, int]]] = {
    "dvs128": ("dvs128", (128, 128, 2)),
    "davis346": ("davis", (346, 260, 2)),
    "davis240": ("davis", (240, 180, 2)),
    "davis640": ("davis", (640, 480, 2)),
    "davis128": ("davis", (128, 128, 2)),
}


def chip_from_header(lines: list[str]) -> tuple[str | None, tuple[int, int, int] | None]:
    """``(layout, sensor_size)`` from the ``# AEChip:`` header line, or ``(None, None)``."""
    for line in lines:
        m = re.match(r"#\s*AEChip:\s*(\S+)", line)
        if m:
            name = m.group(1).lower()
            for key, value in CHIPS.items():
                if key in name:
                    return value
            return None, None
    return None, None


def decode(data: bytes, path: str | os.PathLike = "<bytes>", layout: str | None = None,
           sensor_size: Any = None, timestamps: str = DEFAULT_TIMESTAMPS) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Decode the bytes of an AEDAT 2.0 file; see :func:`read`."""
    if not data.startswith(VERSION_LINE.encode()):
        raise fail(path, FORMAT, f"does not start with {VERSION_LINE!r}")
    if layout is not None and layout not in LAYOUTS:
        raise ValueError(f"AEDAT 2.0: layout must be one of {LAYOUTS} or None, got {layout!r}")
    lines, body = header_lines(data, path, FORMAT)
    chip_layout, chip_size = chip_from_header(lines)
    size = len(data) - body
    if size % 8:
        raise fail(path, FORMAT, f"{size} bytes of events after the header is not a multiple of 8 "
                                 f"(truncated file; header ends at byte {body})")
    words = np.frombuffer(data, dtype=">i4", offset=body).reshape(-1, 2)
    addr = words[:, 0].astype(np.int64) & 0xFFFFFFFF
    ts = words[:, 1].astype(np.int64)
    layout = layout or chip_layout or ("dvs128" if addr.size == 0 or addr.max() < (1 << 16) else "davis")
    if layout == "dvs128":
        keep = (addr & 0x8000) == 0
        x = (addr >> 1) & 0x7F
        y = (addr >> 8) & 0x7F
        p = addr & 1
    else:
        keep = (((addr >> 31) & 1) == 0) & (((addr >> 10) & 1) == 0)
        x = (addr >> 12) & 0x3FF
        y = (addr >> 22) & 0x1FF
        p = (addr >> 11) & 1
    if ts.size > 1:  # unwrap 32-bit timestamp wrap-arounds
        wraps = np.cumsum(np.r_[0, np.diff(ts) < -(1 << 31)])
        ts = ts + (wraps << 32)
    events = np.empty(int(keep.sum()), dtype=EVENT_DTYPE)
    events["x"], events["y"], events["t"], events["p"] = x[keep], y[keep], ts[keep], p[keep]
    if sensor_size is None:
        sensor_size = chip_size if chip_size is not None and layout == chip_layout else (
            (128, 128, 2) if layout == "dvs128" else infer_sensor_size(events))
    sensor_size = check_sensor_size(sensor_size)
    try:
        check_events(events, sensor_size)
    except ValueError as err:
        raise fail(path, FORMAT, f"{err} (corrupt file, wrong layout, or pass sensor_size)") from None
    return apply_timestamp_policy(events, path, FORMAT, timestamps), sensor_size


def read(path: str | os.PathLike, layout: str | None = None, sensor_size: Any = None,
         timestamps: str = DEFAULT_TIMESTAMPS) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Read an AEDAT 2.0 file: ``(events, sensor_size)``; only polarity (DVS) events are returned.

    ``layout`` (``"dvs128"`` / ``"davis"``) and ``sensor_size`` override what the header says.
    Raises :class:`~spikesmith.events.formats.EventFileError` (a ValueError) on a bad version line,
    a body that is not whole 8-byte records, coordinates outside the sensor, or times that are
    negative or go backwards (unless ``timestamps`` is ``"sort"`` or ``"keep"``; a
    recording whose clock was reset in jAER needs one of those).

    **What this format cannot detect.** The header stores no event count and the records no
    checksum, so a file cut at an 8-byte record boundary reads as a shorter valid recording, and a
    flipped bit that keeps the event on the sensor and in time order is accepted.
    """
    return decode(read_all(path), path, layout, sensor_size, timestamps)
