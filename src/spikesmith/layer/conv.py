"""Convolutions with a step mode: ``Conv1d``, ``Conv2d``, ``Conv3d``.

Same arguments as ``torch.nn.ConvNd`` plus ``step_mode``. In ``'m'`` mode the input is
``[T, N, C, ...]`` and every step is convolved alike: Y[t] = W * X[t] + b.

>>> conv = Conv2d(2, 8, 3, padding=1, step_mode="m")
>>> conv(torch.rand(4, 16, 2, 32, 32)).shape          # T=4, N=16
torch.Size([4, 16, 8, 32, 32])
"""

from __future__ import annotations

from torch import nn

from ..module import StepModule
from .stepwise import StepwiseLayer


class Conv1d(StepwiseLayer, nn.Conv1d, StepModule):
    """``torch.nn.Conv1d`` with ``step_mode``; ``'m'`` input ``[T, N, C, L]``."""

    seq_layout = "[T, N, C, L]"
    seq_dims = (4,)
    seq_feature = ("in_channels", 2)


class Conv2d(StepwiseLayer, nn.Conv2d, StepModule):
    """``torch.nn.Conv2d`` with ``step_mode``; ``'m'`` input ``[T, N, C, H, W]``."""

    seq_layout = "[T, N, C, H, W]"
    seq_dims = (5,)
    seq_feature = ("in_channels", 2)


class Conv3d(StepwiseLayer, nn.Conv3d, StepModule):
    """``torch.nn.Conv3d`` with ``step_mode``; ``'m'`` input ``[T, N, C, D, H, W]``."""

    seq_layout = "[T, N, C, D, H, W]"
    seq_dims = (6,)
    seq_feature = ("in_channels", 2)
