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
from typing import Any, Callable

import torch
from torch.utils.data import TensorDataset

from spikesmith.data.digits import load_digits
from spikesmith.data.locate import check_split, find_dataset, find_split_files, get_spec
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


def _digits(data_dir, split, download):
    images, labels = load_digits(split)                # shipped with scikit-learn: no folder, no download
    return images.unsqueeze(1), labels


def _idx_images(loader):
    def load(data_dir, split, download):
        images, labels = loader(data_dir, split, download)
        return _to_unit_float(images).unsqueeze(1), labels
    return load


def _idx_folder(name: str):
    def where(data_dir, split):
        paths = find_split_files(get_spec(name), split, data_dir)
        return str(paths[0].parent) if paths is not None else "?"
    return where


def _bundled(data_dir, split):
    return "scikit-learn's bundled copy (sklearn.datasets.load_digits)"


@dataclass(frozen=True)
class _Source:
    """A loadable dataset: what it is, ``load(data_dir, split, download) -> (inputs, labels)``, and
    ``where(data_dir, split)``: the copy a load used (a folder), said by the run."""

    info: DatasetInfo
    load: Callable[[Any, str, bool], tuple[torch.Tensor, torch.Tensor]]
    where: Callable[[Any, str], str]


#: one entry per dataset ``get_dataset`` loads, keyed by its canonical name (``names.DATASETS``)
_SOURCES: dict[str, _Source] = {
    "fashion_mnist": _Source(DatasetInfo("fashion_mnist", (1, 28, 28), 10, False, FASHION_MNIST_CLASSES),
                             _idx_images(load_fashion_mnist), _idx_folder("fashion_mnist")),
    "mnist": _Source(DatasetInfo("mnist", (1, 28, 28), 10, False, _DIGIT_NAMES), _idx_images(load_mnist),
                     _idx_folder("mnist")),
    "digits": _Source(DatasetInfo("digits", (1, 8, 8), 10, False, _DIGIT_NAMES), _digits, _bundled),
    "sfmnist": _Source(DatasetInfo("sfmnist", (28, 28), 10, True, FASHION_MNIST_CLASSES),
                       load_sequential_fashion_mnist, _idx_folder("fashion_mnist")),
}


def _source(name: str) -> _Source:
    canon = canonical_name(name)
    if canon not in _SOURCES:        # an event-camera dataset: recordings, not tensors
        raise ValueError(f"{canon!r} is an event-camera dataset: load it with spikesmith.data.events_datasets or "
                         f"train on its frames with spikesmith.data.event_frames; get_dataset loads "
                         f"{', '.join(_SOURCES)}")
    return _SOURCES[canon]


class LabeledDataset(TensorDataset):
    """A ``TensorDataset`` of ``(inputs, targets)`` that also carries its :class:`DatasetInfo` and split.

    ``inputs``: float32 ``[N, *info.input_shape]``; ``targets``: int64 ``[N]``.
    """

    def __init__(self, inputs: torch.Tensor, targets: torch.Tensor, info: DatasetInfo, split: str,
                 origin: str | None = None):
        if inputs.shape[1:] != info.input_shape:
            raise ValueError(f"{info.name}: inputs of shape {list(inputs.shape)} do not match "
                             f"[N, {', '.join(map(str, info.input_shape))}]")
        super().__init__(inputs, targets)
        self.info = info
        self.split = split
        self.origin = origin  # the copy it came from (a folder), where known

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
    return _source(name).info


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
    source = _source(name)
    check_split(split)
    inputs, labels = source.load(data_dir, split, download)
    return LabeledDataset(inputs, labels, source.info, split, origin=source.where(data_dir, split))
