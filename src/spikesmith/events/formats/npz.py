"""spikesmith's own event files: a compressed ``.npz`` with one column per field.

Members (each a ``.npy`` inside a deflate-compressed zip, as ``np.savez_compressed`` writes)::

    format_version  int64 scalar, 1
    sensor_size     int64 [3]       (W, H, P)
    x, y, t, p      int16, int16, int64, int8 [N]

The reader checks every member's ``.npy`` header against the zip directory before reading
(declared shape x item size == stored size, and at most what deflate can expand the file to), so
a corrupt or hostile file fails with an :class:`EventFileError` instead of a giant allocation.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from typing import Any

import numpy as np

from spikesmith.atomic import atomic_write
from spikesmith.events.core import EVENT_DTYPE, check_events, check_sensor_size
from spikesmith.events.formats._common import DEFAULT_TIMESTAMPS, apply_timestamp_policy, EventFileError, fail

FORMAT = "spikesmith .npz events"
FORMAT_VERSION = 1
_COLUMNS = {"x": np.dtype("<i2"), "y": np.dtype("<i2"), "t": np.dtype("<i8"), "p": np.dtype("i1")}
_MAX_RATIO = 1100          # deflate cannot expand data by more than ~1032x
_HEADER_ROOM = 1 << 16     # bytes of .npy header allowed per member


def write(path: str | os.PathLike, events: np.ndarray, sensor_size: Any) -> None:
    """Write ``events`` and ``sensor_size`` to ``path`` atomically (temporary file, then rename)."""
    check_events(events, sensor_size)
    size = np.asarray(check_sensor_size(sensor_size), dtype=np.int64)
    arrays = {"format_version": np.asarray(FORMAT_VERSION, dtype=np.int64), "sensor_size": size}
    arrays.update({k: np.ascontiguousarray(events[k], dtype=dt) for k, dt in _COLUMNS.items()})
    with atomic_write(path) as f:
        np.savez_compressed(f, **arrays)


def _member(zf: zipfile.ZipFile, name: str, path: Any, budget: int) -> np.ndarray:
    try:
        info = zf.getinfo(name + ".npy")
    except KeyError:
        raise fail(path, FORMAT, f"member {name}.npy is missing") from None
    if info.file_size > budget:
        raise fail(path, FORMAT, f"member {name}.npy claims {info.file_size} bytes, more than the file "
                                 f"can hold compressed (corrupt file)")
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise fail(path, FORMAT, f"member {name}.npy has .npy version {version}")
        if dtype.hasobject or dtype.names is not None:
            raise fail(path, FORMAT, f"member {name}.npy has dtype {dtype}, expected plain integers")
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        nbytes = count * dtype.itemsize
        if nbytes > info.file_size:
            raise fail(path, FORMAT, f"member {name}.npy declares {shape} x {dtype} = {nbytes} bytes but "
                                     f"stores {info.file_size} (corrupt file)")
        data = f.read(nbytes)
    if len(data) != nbytes:
        raise fail(path, FORMAT, f"member {name}.npy is cut short ({len(data)} of {nbytes} bytes)")
    arr = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")
    return arr


def read(path: str | os.PathLike, sensor_size: Any = None,
         timestamps: str = DEFAULT_TIMESTAMPS) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Read a file written by :func:`write`: ``(events, sensor_size)``.

    ``sensor_size`` overrides the stored one. Raises EventFileError (a ValueError) for anything
    that is not a complete file of this format and version, and for negative or backward times
    unless ``timestamps`` asks for a repair (``"sort"``, ``"keep"``). The zip's CRC-32
    per member catches flipped bits in the compressed data.
    """
    file_size = os.path.getsize(path)
    budget = file_size * _MAX_RATIO + _HEADER_ROOM
    try:
        with zipfile.ZipFile(path) as zf:
            version = _member(zf, "format_version", path, budget)
            if version.shape != () or not np.issubdtype(version.dtype, np.integer) or int(version) != FORMAT_VERSION:
                raise fail(path, FORMAT, f"format_version is {version!r}, this reader knows {FORMAT_VERSION}")
            stored = _member(zf, "sensor_size", path, budget)
            cols = {k: _member(zf, k, path, budget) for k in _COLUMNS}
    except EventFileError:
        raise
    except (ValueError, zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError,
            RuntimeError, OverflowError, TypeError, SyntaxError) as err:
        if isinstance(err, (FileNotFoundError, IsADirectoryError, PermissionError)):
            raise
        raise fail(path, FORMAT, f"not a readable zip / .npy archive: {type(err).__name__}: {err}") from None
    for k, dt in _COLUMNS.items():
        if cols[k].dtype != dt or cols[k].ndim != 1:
            raise fail(path, FORMAT, f"column {k} is {cols[k].dtype} {list(cols[k].shape)}, expected 1-D {dt}")
    lengths = {k: len(v) for k, v in cols.items()}
    if len(set(lengths.values())) != 1:
        raise fail(path, FORMAT, f"columns have different lengths {lengths}")
    if stored.shape != (3,) or not np.issubdtype(stored.dtype, np.integer):
        raise fail(path, FORMAT, f"sensor_size is {stored!r}, expected 3 integers")
    try:
        size = check_sensor_size(tuple(int(v) for v in stored) if sensor_size is None else sensor_size)
    except ValueError as err:
        raise fail(path, FORMAT, str(err)) from None
    events = np.empty(lengths["x"], dtype=EVENT_DTYPE)
    for k in _COLUMNS:
        events[k] = cols[k]
    try:
        check_events(events, size)
    except ValueError as err:
        raise fail(path, FORMAT, str(err)) from None
    return apply_timestamp_policy(events, path, FORMAT, timestamps), size
