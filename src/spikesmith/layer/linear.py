"""``Linear`` with a step mode.

Same arguments as ``torch.nn.Linear`` plus ``step_mode``. In ``'m'`` mode the input is
``[T, N, ..., in_features]`` and Y[t] = X[t] W^T + b at every step; a linear map acts on the
last dim only, so the sequence goes through ``F.linear`` as it is (no folding).

>>> fc = Linear(128, 10, step_mode="m")
>>> fc(torch.rand(4, 16, 128)).shape
torch.Size([4, 16, 10])
"""

from __future__ import annotations

from torch import Tensor, nn

from ..module import StepModule
from .stepwise import StepwiseLayer


class Linear(StepwiseLayer, nn.Linear, StepModule):
    """``torch.nn.Linear`` with ``step_mode``; ``'m'`` input ``[T, N, ..., in_features]``."""

    seq_layout = "[T, N, ..., in_features]"
    seq_min_dims = 3
    seq_feature = ("in_features", -1)

    def multi_step_forward(self, x_seq: Tensor) -> Tensor:
        self.check_seq_input(x_seq)
        return nn.Linear.forward(self, x_seq)
