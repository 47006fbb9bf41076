"""The real Fashion-MNIST from Debian's dataset-fashion-mnist package, when it is installed."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from spikesmith.data import find_dataset, get_dataset, load_fashion_mnist
from spikesmith.data.locate import SPECS, SYSTEM_DIRS_ENV_VAR, system_dirs

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")

pytestmark = pytest.mark.skipif(
    not (DEBIAN_DIR / "t10k-labels-idx1-ubyte.gz").is_file() or DEBIAN_DIR not in system_dirs(SPECS["fashion_mnist"]),
    reason="Debian package dataset-fashion-mnist not installed (apt-get install dataset-fashion-mnist), "
           f"or its folder hidden by ${SYSTEM_DIRS_ENV_VAR}",
)


def test_found_in_the_system_folder(real_system_dirs):
    assert find_dataset("fashion_mnist") == DEBIAN_DIR


@pytest.mark.parametrize("split, n", [("train", 60000), ("test", 10000)])
def test_real_files(real_system_dirs, split, n):
    images, labels = load_fashion_mnist(split=split, download=False)
    assert images.shape == (n, 28, 28) and images.dtype == torch.uint8
    assert labels.shape == (n,) and int(labels.min()) == 0 and int(labels.max()) == 9
    assert torch.bincount(labels).tolist() == [n // 10] * 10  # Fashion-MNIST is balanced
    assert int(images.max()) == 255 and int(images.min()) == 0


def test_real_registry_entry(real_system_dirs):
    ds = get_dataset("fmnist", "test", download=False)
    assert ds.inputs.shape == (10000, 1, 28, 28) and 0.0 <= float(ds.inputs.min()) <= float(ds.inputs.max()) <= 1.0
