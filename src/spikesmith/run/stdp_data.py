"""The inputs of the STDP runs (Diehl & Cook and the hybrid): the image splits and the noise of each batch.

Every random draw is derived from (seed, epoch, batch, rank, salt), so a resumed run draws what an
uninterrupted one would.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..data import get_dataset
from .stdp_config import STDPConfig


def batch_generator(seed: int, epoch: int, batch: int, *, rank: int = 0, salt: int = 0) -> torch.Generator:
    """The generator of one batch's input spikes (``salt`` tells apart passes over the same batches)."""
    return torch.Generator().manual_seed((seed * 1_000_003 + epoch * 7_919 + batch * 104_729 + rank * 15_485_863
                                          + salt) % (2**63))


def load_images(cfg: STDPConfig, split: str) -> tuple[Tensor, Tensor, object]:
    """Inputs, targets and the dataset info of a split, cut to ``train_subset`` / ``test_subset``."""
    ds = get_dataset(cfg.dataset, split, data_dir=cfg.data_dir)
    limit = cfg.train_subset if split == "train" else cfg.test_subset
    x, y = ds.inputs, ds.targets
    if limit is not None:
        x, y = x[:limit], y[:limit]
    return x, y, ds.info
