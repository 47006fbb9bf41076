"""Where MNIST-format datasets live on disk, and how to find them.

Each split is a pair of IDX files with the standard names (plain or ``.gz``)::

    train: train-images-idx3-ubyte  train-labels-idx1-ubyte
    test:  t10k-images-idx3-ubyte   t10k-labels-idx1-ubyte

Folders are searched in this order, the first holding both files of the split wins:

1. ``data_dir`` given by the caller, then ``data_dir/<name>``. A ``data_dir`` given is the only
   place searched: if the files are not there, that is an error (no fall-back to another copy,
   no download), so a run never trains on other data than the folder it was told.
2. ``$SPIKESMITH_DATA``, then ``$SPIKESMITH_DATA/<name>``
3. ``~/.cache/spikesmith/<name>`` (where downloads go)
4. system folders: ``/usr/share/datasets/fashion-mnist`` for Fashion-MNIST
   (Debian: ``apt-get install dataset-fashion-mnist``). ``$SPIKESMITH_SYSTEM_DATA_DIRS``, when set,
   replaces them for every dataset by its ``os.pathsep``-separated folders; set it empty to search
   no system folder (how a machine without the OS package behaves, e.g. for a test run).

``<name>`` is any of the dataset's folder names (``fashion_mnist``, ``fashion-mnist``,
``FashionMNIST``; ``mnist``, ``MNIST``), and each folder is also checked for a ``raw/`` sub-folder
(the layout torchvision downloads to). The plain file is preferred over the ``.gz`` one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from spikesmith.data.names import canonical_name

ENV_VAR = "SPIKESMITH_DATA"
"""Environment variable naming a folder of datasets."""

SYSTEM_DIRS_ENV_VAR = "SPIKESMITH_SYSTEM_DATA_DIRS"
"""Environment variable that, when set, replaces the system folders (``os.pathsep``-separated; empty: none)."""

SPLIT_FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
"""Standard file names (without ``.gz``) of the images and labels of each split."""


class IdxDatasetSpec(NamedTuple):
    """What is needed to find, fetch and describe one MNIST-format dataset."""

    name: str                        # canonical name, also the cache folder: "fashion_mnist"
    title: str                       # for messages: "Fashion-MNIST"
    dir_names: tuple[str, ...]       # folder names looked for under data_dir and $SPIKESMITH_DATA
    system_dirs: tuple[str, ...]     # folders that OS packages install to
    urls: tuple[str, ...]            # base URLs of the .gz files, tried in order
    install_hint: str                # one line telling how to get the files without a download


SPECS: dict[str, IdxDatasetSpec] = {
    "fashion_mnist": IdxDatasetSpec(
        name="fashion_mnist",
        title="Fashion-MNIST",
        dir_names=("fashion_mnist", "fashion-mnist", "FashionMNIST"),
        system_dirs=("/usr/share/datasets/fashion-mnist",),
        urls=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        install_hint="on Debian/Ubuntu: apt-get install dataset-fashion-mnist "
                     "(installs to /usr/share/datasets/fashion-mnist)",
    ),
    "mnist": IdxDatasetSpec(
        name="mnist",
        title="MNIST",
        dir_names=("mnist", "MNIST"),
        system_dirs=(),
        urls=("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
        install_hint="copy the four IDX files from any MNIST download",
    ),
}
"""The MNIST-format datasets, by canonical name. ``sfmnist`` reads the ``fashion_mnist`` files."""

_FILES_OF = {"sfmnist": "fashion_mnist"}


def get_spec(name: str) -> IdxDatasetSpec:
    """The :class:`IdxDatasetSpec` of a file-based dataset (``sfmnist`` maps to Fashion-MNIST).

    Raises:
        ValueError: ``name`` is unknown or has no files (``digits`` ships with scikit-learn).
    """
    canon = canonical_name(name)
    canon = _FILES_OF.get(canon, canon)
    if canon not in SPECS:
        raise ValueError(f"dataset {name!r} is not stored as IDX files (it ships with its library); "
                         f"file-based datasets: {', '.join(sorted(SPECS) + sorted(_FILES_OF))}")
    return SPECS[canon]


def check_split(split: str) -> str:
    """Return ``split`` if it is ``'train'`` or ``'test'``, else raise a ``ValueError``."""
    if split not in SPLIT_FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return split


def cache_dir(spec: IdxDatasetSpec) -> Path:
    """``~/.cache/spikesmith/<name>``: where downloads are stored."""
    return Path.home() / ".cache" / "spikesmith" / spec.name


def system_dirs(spec: IdxDatasetSpec) -> list[Path]:
    """The system folders searched for ``spec``: its own, or ``$SPIKESMITH_SYSTEM_DATA_DIRS`` when set."""
    override = os.environ.get(SYSTEM_DIRS_ENV_VAR)
    folders = spec.system_dirs if override is None else override.split(os.pathsep)
    return [Path(d).expanduser() for d in folders if d]


def search_dirs(spec: IdxDatasetSpec, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched, in order, without the ``raw/`` sub-folders (see the module doc)."""
    dirs: list[Path] = []
    roots = (data_dir,) if data_dir is not None else (os.environ.get(ENV_VAR) or None,)
    for root in roots:
        if root is not None:
            root = Path(root).expanduser()
            dirs.append(root)
            dirs.extend(root / d for d in spec.dir_names)
    if data_dir is None:
        dirs.append(cache_dir(spec))
        dirs.extend(system_dirs(spec))
    unique: list[Path] = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def _file_in(folder: Path, base: str) -> Path | None:
    for candidate in (folder / base, folder / f"{base}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _candidate_folders(spec: IdxDatasetSpec, data_dir: str | os.PathLike | None) -> list[Path]:
    return [sub for folder in search_dirs(spec, data_dir) for sub in (folder, folder / "raw")]


def find_split_files(spec: IdxDatasetSpec, split: str,
                     data_dir: str | os.PathLike | None = None) -> tuple[Path, Path] | None:
    """``(images_path, labels_path)`` of ``split`` from the first folder holding both, else None."""
    images_name, labels_name = SPLIT_FILES[check_split(split)]
    for folder in _candidate_folders(spec, data_dir):
        images, labels = _file_in(folder, images_name), _file_in(folder, labels_name)
        if images is not None and labels is not None:
            return images, labels
    return None


def find_dataset(name: str, data_dir: str | os.PathLike | None = None) -> Path | None:
    """The first folder holding all four IDX files of dataset ``name``, or None; never downloads.

    Use it to decide whether a dataset is available offline, e.g.
    ``find_dataset("fashion_mnist")`` -> ``PosixPath('/usr/share/datasets/fashion-mnist')``
    when the Debian package ``dataset-fashion-mnist`` is installed.

    Raises:
        ValueError: ``name`` is unknown or not file-based (``digits``).
    """
    spec = get_spec(name)
    bases = [base for pair in SPLIT_FILES.values() for base in pair]
    for folder in _candidate_folders(spec, data_dir):
        if all(_file_in(folder, base) is not None for base in bases):
            return folder
    return None


def not_in_data_dir_message(spec: IdxDatasetSpec, split: str, data_dir: str | os.PathLike) -> str:
    """The message of the error raised when an explicit ``data_dir`` lacks a split's files."""
    images_name, labels_name = SPLIT_FILES[split]
    folders = _candidate_folders(spec, data_dir)
    found = [str(f) for folder in folders for base in (images_name, labels_name)
             if (f := _file_in(folder, base)) is not None]
    root = Path(data_dir).expanduser()
    state = ("does not exist" if not root.exists() else "is not a folder" if not root.is_dir()
             else f"holds only {', '.join(found)}" if found else "holds neither file")
    return (f"data_dir {str(data_dir)!r} {state}: {spec.title} {split} needs {images_name}[.gz] and "
            f"{labels_name}[.gz] in it, in {spec.dir_names[0]}/ under it, or in their raw/; "
            f"put both files there, or leave data_dir out to search ${ENV_VAR}, {cache_dir(spec)} "
            f"and the system folders")


def not_found_message(spec: IdxDatasetSpec, split: str, data_dir: str | os.PathLike | None,
                      download_error: str | None = None) -> str:
    """The message of the error raised when a split is found nowhere."""
    images_name, labels_name = SPLIT_FILES[split]
    searched = "\n".join(f"  {d}" for d in search_dirs(spec, data_dir))
    lines = [
        f"{spec.title} {split} split not found: need {images_name}[.gz] and {labels_name}[.gz] "
        "in one of these folders (each also checked for a raw/ sub-folder):",
        searched,
        f"Put the files in {cache_dir(spec)}, or in a folder you pass as data_dir=..., "
        f"or set ${ENV_VAR} to a folder holding them (or a {spec.dir_names[0]}/ sub-folder); "
        f"{spec.install_hint}.",
    ]
    if download_error is None:
        lines.append("Downloading was disabled (download=False).")
    else:
        lines.append(f"Downloading failed: {download_error}")
    return "\n".join(lines)
