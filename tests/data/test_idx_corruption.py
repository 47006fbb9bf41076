"""Every way an IDX file can be broken gives a ValueError that names the file and the problem."""

from __future__ import annotations

import gzip
import struct
import time
import tracemalloc
import zlib

import numpy as np
import pytest

from spikesmith.data import idx
from spikesmith.data.idx import IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, read_idx, write_idx


def _write(path, data: bytes, gz: bool = False):
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


def _images_bytes(n=2):
    return struct.pack(">IIII", IDX_IMAGES_MAGIC, n, 28, 28) + bytes(n * 28 * 28)


@pytest.mark.parametrize("gz", [False, True])
def test_wrong_magic_for_the_expected_kind(tmp_path, gz):
    path = _write(tmp_path / "labels-as-images", struct.pack(">II", IDX_LABELS_MAGIC, 2) + b"\x01\x02", gz)
    with pytest.raises(ValueError, match=r"labels-as-images.*0x00000801.*expected 0x00000803") as err:
        read_idx(path, expected_magic=IDX_IMAGES_MAGIC)
    assert "uint8, 1 dims" in str(err.value) and "uint8, 3 dims" in str(err.value)


@pytest.mark.parametrize("head", [b"\x01\x00\x08\x01", b"\x00\x00\x07\x01", b"PK\x03\x04"])
def test_bad_magic_without_expectation(tmp_path, head):
    path = _write(tmp_path / "bad.idx", head + b"\x00\x00\x00\x01\x05")
    with pytest.raises(ValueError, match=r"bad\.idx: bad magic number"):
        read_idx(path)


def test_zero_dimensions_is_rejected(tmp_path):
    path = _write(tmp_path / "zero", b"\x00\x00\x08\x00\x05")
    with pytest.raises(ValueError, match="zero: .*declares 0 dimensions"):
        read_idx(path)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("data, what", [(b"", "0 byte"), (b"\x00\x00\x08", "3 byte"),
                                        (b"\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00", "only 6 byte")])
def test_truncated_header(tmp_path, gz, data, what):
    path = _write(tmp_path / "short", data, gz)
    with pytest.raises(ValueError, match=f"short: header truncated.*{what}"):
        read_idx(path)


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_data(tmp_path, gz):
    path = _write(tmp_path / "img", _images_bytes(2)[:-100], gz)
    with pytest.raises(ValueError, match=r"img: truncated.*\(2, 28, 28\).*1568 data bytes.*only 1468"):
        read_idx(path, expected_magic=IDX_IMAGES_MAGIC)


@pytest.mark.parametrize("gz", [False, True])
def test_extra_bytes_after_the_data(tmp_path, gz):
    path = _write(tmp_path / "img", _images_bytes(2) + b"\x00" * 7, gz)
    with pytest.raises(ValueError, match=r"img: .*1568 data bytes but the file holds 1575"):
        read_idx(path)


@pytest.mark.parametrize("gz", [False, True])
def test_huge_declared_size_fails_without_allocating_it(tmp_path, gz):
    # 4 GiB^3 elements declared, 10 bytes present: must be a ValueError, not MemoryError/OverflowError
    path = _write(tmp_path / "huge", struct.pack(">IIII", IDX_IMAGES_MAGIC, *(0xFFFFFFFF,) * 3) + bytes(10), gz)
    with pytest.raises(ValueError, match="huge: truncated"):
        read_idx(path)


