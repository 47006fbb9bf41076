"""load_mnist / load_fashion_mnist on tiny fake files: values, dtypes, and each mismatch between files."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spikesmith.data import load_fashion_mnist, load_mnist, write_idx
from spikesmith.data.locate import SPLIT_FILES


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("loader", [load_mnist, load_fashion_mnist])
def test_loads_exactly_what_was_written(tmp_path, make_dataset, gz, loader):
    (train_x, train_y), (test_x, test_y) = make_dataset(tmp_path, n_train=6, n_test=4, gz=gz)
    for split, x, y in (("train", train_x, train_y), ("test", test_x, test_y)):
        images, labels = loader(tmp_path, split, download=False)
        assert images.dtype == torch.uint8 and images.shape == (len(x), 28, 28)
        assert labels.dtype == torch.int64 and labels.shape == (len(x),)
        assert torch.equal(images, torch.from_numpy(x))
        assert labels.tolist() == y.tolist()


def test_mixed_plain_and_gz_files(tmp_path):
    images = np.full((2, 28, 28), 200, dtype=np.uint8)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", images)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.array([9, 0], dtype=np.uint8))
    x, y = load_fashion_mnist(tmp_path, "test", download=False)
    assert x.shape == (2, 28, 28) and int(x.max()) == 200 and y.tolist() == [9, 0]


def test_plain_file_wins_over_gz(tmp_path):
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((1, 28, 28), dtype=np.uint8))
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((1, 28, 28), dtype=np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([1], dtype=np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.array([2], dtype=np.uint8))
    assert load_mnist(tmp_path, "test", download=False)[1].tolist() == [1]


def test_count_mismatch_names_both_files(tmp_path, make_split):
    make_split(tmp_path, "train", n=5)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(4, dtype=np.uint8))
    with pytest.raises(ValueError, match=r"5 images but .*train-labels-idx1-ubyte.gz holds 4 labels"):
        load_fashion_mnist(tmp_path, "train", download=False)


def test_wrong_image_size(tmp_path, make_split):
    make_split(tmp_path, "test", n=3)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((3, 27, 27), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte.gz: images are 27 x 27.*28 x 28"):
        load_mnist(tmp_path, "test", download=False)


def test_wrong_number_of_dims(tmp_path, make_split):
    make_split(tmp_path, "test", n=3)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((3, 784), dtype=np.uint8))  # 0x00000802
    with pytest.raises(ValueError, match=r"t10k-images.*0x00000802 \(uint8, 2 dims\).*expected 0x00000803"):
        load_mnist(tmp_path, "test", download=False)


def test_swapped_images_and_labels(tmp_path, make_split):
    images, labels = make_split(tmp_path, "train", n=2)
    images_name, labels_name = SPLIT_FILES["train"]
    write_idx(tmp_path / f"{images_name}.gz", labels)
    with pytest.raises(ValueError, match=f"{images_name}.gz: bad magic number 0x00000801"):
        load_mnist(tmp_path, "train", download=False)


def test_label_out_of_range(tmp_path, make_split):
    make_split(tmp_path, "train", n=3)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.array([0, 10, 2], dtype=np.uint8))
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte.gz: label 10 found.*0..9"):
        load_fashion_mnist(tmp_path, "train", download=False)


def test_truncated_file_is_reported_by_the_loader(tmp_path, make_split):
    make_split(tmp_path, "train", n=3, gz=False)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte: truncated"):
        load_fashion_mnist(tmp_path, "train", download=False)


@pytest.mark.parametrize("split", ["val", "Train", ""])
def test_bad_split(tmp_path, split):
    with pytest.raises(ValueError, match=r"split must be 'train' or 'test'"):
        load_mnist(tmp_path, split, download=False)
