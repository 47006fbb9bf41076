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
checked against the file's length before anything is allocated. Negative or backward times are
an error too unless the caller asks for a repair: ``read(path, timestamps="sort")`` (or
``"keep"``), the same keyword for every format. Writes are atomic.

What each format can and cannot tell about damage:

* ``nmnist`` and ``aedat2`` store no event count or checksum: a file cut at a record boundary
  (5 / 8 bytes) reads as a shorter, valid recording, and a flipped bit that leaves the event on
  the sensor and in time order is accepted. Other cuts, off-sensor coordinates and times out of
  order are detected.
* ``aedat3`` checks every packet header (event size, capacity, count, offsets) against the bytes
  left; a file cut exactly between packets still reads short, and payload bits are unchecked.
* ``aedat4`` is decoded by the ``aedat`` package, which checks the packet framing (and LZ4 / ZSTD
  frames when compressed); an uncompressed payload bit flip can still pass.
* ``npz`` carries a CRC-32 per member: flips and cuts are detected.

Example::

    events, sensor_size = read("sample_nmnist.bin")          # (N,) EVENT_DTYPE, (34, 34, 2)
    write("sample.npz", events, sensor_size=sensor_size)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from spikesmith.events.core import check_events, check_sensor_size
from spikesmith.events.formats import aedat2, aedat3, aedat4, atis, npz
from spikesmith.events.formats._common import (
    DEFAULT_TIMESTAMPS, TIMESTAMP_POLICIES, EventFileError, apply_timestamp_policy, check_timestamp_policy,
)
from spikesmith.registry import Registry, compact_key


@dataclass(frozen=True)
class EventFormat:
    """One event file format: how to recognise, read and (optionally) write it.

    ``read(path, sensor_size, **options)`` returns ``(events, sensor_size)``; ``write(path, events,
    sensor_size)`` writes atomically (None: read-only). ``magic`` are the first bytes that identify a
    file, ``extensions`` the suffixes that do when no magic matches; ``options`` are the keyword
    arguments ``read`` accepts besides the sensor size.
    """

    read: Callable[..., tuple[np.ndarray, tuple[int, int, int]]]
    write: Optional[Callable[[Any, np.ndarray, Any], None]] = None
    extensions: tuple[str, ...] = ()
    magic: tuple[bytes, ...] = ()
    options: tuple[str, ...] = ()
    stores_sensor_size: bool = False


FORMATS: Registry[EventFormat] = Registry("event file format", normalise=compact_key, plural="formats")
"""Event file formats by name; names compare without case, ``-``, ``_`` or spaces (``AEDAT-4.0``)."""
# the built-in readers return events as stored ("keep"): read() applies the timestamps policy once
_AS_STORED = "keep"
FORMATS.register("nmnist", EventFormat(lambda path, sensor_size: atis.read(path, sensor_size, _AS_STORED),
                                       atis.write, extensions=(".bin",)),
                 aliases=("atis", "ncaltech101", "bin"))
FORMATS.register("aedat2", EventFormat(lambda path, sensor_size, layout=None: aedat2.read(path, layout, sensor_size,
                                                                                          _AS_STORED),
                                       magic=(b"#!AER-DAT2.",), options=("layout",)),
                 aliases=("aedat2.0",))
FORMATS.register("aedat3", EventFormat(lambda path, sensor_size: aedat3.read(path, sensor_size, _AS_STORED),
                                       magic=(b"#!AER-DAT3.1",)),
                 aliases=("aedat3.1",))
FORMATS.register("aedat4", EventFormat(lambda path, sensor_size, stream_id=None: aedat4.read(path, stream_id, sensor_size,
                                                                                            _AS_STORED),
                                       extensions=(".aedat4",), magic=(b"#!AER-DAT4.",), options=("stream_id",)),
                 aliases=("aedat4.0",))
FORMATS.register("npz", EventFormat(lambda path, sensor_size: npz.read(path, sensor_size, _AS_STORED), npz.write,
                                    extensions=(".npz",), magic=(b"PK\x03\x04", b"PK\x05\x06"),
                                    stores_sensor_size=True))


def writable() -> tuple[str, ...]:
    """The names of the registered formats that can be written."""
    return tuple(name for name, fmt in FORMATS.items() if fmt.write is not None)


WRITABLE: tuple[str, ...] = writable()
"""The built-in writable formats (formats registered later: :func:`writable`)."""


