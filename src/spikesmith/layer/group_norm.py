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

from torch import Tensor, nn

from ..module import StepModule, check_dims
from .stepwise import StepwiseLayer


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


class GroupNorm(StepwiseLayer, nn.GroupNorm, StepModule):
    """``torch.nn.GroupNorm(num_groups, num_channels, eps, affine)`` with ``step_mode``; ``'m'``: ``[T, N, C, ...]``."""

    seq_layout = "[T, N, C, ...]"
    seq_min_dims = 3
    seq_feature = ("num_channels", 2)

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 step_mode: str = "s"):
        if not (_positive_int(num_groups) and _positive_int(num_channels)) or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_groups and num_channels must be positive ints with num_channels "
                             f"divisible by num_groups, got num_groups={num_groups!r}, num_channels={num_channels!r}")
        super().__init__(num_groups, num_channels, eps, affine, step_mode=step_mode)

    def forward(self, x: Tensor):
        if self.step_mode == "s":
            check_dims(x, self, "[N, C, ...]", min_dims=2, step_mode="s")
            if x.shape[1] != self.num_channels:
                raise ValueError(f"{self.layer_name()} expects input of shape [N, C, ...] with "
                                 f"num_channels={self.num_channels} at dim 1, got shape {list(x.shape)}")
        return super().forward(x)
