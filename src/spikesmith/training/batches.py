"""In-memory mini-batches, shuffled from (seed, epoch) so a resumed run sees the same order,
and sharded by rank for distributed training."""

from __future__ import annotations

from typing import Iterator

import torch
from torch import Tensor


def epoch_generator(seed: int, epoch: int, salt: int = 0) -> torch.Generator:
    """A generator that depends only on (seed, epoch, salt)."""
    return torch.Generator().manual_seed((seed * 1_000_003 + epoch * 7_919 + salt) % (2**63))


def iterate_batches(
    inputs: Tensor, targets: Tensor, batch_size: int, *, shuffle: bool, seed: int = 0, epoch: int = 0,
    rank: int = 0, world_size: int = 1, pad: bool = True,
) -> Iterator[tuple[Tensor, Tensor]]:
    """Yield ``(x, y)`` batches; with ``world_size > 1`` each rank gets a disjoint share, padded by
    wrapping to equal sizes when ``pad`` (training, as DistributedSampler) and not for evaluation."""
    n = inputs.shape[0]
    order = torch.randperm(n, generator=epoch_generator(seed, epoch)) if shuffle else torch.arange(n)
    if world_size > 1 and pad:
        per_rank = -(-n // world_size)
        order = torch.cat([order, order[: per_rank * world_size - n]])  # pad by wrapping, as DistributedSampler
    if world_size > 1:
        order = order[rank::world_size]
    for start in range(0, order.numel(), batch_size):
        idx = order[start : start + batch_size]
        yield inputs[idx], targets[idx]


def num_batches(n: int, batch_size: int, world_size: int = 1) -> int:
    per_rank = -(-n // world_size)
    return -(-per_rank // batch_size)
