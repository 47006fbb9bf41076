"""Pooling with a step mode: max, average and adaptive average pooling in 1, 2 and 3 dims.

Same arguments as the torch pooling layers plus ``step_mode``. In ``'m'`` mode every step is
pooled alike, Y[t] = pool(X[t]); ``MaxPool*d(return_indices=True)`` returns both tensors as
``[T, N, ...]``.

>>> pool = MaxPool2d(2, step_mode="m")
>>> pool(torch.rand(4, 16, 8, 32, 32)).shape
torch.Size([4, 16, 8, 16, 16])
"""

from __future__ import annotations

from torch import Tensor, nn

from ..module import StepModule
from .stepwise import StepwiseLayer

_LAYOUT = {1: "[T, N, C, L]", 2: "[T, N, C, H, W]", 3: "[T, N, C, D, H, W]"}


class _SkipSameSize:
    """Adaptive average pooling whose input already has the output size is the identity: return
    the input as it is (the CSNN's pool before its classifier, on 28 x 28 images, saved a pass
    forward and a zero-filled one backward)."""

    def forward(self, x: Tensor):
        dims = self.seq_dims[0] - 3  # spatial dims ([T, N, C, ...] in multi-step mode)
        size = self.output_size
        size = (size,) * dims if isinstance(size, int) else tuple(size)
        if x.dim() > dims and all(o is None or o == i for o, i in zip(size, x.shape[-dims:])):
            if self.step_mode == "m":
                self.check_seq_input(x)
            return x
        return super().forward(x)


class MaxPool1d(StepwiseLayer, nn.MaxPool1d, StepModule):
    """``torch.nn.MaxPool1d`` with ``step_mode``; ``'m'`` input ``[T, N, C, L]``."""

    seq_layout, seq_dims = _LAYOUT[1], (4,)


class MaxPool2d(StepwiseLayer, nn.MaxPool2d, StepModule):
    """``torch.nn.MaxPool2d`` with ``step_mode``; ``'m'`` input ``[T, N, C, H, W]``."""

    seq_layout, seq_dims = _LAYOUT[2], (5,)


class MaxPool3d(StepwiseLayer, nn.MaxPool3d, StepModule):
    """``torch.nn.MaxPool3d`` with ``step_mode``; ``'m'`` input ``[T, N, C, D, H, W]``."""

    seq_layout, seq_dims = _LAYOUT[3], (6,)


class AvgPool1d(StepwiseLayer, nn.AvgPool1d, StepModule):
    """``torch.nn.AvgPool1d`` with ``step_mode``; ``'m'`` input ``[T, N, C, L]``."""

    seq_layout, seq_dims = _LAYOUT[1], (4,)


class AvgPool2d(StepwiseLayer, nn.AvgPool2d, StepModule):
    """``torch.nn.AvgPool2d`` with ``step_mode``; ``'m'`` input ``[T, N, C, H, W]``."""

    seq_layout, seq_dims = _LAYOUT[2], (5,)


class AvgPool3d(StepwiseLayer, nn.AvgPool3d, StepModule):
    """``torch.nn.AvgPool3d`` with ``step_mode``; ``'m'`` input ``[T, N, C, D, H, W]``."""

    seq_layout, seq_dims = _LAYOUT[3], (6,)


class AdaptiveAvgPool1d(_SkipSameSize, StepwiseLayer, nn.AdaptiveAvgPool1d, StepModule):
    """``torch.nn.AdaptiveAvgPool1d`` with ``step_mode``; ``'m'`` input ``[T, N, C, L]``."""

    seq_layout, seq_dims = _LAYOUT[1], (4,)


class AdaptiveAvgPool2d(_SkipSameSize, StepwiseLayer, nn.AdaptiveAvgPool2d, StepModule):
    """``torch.nn.AdaptiveAvgPool2d`` with ``step_mode``; ``'m'`` input ``[T, N, C, H, W]``."""

    seq_layout, seq_dims = _LAYOUT[2], (5,)


class AdaptiveAvgPool3d(_SkipSameSize, StepwiseLayer, nn.AdaptiveAvgPool3d, StepModule):
    """``torch.nn.AdaptiveAvgPool3d`` with ``step_mode``; ``'m'`` input ``[T, N, C, D, H, W]``."""

    seq_layout, seq_dims = _LAYOUT[3], (6,)
