"""AEDAT 3.1 (cAER, DVS128 Gesture): a text header ending in ``#!END-HEADER``, then event packets.

Everything after the header is little-endian. Each packet starts with a 28-byte header::

    int16 eventType   int16 eventSource   int32 eventSize   int32 eventTSOffset
    int32 eventTSOverflow   int32 eventCapacity   int32 eventNumber   int32 eventValid

followed by ``eventCapacity * eventSize`` bytes, of which the first ``eventNumber`` events are
used. Only polarity packets (type 1) are decoded; other types are skipped. A polarity event is
``uint32 data, int32 timestamp`` (the timestamp at ``eventTSOffset``): data bit 0 = valid mark
(invalid events are skipped), bit 1 = polarity (1 = ON), bits 16..2 = y, bits 31..17 = x; the
full time is ``(eventTSOverflow << 31) | timestamp`` µs. (0, 0) is the upper left.

Every packet header is checked before its events are read: ``eventTSOffset`` inside the event,
``0 <= eventValid <= eventNumber <= eventCapacity``, ``eventCapacity * eventSize`` no more than the
bytes left, and for polarity packets ``eventSize = 8``, ``eventTSOffset = 4`` and ``eventValid``
equal to the events marked valid. **What this format cannot detect:** a file cut exactly between
two packets reads as a shorter valid recording, and a payload bit flip that keeps the valid mark,
the coordinates on the sensor and the time in order is accepted (there is no checksum).

The sensor size comes from the ``#Source <id>: <device>`` line (DVS128, DAVIS240/346/640,
DVXplorer) or, for other devices, is inferred from the events; ``sensor_size`` overrides.
"""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np

from spikesmith.events.core import EVENT_DTYPE, check_events, check_sensor_size, infer_sensor_size
from spikesmith.events.formats._common import DEFAULT_TIMESTAMPS, apply_timestamp_policy, fail, header_lines, read_all

FORMAT = "AEDAT 3.1"
VERSION_LINE = "#!AER-DAT3.1"
END_HEADER = b"#!END-HEADER"
PACKET_HEADER = np.dtype([("type", "<i2"), ("source", "<i2"), ("size", "<i4"), ("ts_offset", "<i4"),
                          ("ts_overflow", "<i4"), ("capacity", "<i4"), ("number", "<i4"), ("valid", "<i4")])
POLARITY_EVENT = 1
POLARITY_SIZE = 8          # uint32 data, int32 timestamp
POLARITY_TS_OFFSET = 4

DEVICES: dict[str, tuple[int, int, int]] = {
    "dvs128": (128, 128, 2),
    "davis240": (240, 180, 2),
    "davis346": (346, 260, 2),
    "davis640": (640, 480, 2),
    "dvxplorer": (640, 480, 2),
}


def device_sensor(lines: list[str]) -> tuple[int, int, int] | None:
    """Sensor size of the first ``#Source`` line's device, if known."""
    for line in lines:
        m = re.match(r"#Source\s+\d+:\s*(\S+)", line)
        if m:
            name = m.group(1).lower()
            for key, size in DEVICES.items():
                if name.startswith(key):
                    return size
            return None
    return None


def decode(data: bytes, path: str | os.PathLike = "<bytes>", sensor_size: Any = None,
           timestamps: str = DEFAULT_TIMESTAMPS) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Decode the bytes of an AEDAT 3.1 file; see :func:`read`."""
    if not data.startswith(VERSION_LINE.encode()):
        raise fail(path, FORMAT, f"does not start with {VERSION_LINE!r}")
    lines, pos = header_lines(data, path, FORMAT, end_marker=END_HEADER)
    n = len(data)
    chunks: list[tuple[np.ndarray, np.ndarray, int]] = []
    while pos < n:
        if n - pos < PACKET_HEADER.itemsize:
            raise fail(path, FORMAT, f"packet header at byte {pos} is cut short ({n - pos} of "
                                     f"{PACKET_HEADER.itemsize} bytes; truncated file)")
        h = np.frombuffer(data, dtype=PACKET_HEADER, count=1, offset=pos)[0]
        size, cap, num, tso = int(h["size"]), int(h["capacity"]), int(h["number"]), int(h["ts_offset"])
        n_valid = int(h["valid"])
        if (size <= 0 or cap < 0 or not 0 <= num <= cap or not 0 <= n_valid <= num or h["ts_overflow"] < 0
                or not 0 <= tso <= size - 4 or int(h["type"]) < 0):
            raise fail(path, FORMAT, f"packet at byte {pos} has an impossible header (eventType={int(h['type'])}, "
                                     f"eventSize={size}, eventTSOffset={tso}, eventCapacity={cap}, "
                                     f"eventNumber={num}, eventValid={n_valid}, "
                                     f"eventTSOverflow={int(h['ts_overflow'])}; corrupt file)")
        start = pos + PACKET_HEADER.itemsize
        length = size * cap
        if length > n - start:
            raise fail(path, FORMAT, f"packet at byte {pos} announces {length} bytes of events but only "
                                     f"{n - start} remain (truncated file)")
        if int(h["type"]) == POLARITY_EVENT and num:
            if size != POLARITY_SIZE or tso != POLARITY_TS_OFFSET:
                raise fail(path, FORMAT, f"polarity packet at byte {pos}: eventSize={size}, eventTSOffset={tso}, "
                                         f"but polarity events are {POLARITY_SIZE} bytes with the time at "
                                         f"offset {POLARITY_TS_OFFSET} (corrupt packet header)")
            block = np.frombuffer(data, dtype=np.uint8, count=num * size, offset=start).reshape(num, size)
            word = np.ascontiguousarray(block[:, 0:4]).view("<u4").ravel().astype(np.int64)
            ts = np.ascontiguousarray(block[:, tso:tso + 4]).view("<i4").ravel().astype(np.int64)
            marked = int((word & 1).sum())
            if marked != n_valid:
                raise fail(path, FORMAT, f"polarity packet at byte {pos}: eventValid={n_valid} but {marked} "
                                         f"events are marked valid (corrupt packet)")
            chunks.append((word, ts, int(h["ts_overflow"])))
        pos = start + length
    total = sum(int((w & 1).sum()) for w, _, _ in chunks)
    events = np.empty(total, dtype=EVENT_DTYPE)
    i = 0
    for word, ts, overflow in chunks:
        valid = (word & 1) == 1
        k = int(valid.sum())
        w = word[valid]
        sl = slice(i, i + k)
        events["x"][sl] = (w >> 17) & 0x7FFF
        events["y"][sl] = (w >> 2) & 0x7FFF
        events["p"][sl] = (w >> 1) & 1
        events["t"][sl] = (np.int64(overflow) << 31) | (ts[valid] & 0x7FFFFFFF)
        i += k
    if sensor_size is None:
        sensor_size = device_sensor(lines) or infer_sensor_size(events)
    sensor_size = check_sensor_size(sensor_size)
    try:
        check_events(events, sensor_size)
    except ValueError as err:
        raise fail(path, FORMAT, f"{err} (corrupt file, or pass sensor_size)") from None
    return apply_timestamp_policy(events, path, FORMAT, timestamps), sensor_size


def read(path: str | os.PathLike, sensor_size: Any = None,
         timestamps: str = DEFAULT_TIMESTAMPS) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Read the polarity events of an AEDAT 3.1 file: ``(events, sensor_size)`` in file order.

    Raises :class:`~spikesmith.events.formats.EventFileError` (a ValueError) on a missing version
    or end-of-header line, a packet cut short or with an impossible header, or coordinates outside
    the sensor.
    """
    return decode(read_all(path), path, sensor_size, timestamps)
