"""Datasets and loaders: MNIST-format IDX files, Fashion-MNIST, MNIST, sklearn digits, sequential images,
the SHD/SSC spike files and spoken digits made here.

Example::

    from spikesmith.data import get_dataset
    train = get_dataset("fashion_mnist", "train")     # float32 [60000, 1, 28, 28], int64 [60000]
    seq = get_dataset("sfmnist", "test")              # float32 [10000, T=28, F=28]
"""

from spikesmith.data.datasets import (
    DatasetInfo,
    LabeledDataset,
    dataset_available,
    dataset_info,
    dataset_names,
    get_dataset,
)
from spikesmith.data.digits import load_digits
from spikesmith.data.idx import IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, read_idx, write_idx
from spikesmith.data.locate import ENV_VAR, find_dataset, search_dirs
from spikesmith.data.mnist import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist
from spikesmith.data.names import canonical_name
from spikesmith.data.sequential import load_sequential_fashion_mnist, rows_to_sequence
from spikesmith.data.shd import bin_spikes, load_shd, load_ssc, read_spike_file
from spikesmith.data.spoken_digits import load_spoken_digits

__all__ = [
    "DatasetInfo",
    "ENV_VAR",
    "FASHION_MNIST_CLASSES",
    "IDX_IMAGES_MAGIC",
    "IDX_LABELS_MAGIC",
    "LabeledDataset",
    "bin_spikes",
    "load_shd",
    "load_ssc",
    "load_spoken_digits",
    "read_spike_file",
    "canonical_name",
    "dataset_available",
    "dataset_info",
    "dataset_names",
    "find_dataset",
    "get_dataset",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "load_sequential_fashion_mnist",
    "read_idx",
    "rows_to_sequence",
    "search_dirs",
    "write_idx",
]
