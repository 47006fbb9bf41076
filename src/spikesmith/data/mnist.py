"""MNIST and Fashion-MNIST from their IDX files: ``(images uint8 N x 28 x 28, labels int64 N)``.

The files are looked up as :mod:`spikesmith.data.locate` describes (``data_dir``,
``$SPIKESMITH_DATA``, ``~/.cache/spikesmith/<name>``, ``/usr/share/datasets/fashion-mnist``);
only if none holds them, and ``download=True``, are they fetched into the cache. Both files of a
split are checked against each other: same count, 28 x 28 images, labels in 0..9.

Example::

    images, labels = load_fashion_mnist(split="test")   # uint8 [10000, 28, 28], int64 [10000]
"""

from __future__ import annotations

import os

import torch

from spikesmith.data.download import DEFAULT_TIMEOUT, download_split
from spikesmith.data.idx import IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, read_idx
from spikesmith.data.locate import (check_split, find_split_files, get_spec, not_found_message,
                                    not_in_data_dir_message)

NUM_CLASSES = 10
IMAGE_SIZE = (28, 28)

FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
"""Fashion-MNIST class names, indexed by label."""


def load_idx_dataset(name: str, data_dir: str | os.PathLike | None = None, split: str = "train",
                     download: bool = True,
                     timeout: float = DEFAULT_TIMEOUT) -> tuple[torch.Tensor, torch.Tensor]:
    """Load one split of the MNIST-format dataset ``name`` (``'mnist'`` or ``'fashion_mnist'``).

    Returns:
        ``images``: uint8 tensor ``[N, 28, 28]``; ``labels``: int64 tensor ``[N]`` in 0..9.

    Raises:
        ValueError: unknown ``name`` or ``split``, or corrupt / mismatched files (named).
        FileNotFoundError: the files are nowhere and could not be (or may not be) downloaded; the
            message lists the folders searched and where to put the files.
    """
    spec = get_spec(name)
    check_split(split)
    paths = find_split_files(spec, split, data_dir)
    if paths is None and data_dir is not None:
        raise FileNotFoundError(not_in_data_dir_message(spec, split, data_dir))
    if paths is None:
        if not download:
            raise FileNotFoundError(not_found_message(spec, split, data_dir))
        try:
            paths = download_split(spec, split, timeout=timeout)
        except OSError as err:
            raise FileNotFoundError(not_found_message(spec, split, data_dir, str(err))) from err
    images_path, labels_path = paths
    images = read_idx(images_path, expected_magic=IDX_IMAGES_MAGIC)
    labels = read_idx(labels_path, expected_magic=IDX_LABELS_MAGIC)
    if images.shape[1:] != IMAGE_SIZE:
        raise ValueError(f"IDX file {images_path}: images are {images.shape[1]} x {images.shape[2]}, "
                         f"{spec.title} images are {IMAGE_SIZE[0]} x {IMAGE_SIZE[1]}; wrong or corrupt file")
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{spec.title} {split}: {images_path} holds {images.shape[0]} images but "
                         f"{labels_path} holds {labels.shape[0]} labels; the two files do not belong "
                         "together (replace both with one download)")
    if labels.size and int(labels.max()) >= NUM_CLASSES:
        raise ValueError(f"IDX file {labels_path}: label {int(labels.max())} found, {spec.title} labels "
                         f"are 0..{NUM_CLASSES - 1}; wrong or corrupt file")
    return torch.from_numpy(images), torch.from_numpy(labels).to(torch.int64)


def load_mnist(data_dir: str | os.PathLike | None = None, split: str = "train",
               download: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST digits: uint8 images ``[N, 28, 28]`` and int64 labels ``[N]`` (N = 60000 / 10000).

    See :func:`load_idx_dataset` for the search order and errors.
    """
    return load_idx_dataset("mnist", data_dir, split, download)


def load_fashion_mnist(data_dir: str | os.PathLike | None = None, split: str = "train",
                       download: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Fashion-MNIST: uint8 images ``[N, 28, 28]`` and int64 labels ``[N]`` (N = 60000 / 10000).

    On Debian/Ubuntu ``apt-get install dataset-fashion-mnist`` provides the files offline.
    See :func:`load_idx_dataset` for the search order and errors.
    """
    return load_idx_dataset("fashion_mnist", data_dir, split, download)
