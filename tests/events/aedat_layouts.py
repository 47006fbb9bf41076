"""Writers of AEDAT 2.0 / 3.1 bytes in the official layouts, written from the format specs for the tests.

Kept independent of the readers under test: addresses and packets are packed with ``struct``.
"""

from __future__ import annotations

import struct

import numpy as np

AEDAT2_HEADER = (b"#!AER-DAT2.0\r\n# This is a raw AE data file - do not edit\r\n"
                 b"# Data format is int32 address, int32 timestamp (8 bytes total)\r\n"
                 b"# Timestamps tick: 1 us\r\n")


def aedat2_bytes(events: np.ndarray, chip: str | None, layout: str, extra: list[tuple[int, int]] = ()) -> bytes:
    """AEDAT 2.0: header, then big-endian (address, timestamp); ``extra`` raw (address, ts) records appended."""
    head = AEDAT2_HEADER + (f"# AEChip: {chip}\r\n".encode() if chip else b"")
    body = bytearray()
    for x, y, t, p in events.tolist():
        if layout == "dvs128":
            addr = (y << 8) | (x << 1) | p
        else:
            addr = (y << 22) | (x << 12) | (p << 11)
        body += struct.pack(">Ii", addr, t)
    for addr, t in extra:
        body += struct.pack(">Ii", addr, t)
    return head + bytes(body)


AEDAT3_HEADER = (b"#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n"
                 b"#Start-Time: 2017-01-01 00:00:00 (TZ+0000)\r\n#!END-HEADER\r\n")


def aedat3_packet(events: np.ndarray, ts_overflow: int = 0, valid: list[bool] | None = None,
                  capacity: int | None = None, event_type: int = 1) -> bytes:
    """One AEDAT 3.1 polarity packet (28-byte little-endian header, 8-byte events)."""
    n = len(events)
    capacity = n if capacity is None else capacity
    valid = [True] * n if valid is None else valid
    head = struct.pack("<hhiiiiii", event_type, 1, 8, 4, ts_overflow, capacity, n, sum(valid))
    body = bytearray()
    for (x, y, t, p), v in zip(events.tolist(), valid):
        data = (x << 17) | (y << 2) | (p << 1) | int(v)
        body += struct.pack("<Ii", data, t & 0x7FFFFFFF)
    body += bytes(8 * (capacity - n))
    return head + bytes(body)


def aedat3_other_packet(event_type: int = 2, size: int = 16, number: int = 1) -> bytes:
    """A non-polarity packet (e.g. frame, type 2) with ``number`` events of ``size`` bytes, to be skipped."""
    return struct.pack("<hhiiiiii", event_type, 1, size, 12, 0, number, number, number) + bytes(size * number)
