"""Small step-mode layers for NIR nodes spikesmith's ``layer`` package has no twin of.

``Scale``      Y = X * s           (NIR ``Scale``; s broadcasts to one step's sample, e.g. [C, 1, 1])
``SumPool2d``  Y = sum of each window (NIR ``SumPool2d``; an average pool times its window size)
``Threshold``  Y = Heaviside(X - theta), Heaviside(0) = 1 as the neurons fire (NIR ``Threshold`` is
               strict: X > theta; the two differ only on ties)

All are stateless: in ``step_mode='m'`` they act on every step of ``[T, N, ...]`` alike.
"""

from __future__ import annotations

from typing import Union

import torch.nn.functional as F
from torch import Tensor, nn

from ..module import StepModule, as_float_tensor

Scalar = Union[float, Tensor]


def _param(module: nn.Module, name: str, value) -> None:
    if isinstance(value, Tensor):
        module.register_buffer(name, as_float_tensor(value))
    else:
        setattr(module, name, float(value))


class Scale(StepModule):
    """Elementwise scaling ``Y = X * scale`` (per neuron, per channel or one number)."""

    def __init__(self, scale: Scalar, step_mode: str = "s"):
        super().__init__(step_mode)
        _param(self, "scale", scale)

    def forward(self, x: Tensor) -> Tensor:
        return x * self.scale

    def extra_repr(self) -> str:
        s = self.scale
        return f"scale={f'tensor{list(s.shape)}' if isinstance(s, Tensor) else s}, step_mode={self.step_mode!r}"


class SumPool2d(StepModule):
    """Sum pooling over ``kernel_size`` windows: ``[N, C, H, W]`` (``'s'``) or ``[T, N, C, H, W]`` (``'m'``)."""

    def __init__(self, kernel_size, stride=None, padding=0, step_mode: str = "s"):
        super().__init__(step_mode)
        self.kernel_size = _pair(kernel_size)
        self.stride = self.kernel_size if stride is None else _pair(stride)
        self.padding = _pair(padding)

    def forward(self, x: Tensor) -> Tensor:
        folded = self.step_mode == "m"
        if folded:
            T, N = x.shape[:2]
            x = x.flatten(0, 1)
        k = self.kernel_size[0] * self.kernel_size[1]
        y = F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, count_include_pad=True) * k
        return y.unflatten(0, (T, N)) if folded else y

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"step_mode={self.step_mode!r}")


class Threshold(StepModule):
    """``Y = Heaviside(X - threshold)`` with Heaviside(0) = 1 (no state, no gradient)."""

    def __init__(self, threshold: Scalar, step_mode: str = "s"):
        super().__init__(step_mode)
        _param(self, "threshold", threshold)

    def forward(self, x: Tensor) -> Tensor:
        return (x >= self.threshold).to(x.dtype)

    def extra_repr(self) -> str:
        t = self.threshold
        return f"threshold={f'tensor{list(t.shape)}' if isinstance(t, Tensor) else t}, step_mode={self.step_mode!r}"


def _pair(v) -> tuple[int, int]:
    if isinstance(v, (list, tuple)) or (hasattr(v, "__len__") and not isinstance(v, str)):
        vals = [int(x) for x in v]
        return (vals[0], vals[0]) if len(vals) == 1 else (vals[0], vals[1])
    return (int(v), int(v))
