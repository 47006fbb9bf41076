"""Fuzzing read_idx (issue 14): damaged IDX files, plain and gzipped, end in a ValueError naming the
file or in the array the header declares; never another exception, and memory follows the file.

Each example takes a small valid file, flips bits, writes hostile 32-bit values over the header's
sizes (or anywhere), inserts bytes and maybe cuts the file. Memory: tracemalloc's peak (numpy and
bytearray allocations are traced) stays under a bound set by the real decompressed size, never by
the declared one; a separate check under an address-space cap reads a hostile gzip file.
"""

from __future__ import annotations

import gzip
import resource
import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spikesmith.data.idx import read_idx, write_idx

FUZZ = settings(max_examples=80, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
HOSTILE_WORDS = [0, 1, 3, 0xFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 1 << 20, 1 << 28]


def _valid(tmp, gz: bool) -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    arrays = {
        "images": rng.integers(0, 256, (3, 7, 5), dtype=np.uint8),
        "labels": rng.integers(0, 10, 40, dtype=np.uint8),
        "int16": rng.integers(-999, 999, (6, 4), dtype=np.int16),
        "float64": rng.standard_normal((2, 3, 2, 2)),
    }
    suffix = ".gz" if gz else ""
    return {name: write_idx(tmp / f"{name}{suffix}", a).read_bytes() for name, a in arrays.items()}


@st.composite
def damage(draw, data: bytes, gz: bool) -> bytes:
    """Damage applied to the IDX bytes (then re-gzipped) or, for gzip, to the compressed bytes."""
    raw = bytearray(gzip.decompress(data) if gz and draw(st.booleans()) else data)
    recompress = gz and raw[:2] != b"\x1f\x8b"
    for _ in range(draw(st.integers(1, 4))):
        if not raw:
            break
        kind = draw(st.sampled_from(["flip", "size", "word", "insert"]))
        if kind == "size" and not recompress:
            kind = "flip"
        pos = draw(st.integers(0, len(raw) - 1))
        if kind == "flip":
            raw[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "size":      # a hostile value over one of the header's dimension sizes
            ndim = max(min(raw[3] if len(raw) > 3 else 1, 4), 1)
            at = 4 + 4 * draw(st.integers(0, ndim - 1))
            raw[at:at + 4] = struct.pack(">I", draw(st.sampled_from(HOSTILE_WORDS)))
        elif kind == "word":
            raw[pos:pos + 4] = struct.pack(">I", draw(st.sampled_from(HOSTILE_WORDS)))
        else:
            raw[pos:pos] = draw(st.binary(min_size=1, max_size=8))
    if draw(st.booleans()):
        raw = raw[:draw(st.integers(0, len(raw)))]
    return gzip.compress(bytes(raw), mtime=0) if recompress else bytes(raw)


def _check(path, real_size: int | None, file_size: int) -> None:
    tracemalloc.start()
    try:
        try:
            arr = read_idx(path)
        except ValueError as err:
            assert str(path) in str(err), err
            arr = None
        except OSError:
            arr = None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    bound = 4 * (real_size if real_size is not None else file_size) + (4 << 20)
    assert peak < bound, f"peak {peak} bytes for {real_size} real bytes"
    if arr is not None:       # a valid read: exactly the declared array, nothing left over
        assert real_size is not None and arr.nbytes + 4 + 4 * arr.ndim == real_size


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("kind", ["images", "labels", "int16", "float64"])
def test_damaged_idx_ends_in_a_clean_error_or_the_declared_array(tmp_path, kind, gz):
    data = _valid(tmp_path, gz)[kind]

    @FUZZ
    @given(blob=damage(data, gz))
    def run(blob):
        path = tmp_path / ("fuzz.gz" if gz else "fuzz.idx")
        path.write_bytes(blob)
        try:
            real = len(gzip.decompress(blob)) if blob[:2] == b"\x1f\x8b" else len(blob)
        except (OSError, EOFError, ValueError, zlib.error):
            real = None         # not a readable gzip stream: read_idx must refuse it
        _check(path, real, len(blob))

    run()


def test_hostile_gzip_under_an_address_space_cap(tmp_path):
    # 4 GiB declared, the stream says less: must fail with ValueError while the process may not map
    # more than 256 MiB beyond what it maps now (an allocation of the declared size would fail)
    header = struct.pack(">IIII", 0x00000803, 1 << 16, 256, 256)
    path = tmp_path / "hostile.gz"
    path.write_bytes(gzip.compress(header + bytes(1 << 22), mtime=0))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    vm_kib = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmSize:"))
    cap = vm_kib * 1024 + (256 << 20)
    resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
    try:
        with pytest.raises(ValueError, match="hostile.gz"):
            read_idx(path)
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
