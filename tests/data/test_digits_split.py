"""The sklearn digits split: sizes, value range, determinism, disjointness and stratification."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from spikesmith.data import load_digits

sklearn = pytest.importorskip("sklearn")


def test_shapes_types_and_range():
    x_train, y_train = load_digits("train")
    x_test, y_test = load_digits("test")
    assert x_train.shape == (1437, 8, 8) and x_test.shape == (360, 8, 8)
    assert x_train.dtype == torch.float32 and y_train.dtype == torch.int64
    assert y_train.shape == (1437,) and y_test.shape == (360,)
    assert float(x_train.min()) == 0.0 and float(x_train.max()) == 1.0  # 16 / 16
    assert set(y_train.tolist()) == set(range(10))


def test_split_is_deterministic_and_a_partition_of_the_source():
    a, b = load_digits("train"), load_digits("train")
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    from sklearn.datasets import load_digits as sk_digits

    source = sk_digits()
    def rows(pixels_0_to_16):
        flat = np.asarray(pixels_0_to_16).reshape(len(pixels_0_to_16), -1)
        return sorted(map(bytes, np.rint(flat).astype(np.uint8)))

    ours = torch.cat([a[0], load_digits("test")[0]]) * 16
    assert rows(ours) == rows(source.images)  # nothing lost, nothing doubled, scaled by exactly 1/16


def test_stratified_class_proportions():
    _, y_train = load_digits("train")
    _, y_test = load_digits("test")
    total = torch.bincount(torch.cat([y_train, y_test]), minlength=10).double()
    expected_test = total * 0.2
    got_test = torch.bincount(y_test, minlength=10).double()
    assert torch.all((got_test - expected_test).abs() <= 1.0), (got_test, expected_test)


def test_bad_split():
    with pytest.raises(ValueError, match="split must be 'train' or 'test', got 'valid'"):
        load_digits("valid")


def test_missing_sklearn_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # makes the import fail
    with pytest.raises(ImportError, match=r"pip install 'spikesmith\[data\]'"):
        load_digits("train")
