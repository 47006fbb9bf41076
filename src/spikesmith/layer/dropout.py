"""Dropout over time: one mask per sample, shared by every time step until ``reset()``.

Dropping a different set of units at every step would let each unit through most of the time
and act as noise rather than dropout; SNNs draw the mask once per sequence:

    M ~ Bernoulli(1 - p) / (1 - p)        (drawn at the first step after a reset, in training)
    Y[t] = X[t] * M                        for every t;   Y = X in eval()

``Dropout``: M has the shape of one step ``[N, ...]``. ``Dropout2d``: one value per sample and
channel, M of shape ``[N, C, 1, 1]`` (whole feature maps are dropped).

The mask is state (a ``MemoryModule``): in ``step_mode='s'`` it is drawn on the first call and
kept, so a single-step loop over T gives what one ``'m'`` call gives with the same random seed.
Call ``functional.reset_net(net)`` between sequences to draw a new mask.

>>> drop = Dropout(0.2, step_mode="m")
>>> y = drop(torch.ones(4, 16, 100))        # y[t] is the same for every t
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from ..module import MemoryModule
from ._seq import check_seq, check_tensor


class Dropout(MemoryModule):
    """Dropout with one mask per sample shared over time.

    Args:
        p: probability of zeroing an element, in [0, 1].
        step_mode: ``'s'`` (input ``[N, ...]``) or ``'m'`` (input ``[T, N, ...]``).
    """

    step_layout = "[N, ...]"
    seq_layout = "[T, N, ...]"
    step_dims: tuple[int, ...] = ()  # empty: any number >= 1

    def __init__(self, p: float = 0.5, step_mode: str = "s"):
        super().__init__(step_mode)
        if isinstance(p, bool) or not isinstance(p, (int, float)):
            raise TypeError(f"{type(self).__name__}: p must be a float in [0, 1], got {type(p).__name__}")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: p must lie in [0, 1] (the drop probability), got {p}")
        self.p = float(p)
        self.register_memory("mask", None)

    def mask_shape(self, step_shape: torch.Size) -> tuple[int, ...]:
        """The mask shape for one step of shape ``step_shape`` (``[N, ...]``)."""
        return tuple(step_shape)

    def _check_step(self, x: Tensor, seq: bool) -> None:
        if seq:
            dims = tuple(d + 1 for d in self.step_dims)
            check_seq(x, self, self.seq_layout, dims)
            return
        check_tensor(x, self)
        ok = x.dim() in self.step_dims if self.step_dims else x.dim() >= 1
        if not ok:
            raise ValueError(
                f"{self.layer_name()} in step_mode='s' expects input of shape {self.step_layout}, "
                f"got shape {list(x.shape)}"
            )

    def _mask_for(self, step_shape: torch.Size, like: Tensor) -> Tensor:
        """The current mask for steps of shape ``step_shape``, drawn if there is none."""
        shape = self.mask_shape(step_shape)
        mask: Optional[Tensor] = self.mask
        if mask is None:
            keep = torch.empty(shape, device=like.device).bernoulli_(1.0 - self.p)
            scale = 0.0 if self.p == 1.0 else 1.0 / (1.0 - self.p)
            mask = (keep * scale).to(like.dtype)
            self.mask = mask
        elif tuple(mask.shape) != shape:
            raise ValueError(
                f"{self.layer_name()}: input needs a mask of shape {list(shape)} but the current mask has "
                f"shape {list(mask.shape)}; call spikesmith.functional.reset_net(net) between sequences"
            )
        return mask if mask.dtype == like.dtype else mask.to(like.dtype)

    def forward(self, x: Tensor) -> Tensor:
        seq = self.step_mode == "m"
        self._check_step(x, seq)
        if not self.training or self.p == 0.0:
            return x
        return x * self._mask_for(x.shape[1:] if seq else x.shape, x)

    def extra_repr(self) -> str:
        return f"p={self.p}, step_mode={self.step_mode!r}"


class Dropout2d(Dropout):
    """Channel dropout with one mask per sample and channel, shared over time.

    Input ``[N, C, H, W]`` (``'s'``) or ``[T, N, C, H, W]`` (``'m'``); mask ``[N, C, 1, 1]``.
    """

    step_layout = "[N, C, H, W]"
    seq_layout = "[T, N, C, H, W]"
    step_dims = (4,)

    def mask_shape(self, step_shape: torch.Size) -> tuple[int, ...]:
        return tuple(step_shape[:2]) + (1,) * (len(step_shape) - 2)
