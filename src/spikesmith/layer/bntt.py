"""Batch normalisation through time (BNTT; Kim & Panda, Frontiers in Neuroscience 2021,
"Revisiting Batch Normalization for Training Low-Latency Deep Spiking Neural Networks From Scratch").

Every time step has its own statistics and its own gamma, and there is no beta:

    mu_{t,c}, var_{t,c} = mean and (biased) variance of X[t, n, c, ...] over n and space, at step t
    Y[t] = gamma_{t,c} (X[t] - mu_{t,c}) / sqrt(var_{t,c} + eps)

with running statistics per step (``running_mean`` / ``running_var`` of shape [T, C]) used in
``eval()``, and gamma (``weight``, [T, C]) starting at 1. The layer is made for one T: an input
with another T is an error. Input ``[T, N, C]``, ``[T, N, C, L]`` or ``[T, N, C, H, W]``; all steps
are normalised in one call (the T x C (step, channel) pairs as the channels of one BatchNorm).
Single-step mode counts the steps since the last ``functional.reset_net`` to pick step t's
statistics and gamma.

Folding: in ``eval()`` step t is the affine map gamma_{t,c} (X - mu_{t,c}) / sqrt(var_{t,c} + eps),
a different one at every step, so it cannot be folded into a conv/linear layer (the same map at
every step), and NIR has no time-varying affine node: conversion and export refuse it by name.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ..module import MemoryModule
from ._seq import check_dims, check_seq, owner_name
from .eval_affine import refuse_affine
from .temporal_effective_norm import check_time_steps

__all__ = ["BNTT"]


class BNTT(MemoryModule):
    """BNTT (see the module docstring).

    Args:
        num_features: C.
        T: the number of time steps (statistics and gamma for each).
        eps, momentum: as ``torch.nn.BatchNorm2d`` (momentum None: cumulative average).
        affine: learn gamma (True, default) or fix it at 1.
        track_running_stats: keep running statistics per step for ``eval()`` (default True).
        step_mode: ``'m'`` (default) or ``'s'`` (one ``[N, C, ...]`` step per call, at most T steps).
    """

    def __init__(self, num_features: int, T: int, eps: float = 1e-5, momentum: float = 0.1, affine: bool = True,
                 track_running_stats: bool = True, step_mode: str = "m"):
        owner = type(self).__name__
        if isinstance(num_features, bool) or not isinstance(num_features, int) or num_features < 1:
            raise ValueError(f"{owner}: num_features must be a positive int, got {num_features!r}")
        T = check_time_steps(T, owner)
        super().__init__(step_mode)
        self.num_features, self.T, self.eps, self.momentum = num_features, T, eps, momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        self.weight = nn.Parameter(torch.ones(T, num_features)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(T, num_features))
            self.register_buffer("running_var", torch.ones(T, num_features))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None
        self.register_memory("t", 0)

    def _momentum(self, count: bool) -> float:
        """The running-average factor of this call; ``count``: this call is one more batch."""
        if not (self.training and self.track_running_stats):
            return 0.0 if self.momentum is None else self.momentum
        if count:
            self.num_batches_tracked.add_(1)
        return 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum

    def _normalise(self, x: Tensor, mean, var, weight, momentum: float) -> Tensor:
        batch_stats = self.training or mean is None
        return F.batch_norm(x, mean, var, weight, None, batch_stats, momentum, self.eps)

    def multi_step_forward(self, x_seq: Tensor) -> Tensor:
        check_seq(x_seq, self, "[T, N, C, ...]", min_dims=3)
        T, N, C = x_seq.shape[:3]
        if T != self.T:
            raise ValueError(f"{owner_name(self)} was built for T={self.T} time steps (statistics and gamma for "
                             f"each), got an input with T={T}; build it with T={T}")
        if C != self.num_features:
            raise ValueError(f"{owner_name(self)} expects num_features={self.num_features} channels at dim 2 of "
                             f"[T, N, C, ...], got shape {list(x_seq.shape)}")
        folded = x_seq.movedim(0, 1).reshape(N, T * C, *x_seq.shape[3:])       # channel (t, c) -> t * C + c
        keep = self.running_mean is not None
        mean = self.running_mean.view(-1) if keep else None
        var = self.running_var.view(-1) if keep else None
        weight = None if self.weight is None else self.weight.reshape(-1)
        y = self._normalise(folded, mean, var, weight, self._momentum(True))
        return y.reshape(N, T, *x_seq.shape[2:]).movedim(1, 0)

    def single_step_forward(self, x: Tensor) -> Tensor:
        check_dims(x, self, "[N, C, ...]", min_dims=2, step_mode="s")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{owner_name(self)} expects num_features={self.num_features} channels at dim 1 of "
                             f"[N, C, ...], got shape {list(x.shape)}")
        t = self.t
        if t >= self.T:
            raise ValueError(f"{owner_name(self)} was built for T={self.T} steps and has run them; call "
                             f"spikesmith.functional.reset_net(net) before the next sequence")
        keep = self.running_mean is not None
        y = self._normalise(x, self.running_mean[t] if keep else None, self.running_var[t] if keep else None,
                            None if self.weight is None else self.weight[t], self._momentum(t == 0))
        object.__setattr__(self, "t", t + 1)
        return y

    def forward(self, x: Tensor) -> Tensor:
        return self.single_step_forward(x) if self.step_mode == "s" else self.multi_step_forward(x)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, T={self.T}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}, step_mode={self.step_mode!r}")


refuse_affine(BNTT, "its statistics and gamma differ per time step, so in eval it is a different affine map at "
                    "every step; a conv/linear layer or a NIR affine node applies the same map at every step")
