"""Threshold-dependent batch normalisation (tdBN; Zheng et al., AAAI 2021, "Going Deeper With
Directly-Trained Larger Spiking Neural Networks").

The statistics are taken over time, batch and space jointly, and the normalised value is scaled
to the threshold of the neurons it feeds:

    mu_c, var_c = mean and (biased) variance of X[t, n, c, h, w] over t, n, h, w
    Y = gamma_c * alpha V_th (X - mu_c) / sqrt(var_c + eps) + beta_c

``v_threshold`` is V_th of the next layer's neurons; ``alpha`` is 1, or 1/sqrt(2) for a branch
that is added to another before the neuron (the paper's residual blocks). gamma (``weight``) and
beta (``bias``) are learned and start at 1 and 0; alpha V_th is fixed. The running statistics are
updated once per multi-step call (momentum as in torch's BatchNorm: the unbiased batch variance
enters ``running_var``); ``eval()`` uses them.

In ``eval()`` tdBN is one affine map per channel (scale alpha V_th gamma_c / sqrt(var_c + eps)), so
conversion and export fold it into the conv/linear layer before it (``layer.eval_affine``).

SpikingJelly's ``ThresholdDependentBatchNorm2d`` puts alpha V_th into gamma's initial value instead
(gamma starts at alpha V_th): the same forward at the start, with gamma's gradient scaled
differently. Here the factor stays outside gamma, as the paper writes it.

>>> bn = ThresholdDependentBatchNorm2d(8, alpha=1.0, v_threshold=0.5)        # multi-step by default
>>> bn(torch.rand(4, 16, 8, 32, 32)).shape
torch.Size([4, 16, 8, 32, 32])
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ..module import StepModule
from .eval_affine import batchnorm_affine, register_affine
from .stepwise import StepwiseLayer

__all__ = ["ThresholdDependentBatchNorm2d"]


def _positive(value, name: str, owner: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{owner}: {name} must be a positive number, got {value!r}")
    return float(value)


class _ThresholdDependentBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d whose normalised value is multiplied by alpha V_th before gamma and beta."""

    def __init__(self, num_features: int, alpha: float = 1.0, v_threshold: float = 1.0, **kwargs):
        owner = "ThresholdDependentBatchNorm2d"
        alpha = _positive(alpha, "alpha", owner)
        v_threshold = _positive(v_threshold, "v_threshold", owner)
        super().__init__(num_features, **kwargs)
        self.alpha = alpha
        self.v_threshold = v_threshold

    @property
    def factor(self) -> float:
        """alpha V_th, the fixed scale of the normalised value."""
        return self.alpha * self.v_threshold

    def forward(self, x: Tensor) -> Tensor:
        self._check_input_dim(x)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            momentum = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        keep = not self.training or self.track_running_stats
        weight = self.weight * self.factor if self.affine else \
            torch.full((self.num_features,), self.factor, dtype=x.dtype, device=x.device)
        return F.batch_norm(x, self.running_mean if keep else None, self.running_var if keep else None, weight,
                            self.bias, batch_stats, momentum, self.eps)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, alpha={self.alpha:g}, v_threshold={self.v_threshold:g}"


class ThresholdDependentBatchNorm2d(StepwiseLayer, _ThresholdDependentBatchNorm2d, StepModule):
    """tdBN (see the module docstring). ``'m'`` input ``[T, N, C, H, W]`` (the default mode: statistics
    over T x N x H x W); ``'s'`` takes ``[N, C, H, W]``, statistics over one step.

    Args:
        num_features: C.
        alpha: the paper's alpha (1; 1/sqrt(2) before a residual addition).
        v_threshold: V_th of the neurons that follow.
        eps, momentum, affine, track_running_stats: as ``torch.nn.BatchNorm2d``.
        step_mode: ``'m'`` (default) or ``'s'``.
    """

    seq_layout = "[T, N, C, H, W]"
    seq_dims = (5,)
    seq_feature = ("num_features", 2)

    def __init__(self, num_features: int, alpha: float = 1.0, v_threshold: float = 1.0, *, step_mode: str = "m",
                 **kwargs):
        super().__init__(num_features, alpha, v_threshold, step_mode=step_mode, **kwargs)


register_affine(_ThresholdDependentBatchNorm2d, lambda bn: batchnorm_affine(bn, bn.factor))
