"""``GroupNorm`` with a step mode (SpikingJelly's ``layer.GroupNorm``, used by SEW / spiking ResNets).

Same arguments as ``torch.nn.GroupNorm`` plus ``step_mode``. Group normalisation takes its statistics
per sample, so folding time into the batch in ``'m'`` mode normalises every step of every sample on
its own:

    Y[t, n] = GroupNorm(X[t, n])      for X of shape [T, N, C, ...]

and ``'m'`` equals a single-step loop exactly (there are no running statistics).

>>> gn = GroupNorm(2, 8, step_mode="m")
>>> gn(torch.rand(4, 16, 8, 32, 32)).shape
torch.Size([4, 16, 8, 32, 32])
"""

from __future__ import annotations

from torch import nn

from ..module import StepModule
from .stepwise import StepwiseLayer


class GroupNorm(StepwiseLayer, nn.GroupNorm, StepModule):
    """``torch.nn.GroupNorm(num_groups, num_channels, eps, affine)`` with ``step_mode``; ``'m'``: ``[T, N, C, ...]``."""

    seq_layout = "[T, N, C, ...]"
    seq_min_dims = 3
    seq_feature = ("num_channels", 2)