def test_gz_header_declaring_more_than_present_allocates_only_what_is_present(tmp_path):
    # 1 GiB declared, 1 MiB present (compresses to ~1 KiB): peak memory must stay near 1 MiB
    header = struct.pack(">IIII", IDX_IMAGES_MAGIC, 1 << 20, 32, 32)
    path = _write(tmp_path / "big.gz", header + bytes(1 << 20), gz=True)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="truncated"):
            read_idx(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * (1 << 20), f"peak {peak} bytes: the declared size was allocated up front"


def test_corrupt_gzip_stream(tmp_path):
    good = write_idx(tmp_path / "ok.gz", np.arange(200, dtype=np.uint8).reshape(2, 10, 10)).read_bytes()
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 0xFF  # flip a byte inside the deflate data
    path = _write(tmp_path / "flipped.gz", bytes(bad))
    with pytest.raises(ValueError, match="flipped.gz: .*(corrupt|truncated)"):
        read_idx(path)


def test_crc_mismatch_is_caught(tmp_path):
    good = write_idx(tmp_path / "ok.gz", np.arange(50, dtype=np.uint8)).read_bytes()
    bad = good[:-8] + bytes([good[-8] ^ 0xFF]) + good[-7:]  # CRC32 of the gzip trailer
    path = _write(tmp_path / "crc.gz", bad)
    with pytest.raises(ValueError, match="crc.gz: corrupt or truncated gzip stream"):
        read_idx(path)


def test_cut_gzip_stream(tmp_path):
    good = write_idx(tmp_path / "ok.gz", np.arange(3000, dtype=np.int16)).read_bytes()
    path = _write(tmp_path / "cut.gz", good[: len(good) // 2])
    with pytest.raises(ValueError, match="cut.gz: "):
        read_idx(path)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        read_idx(tmp_path / "nothing-here")


def _gzip_zeros(header: bytes, n_zeros: int) -> bytes:
    """A gzip stream of ``header`` and ``n_zeros`` zero bytes, built chunk by chunk (level 1: fast)."""
    z = zlib.compressobj(1, zlib.DEFLATED, 31)
    parts, chunk = [z.compress(header)], bytes(1 << 22)
    while n_zeros > 0:
        parts.append(z.compress(chunk[:min(n_zeros, len(chunk))]))
        n_zeros -= len(chunk)
    parts.append(z.flush())
    return b"".join(parts)


def _peak_while_failing(path, match):
    tracemalloc.start()
    try:
        start = time.perf_counter()
        with pytest.raises(ValueError, match=match) as err:
            read_idx(path)
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return err.value, elapsed, peak


def test_gzip_bomb_declaring_more_than_it_holds_fails_fast_without_allocating(tmp_path):
    # issue 14: a small .gz whose header declares far more than the stream holds used to grow a
    # buffer to everything the stream held (3.0 GB for 17.8 s) before its error; the gzip trailer
    # says the real size, so it fails in microseconds with both sizes named
    declared, held = 64 << 20, (64 << 20) - 1000
    header = struct.pack(">IIII", IDX_IMAGES_MAGIC, declared // 1024, 32, 32)
    path = tmp_path / "bomb.gz"
    path.write_bytes(_gzip_zeros(header, held))
    error, elapsed, peak = _peak_while_failing(path, "bomb.gz: truncated")
    assert f"{declared} data bytes" in str(error) and f"only {held}" in str(error)
    assert elapsed < 1.0 and peak < 4 << 20, (elapsed, peak)


def test_gzip_with_a_forged_trailer_is_counted_not_trusted(tmp_path, monkeypatch):
    monkeypatch.setattr(idx, "COUNT_FIRST_ABOVE", 1 << 20)   # 16 MiB declared stands for a large file
    # the trailer claims the declared 16 MiB, the stream holds 1 MiB (incompressible, so the deflate
    # bound lets it through): the stream is counted in fixed chunks before the array is allocated
    header = struct.pack(">IIII", IDX_IMAGES_MAGIC, 1 << 14, 32, 32)
    payload = np.random.default_rng(0).integers(0, 256, 1 << 20, dtype=np.uint8).tobytes()
    good = gzip.compress(header + payload, mtime=0)
    path = tmp_path / "forged.gz"
    path.write_bytes(good[:-4] + struct.pack("<I", len(header) + (16 << 20)))
    _, _, peak = _peak_while_failing(path, "forged.gz: .*(corrupt|truncated)")
    assert peak < 6 << 20, f"peak {peak} bytes: the declared 16 MiB was allocated before counting"


def test_declared_size_beyond_what_deflate_can_expand_to(tmp_path):
    header = struct.pack(">IIII", IDX_IMAGES_MAGIC, 1 << 20, 64, 64)   # 4 GiB declared in a tiny file
    path = _write(tmp_path / "tiny.gz", header + bytes(100), gz=True)
    error, elapsed, _ = _peak_while_failing(path, "tiny.gz: truncated or corrupt.*decompresses to at most")
    assert elapsed < 0.1


@pytest.mark.parametrize("gz", [False, True])
def test_empty_array_whose_other_dimensions_overflow(tmp_path, gz):
    # found by the fuzzer: a zero dimension makes the data size 0 (so the size checks pass), but
    # numpy cannot make an array of that shape: it raised its own "array is too big" ValueError
    path = _write(tmp_path / "empty", struct.pack(">IIIII", 0x00000804, 0, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF), gz)
    with pytest.raises(ValueError, match=r"empty: the header declares shape \(0, 4294967295, .*no array can have"):
        read_idx(path)


def test_gzip_with_a_forged_trailer_under_the_count_threshold_costs_at_most_its_declared_size(tmp_path):
    header = struct.pack(">IIII", IDX_IMAGES_MAGIC, 1 << 14, 32, 32)             # 16 MiB declared
    payload = np.random.default_rng(0).integers(0, 256, 1 << 20, dtype=np.uint8).tobytes()
    good = gzip.compress(header + payload, mtime=0)
    path = tmp_path / "forged.gz"
    path.write_bytes(good[:-4] + struct.pack("<I", len(header) + (16 << 20)))
    error, _, peak = _peak_while_failing(path, "forged.gz: .*(corrupt|truncated)")
    assert peak < (16 << 20) + (4 << 20), peak