def _canonical(fmt: str) -> str:
    return FORMATS.canonical(str(fmt))


def _by_extension(path: str | os.PathLike) -> Optional[str]:
    ext = Path(path).suffix.lower()
    return next((name for name, fmt in FORMATS.items() if ext in fmt.extensions), None)


def detect_format(path: str | os.PathLike) -> str:
    """The format of ``path`` from its first bytes, else its extension; ValueError if neither tells."""
    with open(path, "rb") as f:
        head = f.read(16)
    for name, fmt in FORMATS.items():
        if any(head.startswith(magic) for magic in fmt.magic):
            return name
    if head.startswith(b"#!AER-DAT"):
        version = head.split(b"\n")[0].decode("ascii", "replace").strip()
        raise EventFileError(f"{str(path)!r}: AEDAT version line {version!r} is not supported "
                             "(supported: 2.0, 3.1, 4.0)")
    name = _by_extension(path)
    if name is not None:
        return name
    raise ValueError(f"cannot tell the event format of {str(path)!r} (no AEDAT version line, not a zip, "
                     f"extension {Path(path).suffix.lower()!r}); pass format= one of {', '.join(FORMATS)}")


def read(path: str | os.PathLike, format: str | None = None, sensor_size: Any = None,
         timestamps: str = DEFAULT_TIMESTAMPS, **options: Any) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Read an event file: ``(events, sensor_size)``.

    Args:
        path: the file.
        format: one of ``nmnist``, ``aedat2``, ``aedat3``, ``aedat4``, ``npz``; None detects it.
        sensor_size: ``(W, H, P)`` overriding what the file says or what is inferred.
        timestamps: what to do with negative or backward times, in every format: ``"error"``
            (default: EventFileError naming the file, the first bad event and its time),
            ``"sort"`` (sort by time) or ``"keep"`` (as stored); see
            :data:`~spikesmith.events.formats._common.TIMESTAMP_POLICIES`.
        options: format-specific: ``layout`` (aedat2: ``"dvs128"`` / ``"davis"``),
            ``stream_id`` (aedat4).

    Raises:
        EventFileError (ValueError): corrupt, truncated or unsupported file, or times out of order.
        FileNotFoundError: no such file. ImportError: aedat4 without the ``aedat`` package.
    """
    check_timestamp_policy(timestamps)
    name = _canonical(format) if format is not None else detect_format(path)
    fmt = FORMATS[name]
    unknown = set(options) - set(fmt.options)
    if unknown:
        raise TypeError(f"read: format {name!r} takes no option(s) {sorted(unknown)}; "
                        f"it takes {sorted(fmt.options) or 'none'}")
    events, size = fmt.read(path, sensor_size, **options)
    return apply_timestamp_policy(events, path, name, timestamps), size


def write(path: str | os.PathLike, events: np.ndarray, format: str | None = None,
          sensor_size: Any = None) -> Path:
    """Write ``events`` atomically to ``path``; returns the path.

    ``format`` is ``"nmnist"`` or ``"npz"`` (None: from the extension, ``.bin`` / ``.npz``).
    ``npz`` needs ``sensor_size`` (it is stored); ``nmnist`` checks the events against it when given.
    Events are written in the order given; readers refuse times out of order unless asked
    (``timestamps="sort"`` / ``"keep"``), so sort first (:func:`~spikesmith.events.sort_events`).
    """
    if format is None:
        name = _by_extension(path)
        if name not in writable():
            extensions = [ext for n in writable() for ext in FORMATS[n].extensions]
            raise ValueError(f"write: cannot tell the format from {str(path)!r} (writable extensions: "
                             f"{', '.join(extensions)}); pass format= one of {writable()}")
    else:
        name = _canonical(format)
    fmt = FORMATS[name]
    if fmt.write is None:
        raise ValueError(f"write: format {name!r} is read-only here; writable formats: {', '.join(writable())}")
    check_events(events, sensor_size)
    if fmt.stores_sensor_size:
        if sensor_size is None:
            raise ValueError(f"write: the {name} format stores the sensor size; pass sensor_size=(W, H, P)")
        sensor_size = check_sensor_size(sensor_size)
    fmt.write(path, events, sensor_size)
    return Path(path)


__all__ = ["EventFileError", "EventFormat", "TIMESTAMP_POLICIES", "FORMATS", "WRITABLE", "detect_format", "read", "writable", "write"]
