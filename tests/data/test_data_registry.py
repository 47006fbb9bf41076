"""get_dataset: names and aliases, tensors ready for a model, metadata, and helpful errors."""

from __future__ import annotations

import pytest
import torch

from spikesmith.data import (
    LabeledDataset,
    canonical_name,
    dataset_available,
    dataset_info,
    dataset_names,
    get_dataset,
)


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError) as err:
        get_dataset("cifar10")
    msg = str(err.value)
    assert "unknown dataset 'cifar10'" in msg
    for name in ("fashion_mnist", "fmnist", "fashion-mnist", "mnist", "digits", "sfmnist"):
        assert name in msg


def test_non_string_name():
    with pytest.raises(TypeError, match="dataset name must be a string"):
        get_dataset(3)


@pytest.mark.parametrize("alias", ["fashion_mnist", "fmnist", "fashion-mnist", "Fashion-MNIST", " FMNIST "])
def test_aliases(alias):
    assert canonical_name(alias) == "fashion_mnist"
    assert dataset_info(alias).name == "fashion_mnist"


def test_every_name_has_metadata():
    infos = {name: dataset_info(name) for name in dataset_names()}
    assert set(infos) == {"fashion_mnist", "mnist", "digits", "sfmnist", "delayed_recall", "temporal_xor", "shd",
                          "spoken_digits"}
    assert all(infos[name].num_classes == 10 for name in ("fashion_mnist", "mnist", "digits", "sfmnist"))
    assert infos["delayed_recall"].num_classes == 4 and infos["temporal_xor"].num_classes == 2
    assert infos["fashion_mnist"].input_shape == (1, 28, 28) and not infos["fashion_mnist"].temporal
    assert infos["fashion_mnist"].num_inputs == 784 and infos["fashion_mnist"].time_steps is None
    assert infos["fashion_mnist"].class_names[9] == "Ankle boot"
    assert infos["digits"].input_shape == (1, 8, 8)


@pytest.mark.parametrize("name", ["fashion_mnist", "mnist"])
def test_image_dataset_is_float_in_unit_range_with_channel(tmp_path, make_dataset, name):
    (train_x, train_y), _ = make_dataset(tmp_path / name, n_train=5)
    train_x[0, 0, 0], train_x[0, 0, 1] = 255, 0
    from spikesmith.data import write_idx
    write_idx(tmp_path / name / "train-images-idx3-ubyte.gz", train_x)
    ds = get_dataset(name, "train", data_dir=tmp_path, download=False)  # found in data_dir/<name>
    assert isinstance(ds, LabeledDataset) and isinstance(ds, torch.utils.data.TensorDataset)
    assert len(ds) == 5 and ds.split == "train" and ds.info.name == name
    assert ds.inputs.shape == (5, 1, 28, 28) and ds.inputs.dtype == torch.float32
    assert ds.inputs[0, 0, 0, 0].item() == 1.0 and ds.inputs[0, 0, 0, 1].item() == 0.0
    assert torch.allclose(ds.inputs[:, 0] * 255, torch.from_numpy(train_x).float())
    x, y = ds[4]
    assert x.shape == (1, 28, 28) and y.dtype == torch.int64 and y.item() == int(train_y[4])
    batch_x, batch_y = next(iter(torch.utils.data.DataLoader(ds, batch_size=4)))
    assert batch_x.shape == (4, 1, 28, 28) and batch_y.shape == (4,)


def test_digits_through_the_registry():
    pytest.importorskip("sklearn")
    ds = get_dataset("digits", "test")
    assert ds.inputs.shape == (360, 1, 8, 8) and ds.targets.shape == (360,)
    assert "digits" in repr(ds) and "360" in repr(ds)


def test_missing_files_raise_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="holds neither file: Fashion-MNIST train needs"):
        get_dataset("fmnist", data_dir=tmp_path, download=False)
    with pytest.raises(ValueError, match="split must be"):
        get_dataset("digits", "validation")


def test_dataset_available(tmp_path, make_dataset):
    assert not dataset_available("fashion_mnist", tmp_path)
    make_dataset(tmp_path)
    assert dataset_available("fmnist", tmp_path) and dataset_available("sfmnist", tmp_path)
    assert not dataset_available("mnist", tmp_path / "nothing")
    assert dataset_available("digits") == (pytest.importorskip("sklearn") is not None)


def test_labeled_dataset_checks_the_shape():
    info = dataset_info("digits")
    with pytest.raises(ValueError, match=r"inputs of shape \[2, 8, 8\] do not match \[N, 1, 8, 8\]"):
        LabeledDataset(torch.zeros(2, 8, 8), torch.zeros(2, dtype=torch.int64), info, "train")
