"""Batch augmentation for image-like inputs: random horizontal flips and random translations.

Applied to a training batch ``N x ... x H x W`` (static images ``N x C x H x W`` or event frames
``N x T x P x H x W``), the same draw for every time step and channel of a sample:

    flip:   x'[n] = x[n, ..., ::-1]                          with probability 1/2
    shift:  x'[n, ..., i, j] = x[n, ..., i - dy_n, j - dx_n]  dy_n, dx_n uniform in [-s, s], 0 outside

The draws come from a ``torch.Generator``, so a run seeded by (seed, epoch) is repeatable and a
resumed run sees the same augmented batches.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor
from torch.nn import functional as F


def _check(x: Tensor, where: str) -> None:
    if not isinstance(x, Tensor) or x.dim() < 3:
        raise ValueError(f"{where}: expects a batch N x ... x H x W (at least 3 dimensions), got "
                         f"{list(x.shape) if isinstance(x, Tensor) else type(x).__name__}; augmentation applies to "
                         f"images and event frames, not to sequences (set random_flip=false, random_shift=0)")


def random_flip(x: Tensor, generator: Optional[torch.Generator] = None) -> Tensor:
    """Mirror each sample left-right with probability 1/2."""
    _check(x, "random_flip")
    flip = torch.rand(x.shape[0], generator=generator) < 0.5
    mask = flip.to(x.device).view(-1, *([1] * (x.dim() - 1)))
    return torch.where(mask, x.flip(-1), x)


def random_shift(x: Tensor, max_shift: int, generator: Optional[torch.Generator] = None) -> Tensor:
    """Translate each sample by up to ``max_shift`` pixels in each direction, filling with zeros."""
    _check(x, "random_shift")
    if not isinstance(max_shift, int) or max_shift < 0:
        raise ValueError(f"random_shift: max_shift must be an integer >= 0, got {max_shift!r}")
    if max_shift == 0:
        return x
    n, h, w = x.shape[0], x.shape[-2], x.shape[-1]
    s = max_shift
    offsets = torch.randint(0, 2 * s + 1, (2, n), generator=generator).to(x.device)
    padded = F.pad(x.reshape(n, -1, h, w), (s, s, s, s))               # N x K x (H+2s) x (W+2s)
    rows = offsets[0].unsqueeze(1) + torch.arange(h, device=x.device)   # N x H
    cols = offsets[1].unsqueeze(1) + torch.arange(w, device=x.device)   # N x W
    batch = torch.arange(n, device=x.device).view(n, 1, 1)
    out = padded[batch, :, rows.unsqueeze(2), cols.unsqueeze(1)]       # N x H x W x K
    return out.permute(0, 3, 1, 2).reshape(x.shape).contiguous()


def augment(x: Tensor, flip: bool, shift: int, generator: Optional[torch.Generator] = None) -> Tensor:
    """``random_flip`` (when ``flip``) then ``random_shift`` by up to ``shift`` pixels."""
    if flip:
        x = random_flip(x, generator)
    if shift:
        x = random_shift(x, shift, generator)
    return x
