"""Fixtures for the data tests: an isolated home, no network, and tiny fake IDX datasets."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import numpy as np
import pytest

from spikesmith.data import locate
from spikesmith.data.idx import write_idx

SPLIT_FILES = locate.SPLIT_FILES


def _no_network(*args, **kwargs):
    raise AssertionError("a data test tried to open a URL; pass download=False or patch urlopen")


@pytest.fixture
def real_system_dirs():
    """Request this fixture to keep the real system folders (/usr/share/datasets/...) searched."""


@pytest.fixture(autouse=True)
def isolated_env(request, tmp_path, monkeypatch):
    """Every test: HOME in tmp_path, no $SPIKESMITH_DATA, no network, no system folders.

    So results never depend on what this machine has installed or cached. A test that requests
    ``real_system_dirs`` keeps the system folders, and ``$SPIKESMITH_SYSTEM_DATA_DIRS`` if set (so a
    run that hides them with ``SPIKESMITH_SYSTEM_DATA_DIRS=`` hides them from these tests too).
    """
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv(locate.ENV_VAR, raising=False)
    monkeypatch.setattr(urllib.request, "urlopen", _no_network)
    if "real_system_dirs" not in request.fixturenames:
        monkeypatch.delenv(locate.SYSTEM_DIRS_ENV_VAR, raising=False)
        for name, spec in list(locate.SPECS.items()):
            monkeypatch.setitem(locate.SPECS, name, spec._replace(system_dirs=()))
    return home


@pytest.fixture
def make_split():
    """``make_split(folder, split, n=5, gz=True, seed=0) -> (images, labels)``: write a fake split.

    Images are uint8 [n, 28, 28] of random values, labels uint8 [n] in 0..9; both are returned as
    numpy arrays so tests can compare what they load with what was written.
    """

    def make(folder: Path, split: str = "train", n: int = 5, gz: bool = True, seed: int = 0):
        rng = np.random.default_rng(seed)
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        suffix = ".gz" if gz else ""
        images_name, labels_name = SPLIT_FILES[split]
        write_idx(Path(folder) / f"{images_name}{suffix}", images)
        write_idx(Path(folder) / f"{labels_name}{suffix}", labels)
        return images, labels

    return make


@pytest.fixture
def make_dataset(make_split):
    """``make_dataset(folder, n_train=5, n_test=3, gz=True, seed=0)``: both splits in ``folder``."""

    def make(folder: Path, n_train: int = 5, n_test: int = 3, gz: bool = True, seed: int = 0):
        train = make_split(folder, "train", n_train, gz, seed)
        test = make_split(folder, "test", n_test, gz, seed + 1)
        return train, test

    return make
