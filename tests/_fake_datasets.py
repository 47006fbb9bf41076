"""Tiny made-up MNIST-format datasets for tests about behaviour rather than the real data.

A test that trains, checkpoints or reloads uses :func:`write_fake_idx_dataset` (or the
``fake_fashion_mnist`` fixture of ``tests/conftest.py``), so it runs on a machine without the data and
downloads nothing (the suite blocks downloads). Tests about the real files skip where they are absent
(tests/data/test_fashion_mnist_debian.py), naming the package to install.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spikesmith.data import write_idx
from spikesmith.data.locate import SPLIT_FILES


def write_fake_split(folder: Path, split: str, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Write ``n`` made-up 28 x 28 images and labels as ``split``'s two IDX files in ``folder``.

    Label ``i % 10`` for image ``i``; each class is a bright bar at its own rows (plus a little noise),
    so a network can learn it. Returns ``(images uint8 [n, 28, 28], labels uint8 [n])`` as written.
    """
    rng = np.random.default_rng(seed)
    labels = (np.arange(n) % 10).astype(np.uint8)
    images = rng.integers(0, 30, size=(n, 28, 28), dtype=np.uint8)
    for i, label in enumerate(labels):
        images[i, 2 + 2 * label:4 + 2 * label, 4:24] = 200
    images_name, labels_name = SPLIT_FILES[split]
    write_idx(Path(folder) / images_name, images)
    write_idx(Path(folder) / labels_name, labels)
    return images, labels


def write_fake_idx_dataset(folder: Path, n_train: int = 64, n_test: int = 32, seed: int = 0) -> Path:
    """Both splits of a made-up MNIST-format dataset in ``folder``; returns ``folder``."""
    write_fake_split(folder, "train", n_train, seed)
    write_fake_split(folder, "test", n_test, seed + 1)
    return Path(folder)
