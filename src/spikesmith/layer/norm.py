"""Batch normalisation with a step mode: ``BatchNorm1d``, ``BatchNorm2d``, ``BatchNorm3d``.

Same arguments as ``torch.nn.BatchNormNd`` plus ``step_mode``. In ``'m'`` mode time is folded
into the batch, so in training the statistics are taken over all T x N samples:

    mu_c = mean over (t, n, ...) of X[t, n, c, ...],   Y = gamma_c (X - mu_c) / sqrt(var_c + eps) + beta_c

and the running statistics are updated once per call. This is what SpikingJelly's layers do;
it differs from a single-step loop in training (per-step statistics, T updates) but not in
``eval()``, where both use the running statistics.

>>> bn = BatchNorm2d(8, step_mode="m")
>>> bn(torch.rand(4, 16, 8, 32, 32)).shape
torch.Size([4, 16, 8, 32, 32])
"""

from __future__ import annotations

from torch import nn

from ..module import StepModule
from .stepwise import StepwiseLayer


class BatchNorm1d(StepwiseLayer, nn.BatchNorm1d, StepModule):
    """``torch.nn.BatchNorm1d`` with ``step_mode``; ``'m'`` input ``[T, N, C]`` or ``[T, N, C, L]``."""

    seq_layout = "[T, N, C] or [T, N, C, L]"
    seq_dims = (3, 4)
    seq_feature = ("num_features", 2)


class BatchNorm2d(StepwiseLayer, nn.BatchNorm2d, StepModule):
    """``torch.nn.BatchNorm2d`` with ``step_mode``; ``'m'`` input ``[T, N, C, H, W]``."""

    seq_layout = "[T, N, C, H, W]"
    seq_dims = (5,)
    seq_feature = ("num_features", 2)


class BatchNorm3d(StepwiseLayer, nn.BatchNorm3d, StepModule):
    """``torch.nn.BatchNorm3d`` with ``step_mode``; ``'m'`` input ``[T, N, C, D, H, W]``."""

    seq_layout = "[T, N, C, D, H, W]"
    seq_dims = (6,)
    seq_feature = ("num_features", 2)
