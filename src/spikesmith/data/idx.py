"""The IDX file format of MNIST and Fashion-MNIST: read and write, plain or gzipped.

Layout (all integers big-endian)::

    bytes 0-1   0x00 0x00
    byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions D
    4 * D       the size of each dimension, uint32
    ...         prod(sizes) elements, row-major

So the magic number 0x00000801 is a uint8 vector (labels) and 0x00000803 a uint8 array of
3 dimensions (images N x rows x cols).

:func:`read_idx` checks the header and that the file holds exactly the declared number of bytes
before it allocates anything of that size (for gzip: against the deflate expansion bound and the
gzip trailer, and above :data:`COUNT_FIRST_ABOVE` declared bytes against the stream itself,
counted in 1 MiB chunks without keeping them): a corrupt, truncated or hostile file raises a
``ValueError`` naming the file, the declared and the actual size, and the fix. Gzip is recognised by its leading bytes, whatever the suffix.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from spikesmith.atomic import atomic_write

IDX_LABELS_MAGIC = 0x00000801
"""Magic number of a uint8 vector: MNIST labels."""
IDX_IMAGES_MAGIC = 0x00000803
"""Magic number of a uint8 array with 3 dimensions: MNIST images N x 28 x 28."""

_TYPE_CODES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20  # gzip data is counted and read in chunks of this size
COUNT_FIRST_ABOVE = 256 << 20
"""A gzipped IDX file declaring more data bytes than this is counted in a first pass before its array
is allocated; smaller ones (every MNIST file: 47 MB at most) are read in one pass."""
_MAX_DEFLATE_RATIO = 1032  # deflate cannot expand data by more (258-byte matches of ~2 bits each)


def describe_magic(magic: int) -> str:
    """Human-readable meaning of an IDX magic number, e.g. ``'uint8, 3 dims'``."""
    dtype = _TYPE_CODES.get((magic >> 8) & 0xFF)
    kind = dtype.name if dtype is not None else f"unknown type 0x{(magic >> 8) & 0xFF:02X}"
    return f"{kind}, {magic & 0xFF} dims"


def _open(path: Path) -> tuple[BinaryIO, bool]:
    """Open ``path`` for reading, transparently decompressing gzip; also say whether it was gzip."""
    with open(path, "rb") as probe:
        lead = probe.read(2)
    if lead == _GZIP_MAGIC:
        return gzip.open(path, "rb"), True
    return open(path, "rb"), False


def _read_exact(f: BinaryIO, n: int) -> bytes:
    """Read up to ``n`` bytes (fewer only at the end of the stream)."""
    parts, got = [], 0
    while got < n:
        part = f.read(n - got)
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def _read_header(f: BinaryIO, path: Path, expected_magic: int | None) -> tuple[int, tuple[int, ...]]:
    head = _read_exact(f, 4)
    if len(head) < 4:
        raise ValueError(f"IDX file {path}: header truncated, the file holds only {len(head)} byte(s)"
                         " but an IDX header needs at least 4")
    (magic,) = struct.unpack(">I", head)
    if expected_magic is not None and magic != expected_magic:
        raise ValueError(f"IDX file {path}: bad magic number 0x{magic:08X} ({describe_magic(magic)}), "
                         f"expected 0x{expected_magic:08X} ({describe_magic(expected_magic)}); "
                         "is this the right file (images vs labels) and not corrupt?")
    if magic >> 16 != 0 or (magic >> 8) & 0xFF not in _TYPE_CODES:
        raise ValueError(f"IDX file {path}: bad magic number 0x{magic:08X}; an IDX file starts with "
                         "0x00 0x00, then a type code (0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E), "
                         "then the number of dimensions")
    ndim = magic & 0xFF
    if ndim == 0:
        raise ValueError(f"IDX file {path}: magic number 0x{magic:08X} declares 0 dimensions; "
                         "an IDX array needs at least 1")
    dims_raw = _read_exact(f, 4 * ndim)
    if len(dims_raw) < 4 * ndim:
        raise ValueError(f"IDX file {path}: header truncated, {ndim} dimension sizes declared "
                         f"({4 * ndim} bytes) but only {len(dims_raw)} byte(s) follow the magic number")
    return magic, struct.unpack(f">{ndim}I", dims_raw)


def read_idx(path: str | os.PathLike, expected_magic: int | None = None) -> np.ndarray:
    """Read an IDX file (gzipped or not) into a numpy array of native byte order.

    Args:
        path: the file, e.g. ``train-images-idx3-ubyte.gz``.
        expected_magic: if given, the file's magic number must equal it, e.g.
            :data:`IDX_IMAGES_MAGIC` (uint8, 3 dims) or :data:`IDX_LABELS_MAGIC` (uint8, 1 dim).

    Returns:
        An array of the declared shape and type, e.g. ``uint8`` of shape ``(60000, 28, 28)``.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the header is malformed, the magic number is wrong, or the data is shorter or
            longer than the header declares (the message names the file and both sizes).

    Example::

        write_idx("l.idx", np.array([3, 1, 4], dtype=np.uint8))
        read_idx("l.idx", expected_magic=IDX_LABELS_MAGIC)   # array([3, 1, 4], dtype=uint8)
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file {path} does not exist (or is not a regular file)")
    try:
        f, is_gzip = _open(path)
        with f:
            magic, dims = _read_header(f, path, expected_magic)
            dtype = _TYPE_CODES[(magic >> 8) & 0xFF]
            n_bytes = math.prod(dims) * dtype.itemsize
            header_bytes = 4 + 4 * len(dims)
            if n_bytes == 0 and math.prod(d for d in dims if d) * dtype.itemsize >= 2**63:  # numpy: too big
                raise ValueError(f"IDX file {path}: the header declares shape {dims}, which no array can "
                                 "have; the header is corrupt; delete the file and fetch it again")
            if not is_gzip:
                actual = path.stat().st_size - header_bytes
                if actual != n_bytes:
                    raise ValueError(_size_message(path, dims, dtype, n_bytes, actual))
            else:
                _check_gzip_size(f, path, dims, dtype, n_bytes, header_bytes)
            buf = bytearray(n_bytes)
            got = _readinto_full(f, buf)
            extra = _readinto_count(f, bytearray(_CHUNK)) if is_gzip else 0   # to the end: checks the CRC
            if is_gzip and (got != n_bytes or extra):
                raise ValueError(_size_message(path, dims, dtype, n_bytes, got + extra))
            if got != n_bytes:
                raise ValueError(f"IDX file {path}: changed size while being read; read it again")
    except (EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise ValueError(f"IDX file {path}: corrupt or truncated gzip stream ({err}); "
                         "delete the file and fetch it again") from err
    arr = np.frombuffer(buf, dtype=dtype).reshape(dims)
    return arr if dtype.byteorder in ("=", "|") else arr.astype(dtype.newbyteorder("="))


def _readinto_full(f: BinaryIO, buf: bytearray) -> int:
    """Fill ``buf`` from ``f``; the number of bytes read (less than ``len(buf)`` only at the end)."""
    view, got = memoryview(buf), 0
    while got < len(buf):
        n = f.readinto(view[got:got + _CHUNK])
        if not n:
            break
        got += n
    return got


def _check_gzip_size(f: BinaryIO, path: Path, dims: tuple[int, ...], dtype: np.dtype, n_bytes: int,
                     header_bytes: int) -> None:
    """Check the declared size of a gzipped IDX file against what the stream really holds.

    Three checks, cheapest first, before anything of the declared size is allocated:

    1. deflate expands data at most ~1032 times, so a declared size above
       ``_MAX_DEFLATE_RATIO`` x the file size cannot be there (no decompression at all);
    2. the gzip trailer's ISIZE (the decompressed size mod 2**32) must match: a file that declares
       3 GB but holds less fails here in microseconds. Every IDX writer makes one gzip member; a
       file of several concatenated members must be recompressed (``gunzip -c f | gzip``);
    3. the trailer can lie (a forged or damaged one that happens to match): above
       :data:`COUNT_FIRST_ABOVE` declared bytes the stream is first decompressed into a fixed 1 MiB
       buffer, counting bytes (memory stays at one chunk), and the count must equal the declared
       size; the caller then rewinds ``f`` and reads the data for real. Up to that size the array
       is allocated and filled in one pass (a lying trailer then costs at most that much memory,
       and the pass still ends in the size error): decompressing twice would double the load time
       of every MNIST file (47 MB: 0.8 s more here) to guard against a deliberately forged trailer.
    """
    compressed = path.stat().st_size
    if n_bytes + header_bytes > compressed * _MAX_DEFLATE_RATIO + _CHUNK:
        raise ValueError(
            f"IDX file {path}: truncated or corrupt: the header declares shape {dims} of {dtype.name} = "
            f"{n_bytes} data bytes but a gzip file of {compressed} bytes decompresses to at most "
            f"{compressed * _MAX_DEFLATE_RATIO}; delete the file and fetch it again")
    with open(path, "rb") as raw:
        raw.seek(max(compressed - 4, 0))
        trailer = raw.read(4)
    isize = struct.unpack("<I", trailer)[0] if len(trailer) == 4 else -1
    if isize != (n_bytes + header_bytes) % 2**32:
        actual = isize - header_bytes
        if 0 <= actual < 2**32 - header_bytes and n_bytes < 2**32:
            raise ValueError(_size_message(path, dims, dtype, n_bytes, actual) +
                             " (size from the gzip trailer)")
        raise ValueError(f"IDX file {path}: the header declares shape {dims} of {dtype.name} = {n_bytes} "
                         f"data bytes but the gzip trailer records {isize} decompressed bytes in all; "
                         "the file is truncated or corrupt; delete it and fetch it again")
    if n_bytes <= COUNT_FIRST_ABOVE:
        return
    scratch = bytearray(_CHUNK)
    actual = _readinto_count(f, scratch)
    if actual != n_bytes:
        raise ValueError(_size_message(path, dims, dtype, n_bytes, actual))
    f.seek(header_bytes)


def _readinto_count(f: BinaryIO, scratch: bytearray) -> int:
    """Read ``f`` to its end through ``scratch``, returning the number of bytes (memory: one chunk)."""
    total = 0
    while n := f.readinto(scratch):
        total += n
    return total


def _size_message(path: Path, dims: tuple[int, ...], dtype: np.dtype, declared: int, actual: int) -> str:
    if actual < declared:
        problem = f"truncated: the header declares shape {dims} of {dtype.name} = {declared} data bytes " \
                  f"but the file holds only {actual}"
    else:
        problem = f"the header declares shape {dims} of {dtype.name} = {declared} data bytes " \
                  f"but the file holds {actual}; the header or the data is corrupt"
    return f"IDX file {path}: {problem}; delete the file and fetch it again"


def _as_numpy(array: Any) -> np.ndarray:
    if hasattr(array, "detach") and hasattr(array, "cpu"):  # torch.Tensor without importing torch
        array = array.detach().cpu().numpy()
    if not isinstance(array, np.ndarray):
        raise TypeError(f"write_idx expects a numpy array or torch tensor, got {type(array).__name__}; "
                        "wrap it with np.asarray(...)")
    return array


def write_idx(path: str | os.PathLike, array: Any) -> Path:
    """Write ``array`` as an IDX file, gzipped when ``path`` ends with ``.gz``; atomically.

    The data goes to a temporary file in the same folder which is then renamed onto ``path``,
    so a crash never leaves a half-written file. Supported dtypes: uint8, int8, int16, int32,
    float32, float64 (stored big-endian, as the format requires).

    Example::

        write_idx("t10k-labels-idx1-ubyte.gz", np.arange(10, dtype=np.uint8))  # magic 0x00000801
    """
    arr = _as_numpy(array)
    codes = {dt.newbyteorder("=") if dt.itemsize > 1 else dt: code for code, dt in _TYPE_CODES.items()}
    native = arr.dtype.newbyteorder("=") if arr.dtype.itemsize > 1 else arr.dtype
    if native not in codes:
        raise TypeError(f"write_idx: dtype {arr.dtype} has no IDX type code; cast the array to one of "
                        "uint8, int8, int16, int32, float32, float64 (e.g. array.astype(np.int32))")
    if arr.ndim == 0 or arr.ndim > 255:
        raise ValueError(f"write_idx: array must have 1 to 255 dimensions, got {arr.ndim}; "
                         "use array.reshape(1) for a scalar")
    if any(d > 0xFFFFFFFF for d in arr.shape):
        raise ValueError(f"write_idx: each dimension must fit in uint32, got shape {arr.shape}")
    code = codes[native]
    header = struct.pack(">I", (code << 8) | arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    data = np.ascontiguousarray(arr, dtype=_TYPE_CODES[code]).tobytes()
    path = Path(path)
    with atomic_write(path) as raw:
        if path.suffix == ".gz":
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
                gz.write(header)
                gz.write(data)
        else:
            raw.write(header)
            raw.write(data)
    return path
