"""Activations for ANNs meant to be converted to SNNs: a clipped ReLU with a trainable threshold and QCFS.

ClipReLU (the "threshold ReLU" of Deng & Gu, ICLR 2021, with the clip point learned as in
Ho & Chang's TCL):

    y = clamp(x, 0, lambda)                       lambda > 0, a parameter (``trainable=False``: a buffer)

QCFS, quantisation-clip-floor-shift (Bu et al., ICLR 2022), with L quantisation levels:

    y = lambda * clamp(floor(x L / lambda + 1/2) / L, 0, 1)

QCFS is what an IF neuron with soft reset, threshold lambda and initial potential lambda / 2 computes
after T = L steps on a constant input, so an ANN trained with it converts at small T with little loss.
The floor passes the gradient straight through (d floor(u) / du := 1); the gradient of lambda flows
through the clip and through the quantised value. Both activations take any input shape; lambda is one
number per layer.

>>> act = QCFS(levels=4, threshold=2.0)
>>> act(torch.tensor([-1.0, 0.2, 0.3, 1.3, 5.0]))
tensor([0.0000, 0.0000, 0.5000, 1.5000, 2.0000], grad_fn=...)
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def _check_threshold(owner: str, threshold) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not threshold > 0:
        raise ValueError(f"{owner}: threshold must be a positive number (the clip point lambda), got {threshold!r}")
    return float(threshold)


class _FloorSTE(torch.autograd.Function):
    """floor(u) forward; the identity's gradient backward (straight-through estimator)."""

    @staticmethod
    def forward(ctx, u: Tensor) -> Tensor:
        return torch.floor(u)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        return grad


def floor_ste(u: Tensor) -> Tensor:
    """floor(u) with a straight-through gradient."""
    return _FloorSTE.apply(u)


class _ThresholdActivation(nn.Module):
    def __init__(self, threshold: float, trainable: bool):
        super().__init__()
        value = torch.tensor(_check_threshold(type(self).__name__, threshold))
        if trainable:
            self.threshold = nn.Parameter(value)
        else:
            self.register_buffer("threshold", value)
        self.trainable = bool(trainable)

    def clip_value(self) -> float:
        """The current clip point lambda (the natural SNN threshold of this layer)."""
        return float(self.threshold.detach())


class ClipReLU(_ThresholdActivation):
    """y = clamp(x, 0, lambda) with lambda trainable (default) or fixed.

    Args:
        threshold: the initial clip point lambda (> 0).
        trainable: learn lambda (a parameter) or keep it fixed (a buffer).
    """

    def __init__(self, threshold: float = 1.0, trainable: bool = True):
        super().__init__(threshold, trainable)

    def forward(self, x: Tensor) -> Tensor:
        lam = self.threshold.to(x.dtype)
        return torch.minimum(torch.relu(x), lam)

    def extra_repr(self) -> str:
        return f"threshold={self.clip_value():.4g}, trainable={self.trainable}"


class QCFS(_ThresholdActivation):
    """Quantisation-clip-floor-shift: y = lambda * clamp(floor(x L / lambda + 1/2) / L, 0, 1).

    Args:
        levels: L, the number of quantisation steps (an SNN with T = L steps computes it exactly).
        threshold: the initial lambda (> 0).
        trainable: learn lambda (default) or keep it fixed.
    """

    def __init__(self, levels: int = 4, threshold: float = 2.0, trainable: bool = True):
        if isinstance(levels, bool) or not isinstance(levels, int) or levels < 1:
            raise ValueError(f"QCFS: levels must be a positive int (L quantisation steps), got {levels!r}")
        super().__init__(threshold, trainable)
        self.levels = levels

    def forward(self, x: Tensor) -> Tensor:
        lam = self.threshold.to(x.dtype)
        u = torch.clamp(x / lam, 0.0, 1.0)
        return floor_ste(u * self.levels + 0.5) / self.levels * lam

    def extra_repr(self) -> str:
        return f"levels={self.levels}, threshold={self.clip_value():.4g}, trainable={self.trainable}"
