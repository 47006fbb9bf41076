"""Sequential Fashion-MNIST: row t of the image is time step t."""

from __future__ import annotations

import pytest
import torch

from spikesmith.data import dataset_info, get_dataset, load_sequential_fashion_mnist, rows_to_sequence


def test_row_t_is_step_t():
    images = torch.arange(2 * 5 * 7).reshape(2, 5, 7)      # non-square: T = 5 rows, F = 7 columns
    seq = rows_to_sequence(images)
    assert seq.shape == (2, 5, 7)
    assert seq[1, 3].tolist() == images[1, 3].tolist()     # step 3 = row 3
    assert seq[0, 4, 6].item() == 34                       # last pixel of the first image
    assert seq.dtype == images.dtype and seq.is_contiguous()


def test_channel_dim_is_dropped_and_others_rejected():
    images = torch.rand(4, 1, 28, 28)
    assert torch.equal(rows_to_sequence(images), images[:, 0])
    with pytest.raises(ValueError, match=r"\[N, H, W\] or \[N, 1, H, W\], got shape \[4, 3, 28, 28\]"):
        rows_to_sequence(torch.rand(4, 3, 28, 28))
    with pytest.raises(ValueError, match=r"got shape \[28, 28\]"):
        rows_to_sequence(torch.rand(28, 28))
    with pytest.raises(TypeError, match="torch.as_tensor"):
        rows_to_sequence([[1, 2], [3, 4]])


def test_loader_and_registry_shapes(tmp_path, make_dataset):
    (_, _), (test_x, test_y) = make_dataset(tmp_path, n_test=3)
    seq, labels = load_sequential_fashion_mnist(tmp_path, "test", download=False)
    assert seq.shape == (3, 28, 28) and seq.dtype == torch.float32
    assert torch.allclose(seq * 255, torch.from_numpy(test_x).float())
    ds = get_dataset("sfmnist", "test", data_dir=tmp_path, download=False)
    x, y = ds[2]
    assert x.shape == (28, 28) and y.item() == int(test_y[2])
    info = dataset_info("sfmnist")
    assert info.temporal and info.time_steps == 28 and info.num_inputs == 28 and info.input_shape == (28, 28)
