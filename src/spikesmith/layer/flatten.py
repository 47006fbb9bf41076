"""``Flatten`` with a step mode.

``start_dim`` and ``end_dim`` keep their torch meaning for the single-step tensor ``[N, ...]``.
In ``'m'`` mode the same dims of every step are flattened, so the sequence ``[T, N, ...]`` has
its dims ``start_dim + 1 .. end_dim + 1`` flattened (negative dims count from the end in both):

    Flatten(step_mode="m"):              [T, N, C, H, W] -> [T, N, C*H*W]
    Flatten(start_dim=0, step_mode="m"): [T, N, C, H, W] -> [T, N*C*H*W]
"""

from __future__ import annotations

from torch import Tensor, nn

from ..module import StepModule
from ._seq import check_seq, owner_name
from .stepwise import StepwiseLayer


class Flatten(StepwiseLayer, nn.Flatten, StepModule):
    """``torch.nn.Flatten`` (default ``start_dim=1, end_dim=-1``) with ``step_mode``."""

    seq_layout = "[T, N, ...]"

    def _seq_dim(self, name: str, dim: int, shape: list[int]) -> int:
        """``dim`` of the single-step tensor as a dim of the sequence of shape ``shape``."""
        step_dims = len(shape) - 1
        if not -step_dims <= dim < step_dims:
            need = (dim if dim >= 0 else -dim - 1) + 2
            raise ValueError(
                f"{owner_name(self)} in step_mode='m' with {name}={dim} expects input of shape [T, N, ...] "
                f"with at least {need} dims, got shape {shape}"
            )
        return dim % step_dims + 1

    def multi_step_forward(self, x_seq: Tensor) -> Tensor:
        check_seq(x_seq, self, self.seq_layout)
        shape = list(x_seq.shape)
        return x_seq.flatten(self._seq_dim("start_dim", self.start_dim, shape),
                             self._seq_dim("end_dim", self.end_dim, shape))
