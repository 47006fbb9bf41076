"""Shared helpers for the event-file readers: the error type, bounded file reading, header lines."""

from __future__ import annotations

import os
from pathlib import Path

MAX_HEADER_BYTES = 16 * 1024 * 1024
"""An AEDAT text header longer than this is taken for a corrupt file."""


class EventFileError(ValueError):
    """A file that cannot be read as the format it claims (corrupt, truncated or unsupported).

    A ``ValueError``, so ``except ValueError`` catches it; the message names the file and the
    byte offset where reading failed.
    """


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
