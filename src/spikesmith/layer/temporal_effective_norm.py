"""Temporal effective batch normalisation (TEBN; Duan et al., NeurIPS 2022, "Temporal Effective Batch
Normalization in Spiking Neural Networks").

One BatchNorm whose statistics are shared by all steps (taken over T, N, H, W jointly, as a
multi-step ``BatchNorm2d``), then a learned scale per time step:

    Y[t] = p[t] * (gamma_c (X[t] - mu_c) / sqrt(var_c + eps) + beta_c),   p in R^T, starting at 1

p[t] is one number per step, as in the authors' code (a [T, 1, 1, 1, 1] parameter). The layer is
made for one T; an input with another T is an error.

Single-step mode (``step_mode='s'``) counts the steps since the last ``functional.reset_net`` to
pick p[t]; there, as for ``BatchNorm2d``, training statistics come from one step only (``eval()``
is the same in both modes).

Folding: in ``eval()`` each step is an affine map per channel, but a different one at every step
(p[t]), so it cannot be folded into a conv/linear layer, which is the same map at every step, and
NIR has no time-varying affine node: conversion and export refuse it by name (``layer.eval_affine``).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..module import MemoryModule
from ._seq import check_seq, fold_time, owner_name
from .eval_affine import refuse_affine

__all__ = ["TemporalEffectiveBatchNorm2d", "check_time_steps"]


def check_time_steps(T, owner: str) -> int:
    if isinstance(T, bool) or not isinstance(T, int) or T < 1:
        raise ValueError(f"{owner}: T must be a positive int (the number of time steps it is built for), got {T!r}")
    return T


class TemporalEffectiveBatchNorm2d(nn.BatchNorm2d, MemoryModule):
    """TEBN (see the module docstring). ``'m'`` input ``[T, N, C, H, W]`` with the T it was built for.

    Args:
        num_features: C.
        T: the number of time steps (one learned scale each).
        eps, momentum, affine, track_running_stats: as ``torch.nn.BatchNorm2d``.
        step_mode: ``'m'`` (default) or ``'s'`` (one ``[N, C, H, W]`` step per call, for at most T steps).
    """

    def __init__(self, num_features: int, T: int, eps: float = 1e-5, momentum: float = 0.1, affine: bool = True,
                 track_running_stats: bool = True, step_mode: str = "m", device=None, dtype=None):
        T = check_time_steps(T, type(self).__name__)
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.step_mode = step_mode
        self.T = T
        self.scale = nn.Parameter(torch.ones(T, device=device, dtype=dtype))
        self.register_memory("t", 0)

    def _check_T(self, T: int) -> None:
        if T != self.T:
            raise ValueError(f"{owner_name(self)} was built for T={self.T} time steps (one scale p[t] each), got an "
                             f"input with T={T}; build it with T={T}")

    def multi_step_forward(self, x_seq: Tensor) -> Tensor:
        check_seq(x_seq, self, "[T, N, C, H, W]", (5,))
        self._check_T(x_seq.shape[0])
        y = fold_time(super().forward, x_seq)
        return y * self.scale.to(y.dtype).view(-1, 1, 1, 1, 1)

    def single_step_forward(self, x: Tensor) -> Tensor:
        if self.t >= self.T:
            raise ValueError(f"{owner_name(self)} was built for T={self.T} steps and has run them; call "
                             f"spikesmith.functional.reset_net(net) before the next sequence")
        y = super().forward(x) * self.scale[self.t].to(x.dtype)
        object.__setattr__(self, "t", self.t + 1)
        return y

    def forward(self, x: Tensor) -> Tensor:
        return self.single_step_forward(x) if self.step_mode == "s" else self.multi_step_forward(x)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, T={self.T}, step_mode={self.step_mode!r}"


refuse_affine(TemporalEffectiveBatchNorm2d,
              "its scale p[t] differs per time step, so in eval it is a different affine map at every step; a "
              "conv/linear layer or a NIR affine node applies the same map at every step")
