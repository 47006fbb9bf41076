"""Reading and writing event files: ``read(path)`` finds the format, ``write(path, events, ...)``.

========== ========================================== ====== ===== ==============================
format     files                                      read   write detected by
========== ========================================== ====== ===== ==============================
nmnist     N-MNIST / N-Caltech101 ``.bin`` (ATIS)     yes    yes   ``.bin`` extension
aedat2     AEDAT 2.0 (jAER: DVS128, DAVIS)            yes    no    ``#!AER-DAT2.0`` first line
aedat3     AEDAT 3.1 (cAER, DVS128 Gesture)           yes    no    ``#!AER-DAT3.1`` first line
aedat4     AEDAT 4.0 (DV), needs the ``aedat`` extra  yes    no    ``#!AER-DAT4.0`` first line
npz        spikesmith's compressed ``.npz``           yes    yes   zip magic / ``.npz``
========== ========================================== ====== ===== ==============================

Every reader returns ``(events, sensor_size)`` and raises :class:`EventFileError` (a ValueError
naming the file and what is wrong) on corrupt or truncated bytes; sizes read from a file are
checked against the file's length before anything is allocated. Writes are atomic.

Example::

    events, sensor_size = read("sample_nmnist.bin")          # (N,) EVENT_DTYPE, (34, 34, 2)
    write("sample.npz", events, sensor_size=sensor_size)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from spikesmith.atomic import atomic_write
from spikesmith.events.core import check_events, check_sensor_size
from spikesmith.events.formats import aedat2, aedat3, aedat4, atis, npz
from spikesmith.events.formats._common import EventFileError

FORMATS = ("nmnist", "aedat2", "aedat3", "aedat4", "npz")
WRITABLE = ("nmnist", "npz")
_ALIASES = {"atis": "nmnist", "ncaltech101": "nmnist", "bin": "nmnist", "aedat4.0": "aedat4",
            "aedat2.0": "aedat2", "aedat3.1": "aedat3"}
_EXTENSIONS = {".bin": "nmnist", ".npz": "npz", ".aedat4": "aedat4"}


def _canonical(fmt: str) -> str:
    name = str(fmt).lower().replace("-", "").replace("_", "").replace(" ", "")
    name = _ALIASES.get(name, name)
    if name not in FORMATS:
        raise ValueError(f"unknown event file format {fmt!r}; known formats: {', '.join(FORMATS)}")
    return name


def detect_format(path: str | os.PathLike) -> str:
    """The format of ``path`` from its first bytes, else its extension; ValueError if neither tells."""
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith(b"#!AER-DAT2."):
        return "aedat2"
    if head.startswith(b"#!AER-DAT3.1"):
        return "aedat3"
    if head.startswith(b"#!AER-DAT4."):
        return "aedat4"
    if head.startswith(b"#!AER-DAT"):
        version = head.split(b"\n")[0].decode("ascii", "replace").strip()
        raise EventFileError(f"{str(path)!r}: AEDAT version line {version!r} is not supported "
                             "(supported: 2.0, 3.1, 4.0)")
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "npz"
    ext = Path(path).suffix.lower()
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    raise ValueError(f"cannot tell the event format of {str(path)!r} (no AEDAT version line, not a zip, "
                     f"extension {ext!r}); pass format= one of {', '.join(FORMATS)}")


def read(path: str | os.PathLike, format: str | None = None, sensor_size: Any = None,
         **options: Any) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Read an event file: ``(events, sensor_size)``.

    Args:
        path: the file.
        format: one of ``nmnist``, ``aedat2``, ``aedat3``, ``aedat4``, ``npz``; None detects it.
        sensor_size: ``(W, H, P)`` overriding what the file says or what is inferred.
        options: format-specific: ``layout`` (aedat2: ``"dvs128"`` / ``"davis"``),
            ``stream_id`` (aedat4).

    Raises:
        EventFileError (ValueError): corrupt, truncated or unsupported file.
        FileNotFoundError: no such file. ImportError: aedat4 without the ``aedat`` package.
    """
    fmt = _canonical(format) if format is not None else detect_format(path)
    allowed = {"aedat2": {"layout"}, "aedat4": {"stream_id"}}.get(fmt, set())
    unknown = set(options) - allowed
    if unknown:
        raise TypeError(f"read: format {fmt!r} takes no option(s) {sorted(unknown)}; "
                        f"it takes {sorted(allowed) or 'none'}")
    if fmt == "nmnist":
        return atis.read(path, sensor_size)
    if fmt == "aedat2":
        return aedat2.read(path, options.get("layout"), sensor_size)
    if fmt == "aedat3":
        return aedat3.read(path, sensor_size)
    if fmt == "aedat4":
        return aedat4.read(path, options.get("stream_id"), sensor_size)
    return npz.read(path, sensor_size)


def write(path: str | os.PathLike, events: np.ndarray, format: str | None = None,
          sensor_size: Any = None) -> Path:
    """Write ``events`` atomically to ``path``; returns the path.

    ``format`` is ``"nmnist"`` or ``"npz"`` (None: from the extension, ``.bin`` / ``.npz``).
    ``npz`` needs ``sensor_size`` (it is stored); ``nmnist`` checks the events against it when given.
    Events are written in the order given.
    """
    if format is None:
        ext = Path(path).suffix.lower()
        if ext not in (".bin", ".npz"):
            raise ValueError(f"write: cannot tell the format from {str(path)!r}; pass format= one of {WRITABLE}")
        fmt = _EXTENSIONS[ext]
    else:
        fmt = _canonical(format)
    if fmt not in WRITABLE:
        raise ValueError(f"write: format {fmt!r} is read-only here; writable formats: {', '.join(WRITABLE)}")
    check_events(events, sensor_size)
    if fmt == "npz":
        if sensor_size is None:
            raise ValueError("write: the npz format stores the sensor size; pass sensor_size=(W, H, P)")
        check_sensor_size(sensor_size)
        npz.write(path, events, sensor_size)
    else:
        data = atis.encode(events)
        with atomic_write(path) as f:
            f.write(data)
    return Path(path)


__all__ = ["EventFileError", "FORMATS", "WRITABLE", "detect_format", "read", "write"]
