"""Shared helpers for the event-file readers: the error type, bounded file reading, header lines."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

MAX_HEADER_BYTES = 16 * 1024 * 1024
"""An AEDAT text header longer than this is taken for a corrupt file."""


class EventFileError(ValueError):
    """A file that cannot be read as the format it claims (corrupt, truncated or unsupported).

    A ``ValueError``, so ``except ValueError`` catches it; the message names the file and the
    byte offset where reading failed.
    """


TIMESTAMP_POLICIES = ("error", "sort", "keep")
"""What a reader does with negative or out-of-order timestamps (the ``timestamps=`` option):

``"error"`` (the default)  raise :class:`EventFileError` naming the file, the first bad event
                           (its index in the order read, and its time) and these options;
``"sort"``                 sort the events by time (stable); negative times are kept, first,
                           and a stray late time stays last (frames of it are then refused by
                           ``to_frame``'s ``max_bytes`` rather than filling memory);
``"keep"``                 return the events as stored, unchecked.

There is no "drop the bad ones": a single stray time makes either itself or everything after it
look out of order, and no rule tells which without guessing.

No sensor writes times backwards: a negative or decreasing time in a file means damage (a flipped
bit, a cut-and-pasted file) or a recording whose clock was reset, and frames, denoising and
slicing all assume time order. The real recordings tested here (N-MNIST, DAVIS AEDAT 4) are in
order, so the default reads them.
"""
DEFAULT_TIMESTAMPS = "error"


def check_timestamp_policy(timestamps: str) -> str:
    if timestamps not in TIMESTAMP_POLICIES:
        raise ValueError(f"timestamps must be one of {TIMESTAMP_POLICIES}, got {timestamps!r}")
    return timestamps


def apply_timestamp_policy(events: np.ndarray, path: str | os.PathLike, fmt: str,
                           timestamps: str = DEFAULT_TIMESTAMPS) -> np.ndarray:
    """``events`` checked or repaired by the ``timestamps`` policy (see :data:`TIMESTAMP_POLICIES`)."""
    check_timestamp_policy(timestamps)
    t = events["t"]
    if timestamps == "keep" or t.size == 0:
        return events
    negative = t < 0
    backwards = np.zeros(t.size, dtype=bool)
    backwards[1:] = t[1:] < t[:-1]
    if not (negative.any() or backwards.any()):
        return events
    if timestamps == "sort":
        return events[np.argsort(t, kind="stable")]
    fix = "pass timestamps='sort' to sort the events by time or timestamps='keep' to read them as stored"
    if negative.any():
        i = int(np.argmax(negative))
        raise fail(path, fmt, f"event {i} has a negative timestamp {int(t[i])} µs "
                              f"({int(negative.sum())} such event(s); damaged file?); {fix}")
    i = int(np.argmax(backwards))
    raise fail(path, fmt, f"timestamps go backwards: event {i} is at {int(t[i])} µs, event {i - 1} at "
                          f"{int(t[i - 1])} µs ({int(backwards.sum())} such step(s); damaged file or "
                          f"a clock reset?); {fix}")


def read_all(path: str | os.PathLike) -> bytes:
    """The bytes of ``path``; FileNotFoundError / IsADirectoryError as Python raises them."""
    return Path(path).read_bytes()


def fail(path: str | os.PathLike, fmt: str, message: str) -> EventFileError:
    """An :class:`EventFileError` for ``path`` read as ``fmt``."""
    return EventFileError(f"{fmt} file {str(path)!r}: {message}")


def header_lines(data: bytes, path: str | os.PathLike, fmt: str, end_marker: bytes | None = None,
                 ) -> tuple[list[str], int]:
    """Parse the ``#`` lines at the start of an AEDAT file; return them (decoded) and the body offset.

    A header line starts with ``#``, holds printable ASCII (tabs, ``\\r`` allowed) and ends with
    ``\\n``. With ``end_marker`` (AEDAT 3.1: ``#!END-HEADER``) the header ends right after that line
    and the marker is required; without it, at the first line that is not a header line (so an
    event whose first byte is ``#`` is not eaten as long as its bytes are not printable text).
    """
    lines: list[str] = []
    pos = 0
    n = len(data)
    while pos < n and data[pos:pos + 1] == b"#":
        nl = data.find(b"\n", pos, min(n, pos + MAX_HEADER_BYTES))
        if nl < 0:
            if end_marker is not None or n - pos >= MAX_HEADER_BYTES:
                raise fail(path, fmt, f"header line at byte {pos} does not end (truncated file?)")
            raw = data[pos:]
            if not _printable(raw):
                break
            lines.append(raw.decode("ascii").rstrip("\r"))
            pos = n
            break
        raw = data[pos:nl]
        if not _printable(raw):
            if end_marker is not None:
                raise fail(path, fmt, f"header line at byte {pos} is not text (corrupt header)")
            break
        line = raw.decode("ascii").rstrip("\r")
        lines.append(line)
        pos = nl + 1
        if pos > MAX_HEADER_BYTES:
            raise fail(path, fmt, f"header longer than {MAX_HEADER_BYTES} bytes (corrupt file?)")
        if end_marker is not None and raw.rstrip(b"\r") == end_marker:
            return lines, pos
    if end_marker is not None:
        raise fail(path, fmt, f"no {end_marker.decode()} line ending the header (truncated or not this format)")
    return lines, pos


_TEXT_BYTES = bytes([9, 13, *range(32, 127)])


def _printable(raw: bytes) -> bool:
    return not raw.translate(None, _TEXT_BYTES)
