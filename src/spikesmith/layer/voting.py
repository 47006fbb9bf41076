"""``VotingLayer``: the class score as the mean of its group of ``voting_size`` output neurons.

SpikingJelly's ``layer.VotingLayer`` (the PLIF paper's nets end with ``voting_size`` neurons per class).
For ``x`` of shape ``[N, C]``, with ``K = voting_size``:

    y[n, j] = (1 / K) * sum_{k < K} x[n, j*K + k]      for j < floor(C / K)

(the last ``C mod K`` features, if any, are dropped, as average pooling with stride ``K`` does). In
``'m'`` mode ``[T, N, C]`` gives ``[T, N, C // K]``, every step alike.

>>> VotingLayer(10)(torch.rand(2, 100)).shape
torch.Size([2, 10])
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from ..module import StepModule, check_dims
from ._seq import check_seq, fold_time


class VotingLayer(StepModule):
    """Average every ``voting_size`` consecutive features: ``[N, C] -> [N, C // voting_size]``."""

    def __init__(self, voting_size: int = 10, step_mode: str = "s"):
        if isinstance(voting_size, bool) or not isinstance(voting_size, int) or voting_size < 1:
            raise ValueError(f"VotingLayer: voting_size must be a positive int (neurons per class), "
                             f"got {voting_size!r}")
        super().__init__(step_mode)
        self.voting_size = voting_size

    def extra_repr(self) -> str:
        return f"voting_size={self.voting_size}, step_mode={self.step_mode}"

    def _vote(self, x: Tensor) -> Tensor:
        if x.shape[-1] < self.voting_size:
            raise ValueError(f"{self.layer_name()}: {x.shape[-1]} features cannot form one group of "
                             f"voting_size={self.voting_size}; give at least voting_size features per sample")
        return F.avg_pool1d(x.unsqueeze(1), self.voting_size, self.voting_size).squeeze(1)

    def forward(self, x: Tensor) -> Tensor:
        if self.step_mode == "s":
            check_dims(x, self, "[N, C]", (2,), step_mode="s")
            return self._vote(x)
        check_seq(x, self, "[T, N, C]", (3,))
        return fold_time(self._vote, x)
