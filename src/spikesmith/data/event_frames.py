"""Event-camera datasets as event-count frames for the trainer: ``nfmnist``, ``nmnist``, ``dvsgesture``.

``load_event_frames(name, split, T)`` returns integer frames ``[N, T, P, H, W]`` (compact on disk
and in memory; the trainer turns each batch into float32), the labels and a :class:`DatasetInfo`
whose ``input_shape`` is ``(T, P, H, W)`` (temporal: the trainer moves time first, no encoder).
"""

from __future__ import annotations

import os
from typing import Optional

import torch

from .datasets import DatasetInfo
from .names import EVENT_NAMES, canonical_name

SENSORS = {"nfmnist": (34, 34, 2), "nmnist": (34, 34, 2), "dvsgesture": (128, 128, 2)}


def is_event_dataset(name: Optional[str]) -> bool:
    if name is None:
        return False
    try:
        return canonical_name(name) in EVENT_NAMES
    except ValueError:
        return False


def _event_key(name: str) -> str:
    key = canonical_name(name)
    if key not in EVENT_NAMES:
        raise ValueError(f"{name!r} is not an event-camera dataset; event datasets: {', '.join(EVENT_NAMES)}")
    return key


NFMNIST_METHODS = ("saccade", "flash", "poisson")


def _check_method(key: str, method: str, threshold: Optional[float] = None) -> None:
    if threshold is not None and key != "nfmnist":
        raise ValueError(f"event_threshold sets the contrast threshold of nfmnist's simulated camera; {key} is a "
                         f"recording: leave it unset")
    if threshold is not None and not threshold > 0:
        raise ValueError(f"event_threshold must be > 0 (a log-intensity step), got {threshold}")
    if method not in NFMNIST_METHODS:
        raise ValueError(f"event_method must be one of {', '.join(NFMNIST_METHODS)}, got {method!r}")
    if key != "nfmnist" and method != "saccade":
        raise ValueError(f"event_method={method!r} chooses how nfmnist turns images into events; {key} is a "
                         f"recording: leave event_method at 'saccade'")


def event_info(name: str, T: int, method: str = "saccade") -> DatasetInfo:
    from .events_datasets import DVSGESTURE_CLASSES
    from .mnist import FASHION_MNIST_CLASSES

    key = _event_key(name)
    _check_method(key, method)
    w, h, p = (28, 28, 2) if key == "nfmnist" and method != "saccade" else SENSORS[key]
    classes = {"nfmnist": FASHION_MNIST_CLASSES, "nmnist": tuple(str(i) for i in range(10)),
               "dvsgesture": DVSGESTURE_CLASSES}[key]
    return DatasetInfo(key, (int(T), p, h, w), len(classes), True, tuple(classes))


def load_event_frames(name: str, split: str, T: int, data_dir: Optional[str | os.PathLike] = None,
                      limit: Optional[int] = None, method: str = "saccade", threshold: Optional[float] = None
                      ) -> tuple[torch.Tensor, torch.Tensor, DatasetInfo]:
    """Frames ``[N, T, P, H, W]`` (integer counts), labels ``[N]`` and the dataset info; ``method``:
    how nfmnist turns images into events (``saccade``, ``flash`` or ``poisson``), ``threshold``: the
    simulated camera's contrast threshold (None: 0.2)."""
    from .events_datasets import DVSGesture, NeuromorphicFashionMNIST, NMNIST

    key = _event_key(name)
    _check_method(key, method, threshold)
    if key == "nfmnist":
        extra = {} if threshold is None else {"threshold": float(threshold)}
        ds = NeuromorphicFashionMNIST(split=split, method=method, limit=limit, data_dir=data_dir, progress=True,
                                      **extra)
    else:
        if data_dir is None:
            where = "root/Train/<digit>/*.bin" if key == "nmnist" else "root/DvsGesture/*.aedat"
            raise FileNotFoundError(f"{key} must be downloaded by hand; pass --data-dir root (with {where})")
        ds = (NMNIST if key == "nmnist" else DVSGesture)(data_dir, split)
    frames = ds.to_frames(T)
    x, y = frames.frames, frames.targets
    if limit is not None and key != "nfmnist":
        x, y = x[:limit], y[:limit]
    return x, y, event_info(key, T, method)
