"""Max unpooling with a step mode: the inverse of ``MaxPool*d(return_indices=True)``.

``forward(x, indices, output_size=None)`` as in torch; in ``'m'`` mode ``x`` and ``indices`` are both
``[T, N, C, ...]`` and every step is unpooled alike, Y[t] = unpool(X[t], I[t]).

>>> pool, unpool = MaxPool2d(2, return_indices=True, step_mode="m"), MaxUnpool2d(2, step_mode="m")
>>> y, idx = pool(x_seq)                        # x_seq [T, N, C, H, W]
>>> unpool(y, idx).shape == x_seq.shape
"""

from __future__ import annotations

from typing import Optional, Sequence

from torch import Tensor, nn

from ..module import StepModule
from ._seq import check_seq, owner_name

_LAYOUT = {1: "[T, N, C, L]", 2: "[T, N, C, H, W]", 3: "[T, N, C, D, H, W]"}


class _StepUnpool:
    """The step-mode forward shared by the three unpooling layers (``dims``: spatial dims); listed
    first, the torch layer next and ``StepModule`` last, as ``StepwiseLayer``."""

    dims = 0

    def __init__(self, kernel_size, stride=None, padding=0, step_mode: str = "s"):
        super().__init__(kernel_size, stride, padding)
        self.step_mode = step_mode

    def forward(self, x: Tensor, indices: Tensor, output_size: Optional[Sequence[int]] = None) -> Tensor:
        unpool = super().forward
        if self.step_mode == "s":
            return unpool(x, indices, output_size)
        layout = _LAYOUT[self.dims]
        check_seq(x, self, layout, dims=(self.dims + 3,))
        if not isinstance(indices, Tensor) or indices.shape != x.shape:
            got = list(indices.shape) if isinstance(indices, Tensor) else type(indices).__name__
            raise ValueError(f"{owner_name(self)} in step_mode='m' expects indices of the input's shape "
                             f"{list(x.shape)} (those MaxPool{self.dims}d(return_indices=True) returned), got {got}")
        if output_size is not None and len(output_size) > self.dims:
            output_size = list(output_size)[-self.dims:]       # a [T, N, C, ...] size: keep the spatial part
        T, N = x.shape[0], x.shape[1]
        y = unpool(x.flatten(0, 1), indices.flatten(0, 1), output_size)
        return y.unflatten(0, (T, N))

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, step_mode={self.step_mode!r}"


class MaxUnpool1d(_StepUnpool, nn.MaxUnpool1d, StepModule):
    """``torch.nn.MaxUnpool1d`` with ``step_mode``; ``'m'`` input ``[T, N, C, L]``."""

    dims = 1


class MaxUnpool2d(_StepUnpool, nn.MaxUnpool2d, StepModule):
    """``torch.nn.MaxUnpool2d`` with ``step_mode``; ``'m'`` input ``[T, N, C, H, W]``."""

    dims = 2


class MaxUnpool3d(_StepUnpool, nn.MaxUnpool3d, StepModule):
    """``torch.nn.MaxUnpool3d`` with ``step_mode``; ``'m'`` input ``[T, N, C, D, H, W]``."""

    dims = 3
