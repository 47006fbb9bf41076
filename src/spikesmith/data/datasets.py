"""The dataset registry: ``get_dataset(name, split)`` gives an in-memory TensorDataset with metadata.

============== ======================== ================== ======== =========
name           aliases                  sample shape       classes  temporal
============== ======================== ================== ======== =========
fashion_mnist  fmnist, fashion-mnist    [1, 28, 28]        10       no
mnist                                   [1, 28, 28]        10       no
digits                                  [1, 8, 8]          10       no
sfmnist        sequential_fashion_mnist [T=28, F=28]       10       yes
============== ======================== ================== ======== =========

Inputs are float32 in [0, 1]; targets int64. Everything is held as two tensors, so indexing is
cheap and a DataLoader over it is fast (Fashion-MNIST train is 60000 x 784 floats, ~190 MB).

Example::

    ds = get_dataset("fmnist", "test")
    x, y = ds[0]                 # x: float32 [1, 28, 28], y: int64 scalar
    ds.info.num_classes          # 10
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import torch
from torch.utils.data import TensorDataset

from spikesmith.data.digits import load_digits
from spikesmith.data.locate import check_split, find_dataset
from spikesmith.data.mnist import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist
from spikesmith.data.names import DATASET_NAMES, canonical_name
from spikesmith.data.sequential import load_sequential_fashion_mnist

_DIGIT_NAMES = tuple(str(i) for i in range(10))


@dataclass(frozen=True)
class DatasetInfo:
    """What a model needs to know about a dataset before it sees any data.

    ``input_shape`` is the shape of one sample: ``(C, H, W)`` for images, ``(T, F)`` for temporal
    datasets (batch-first loaders then yield ``[N, T, F]``).
    """

    name: str
    input_shape: tuple[int, ...]
    num_classes: int
    temporal: bool
    class_names: tuple[str, ...]

    @property
    def time_steps(self) -> int | None:
        """T of a temporal dataset, None for static images."""
        return self.input_shape[0] if self.temporal else None

    @property
    def num_inputs(self) -> int:
        """Inputs per sample (static) or per time step (temporal): 784 for Fashion-MNIST, 28 for sfmnist."""
        shape = self.input_shape[1:] if self.temporal else self.input_shape
        return math.prod(shape)


_INFO: dict[str, DatasetInfo] = {
    "fashion_mnist": DatasetInfo("fashion_mnist", (1, 28, 28), 10, False, FASHION_MNIST_CLASSES),
    "mnist": DatasetInfo("mnist", (1, 28, 28), 10, False, _DIGIT_NAMES),
    "digits": DatasetInfo("digits", (1, 8, 8), 10, False, _DIGIT_NAMES),
    "sfmnist": DatasetInfo("sfmnist", (28, 28), 10, True, FASHION_MNIST_CLASSES),
}


class LabeledDataset(TensorDataset):
    """A ``TensorDataset`` of ``(inputs, targets)`` that also carries its :class:`DatasetInfo` and split.

    ``inputs``: float32 ``[N, *info.input_shape]``; ``targets``: int64 ``[N]``.
    """

    def __init__(self, inputs: torch.Tensor, targets: torch.Tensor, info: DatasetInfo, split: str):
        if inputs.shape[1:] != info.input_shape:
            raise ValueError(f"{info.name}: inputs of shape {list(inputs.shape)} do not match "
                             f"[N, {', '.join(map(str, info.input_shape))}]")
        super().__init__(inputs, targets)
        self.info = info
        self.split = split

    @property
    def inputs(self) -> torch.Tensor:
        return self.tensors[0]

    @property
    def targets(self) -> torch.Tensor:
        return self.tensors[1]

    def __repr__(self) -> str:
        return (f"LabeledDataset(name={self.info.name!r}, split={self.split!r}, "
                f"inputs={list(self.inputs.shape)}, num_classes={self.info.num_classes})")


def dataset_names() -> tuple[str, ...]:
    """The canonical dataset names: ``('fashion_mnist', 'mnist', 'digits', 'sfmnist')``."""
    return DATASET_NAMES


def dataset_info(name: str) -> DatasetInfo:
    """Metadata of dataset ``name`` (any alias) without loading it; unknown names raise ValueError."""
    return _INFO[canonical_name(name)]


def dataset_available(name: str, data_dir: str | os.PathLike | None = None) -> bool:
    """Whether ``name`` can be loaded without a download (files found, or scikit-learn for digits)."""
    canon = canonical_name(name)
    if canon == "digits":
        try:
            import sklearn  # noqa: F401
        except ImportError:
            return False
        return True
    return find_dataset(canon, data_dir) is not None


def _to_unit_float(images: torch.Tensor) -> torch.Tensor:
    return images.to(torch.float32).div_(255.0)


def get_dataset(name: str, split: str = "train", data_dir: str | os.PathLike | None = None,
                download: bool = True) -> LabeledDataset:
    """Load ``split`` (``'train'`` / ``'test'``) of dataset ``name`` into memory.

    Args:
        name: ``fashion_mnist`` (``fmnist``, ``fashion-mnist``), ``mnist``, ``digits`` or ``sfmnist``.
        split: ``'train'`` or ``'test'``.
        data_dir: folder searched first for IDX files (ignored by ``digits``).
        download: allow fetching missing IDX files into ``~/.cache/spikesmith/<name>``.

    Raises:
        ValueError: unknown name (the message lists valid names) or split.
        FileNotFoundError: IDX files missing and not downloadable (see :mod:`spikesmith.data.locate`).
    """
    canon = canonical_name(name)
    check_split(split)
    info = _INFO[canon]
    if canon == "digits":
        images, labels = load_digits(split)
        inputs = images.unsqueeze(1)
    elif canon == "sfmnist":
        inputs, labels = load_sequential_fashion_mnist(data_dir, split, download)
    else:
        loader = load_fashion_mnist if canon == "fashion_mnist" else load_mnist
        images, labels = loader(data_dir, split, download)
        inputs = _to_unit_float(images).unsqueeze(1)
    return LabeledDataset(inputs, labels, info, split)
