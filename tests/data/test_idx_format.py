"""IDX writing and reading: exact bytes, round trips for every type, gzip detection, atomic writes."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
import torch

from spikesmith.data.idx import IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, read_idx, write_idx


def test_labels_file_has_the_exact_mnist_bytes(tmp_path):
    path = write_idx(tmp_path / "labels", np.array([3, 1, 4], dtype=np.uint8))
    # magic 0x00000801, one dimension of size 3, then the three bytes
    assert path.read_bytes() == b"\x00\x00\x08\x01" + b"\x00\x00\x00\x03" + b"\x03\x01\x04"


def test_images_header_and_big_endian_int32(tmp_path):
    img = write_idx(tmp_path / "img", np.zeros((2, 28, 28), dtype=np.uint8)).read_bytes()
    assert img[:16] == b"\x00\x00\x08\x03" + b"\x00\x00\x00\x02" + b"\x00\x00\x00\x1c" * 2
    assert len(img) == 16 + 2 * 28 * 28
    ints = write_idx(tmp_path / "ints", np.array([1, -2], dtype=np.int32)).read_bytes()
    assert ints == b"\x00\x00\x0c\x01" + b"\x00\x00\x00\x02" + b"\x00\x00\x00\x01" + b"\xff\xff\xff\xfe"


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64, ">i2", "<f8"])
def test_round_trip_every_type(tmp_path, suffix, dtype):
    values = np.arange(24) * 10 if np.dtype(dtype).kind == "u" else np.arange(24) * 5 - 7.5
    arr = values.astype(dtype).reshape(2, 3, 4)
    path = write_idx(tmp_path / f"a.idx{suffix}", arr)
    back = read_idx(path)
    assert back.shape == (2, 3, 4)
    assert back.dtype.isnative and back.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(back, arr)
    back[0, 0, 0] = 1  # writable, so torch.from_numpy does not warn


def test_gzip_is_detected_by_content_not_suffix(tmp_path):
    path = write_idx(tmp_path / "x.gz", np.array([7, 8], dtype=np.uint8))
    renamed = path.rename(tmp_path / "x-no-suffix")
    assert renamed.read_bytes()[:2] == b"\x1f\x8b"
    np.testing.assert_array_equal(read_idx(renamed, expected_magic=IDX_LABELS_MAGIC), [7, 8])


def test_gz_output_is_real_gzip_and_deterministic(tmp_path):
    arr = np.arange(12, dtype=np.uint8).reshape(1, 3, 4)
    a = write_idx(tmp_path / "a.gz", arr).read_bytes()
    b = write_idx(tmp_path / "b.gz", arr).read_bytes()
    assert a == b  # mtime=0
    assert gzip.decompress(a) == write_idx(tmp_path / "plain", arr).read_bytes()


def test_torch_tensor_input_and_expected_magic(tmp_path):
    t = torch.arange(2 * 28 * 28, dtype=torch.uint8).reshape(2, 28, 28)
    back = read_idx(write_idx(tmp_path / "t.gz", t), expected_magic=IDX_IMAGES_MAGIC)
    assert torch.equal(torch.from_numpy(back), t)


def test_empty_first_dimension_round_trips(tmp_path):
    back = read_idx(write_idx(tmp_path / "e", np.zeros((0, 28, 28), dtype=np.uint8)))
    assert back.shape == (0, 28, 28)


def test_write_rejects_unsupported_dtype_and_scalars(tmp_path):
    with pytest.raises(TypeError, match="int64.*astype"):
        write_idx(tmp_path / "bad", np.arange(3, dtype=np.int64))
    with pytest.raises(TypeError, match="numpy array or torch tensor"):
        write_idx(tmp_path / "bad", [1, 2, 3])
    with pytest.raises(ValueError, match="1 to 255 dimensions"):
        write_idx(tmp_path / "bad", np.array(5, dtype=np.uint8))
    assert not (tmp_path / "bad").exists()


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path, monkeypatch):
    path = write_idx(tmp_path / "sub" / "l.gz", np.array([1, 2], dtype=np.uint8))
    assert sorted(p.name for p in path.parent.iterdir()) == ["l.gz"]
    old = path.read_bytes()

    def broken_write(*args, **kwargs):
        raise OSError("disk full")

    # a failure while writing the new content keeps the old file whole and leaves no temp file
    monkeypatch.setattr(gzip.GzipFile, "write", broken_write)
    with pytest.raises(OSError, match="disk full"):
        write_idx(path, np.array([9, 9, 9], dtype=np.uint8))
    assert sorted(p.name for p in path.parent.iterdir()) == ["l.gz"]
    assert path.read_bytes() == old
