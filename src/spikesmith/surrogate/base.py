"""The surrogate spike function: exact Heaviside forward, smooth derivative backward.

Every surrogate acts on x = H - V_th, with its step at 0:

    forward:   S = Heaviside(x)   (1 where x >= 0)
    backward:  dS/dx := g(x) = P'(x), the derivative of a smooth primitive P

A surrogate with ``spiking=False`` returns P(x) itself, which is differentiable everywhere
(useful for pre-training with a smooth activation).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def heaviside(x: Tensor) -> Tensor:
    """Heaviside step with Heaviside(0) = 1, in the input's dtype."""
    return (x >= 0).to(x.dtype)


class _SurrogateSpike(torch.autograd.Function):
    """Heaviside forward; backward multiplies by ``surrogate.derivative(x)``."""

    @staticmethod
    def forward(ctx, x: Tensor, surrogate: "SurrogateFunction") -> Tensor:
        if x.requires_grad:
            ctx.save_for_backward(x)
        ctx.surrogate = surrogate
        return heaviside(x)

    @staticmethod
    def backward(ctx, grad: Tensor):
        (x,) = ctx.saved_tensors
        return grad * ctx.surrogate.derivative(x), None


class SurrogateFunction(nn.Module):
    """Base class. Subclasses define ``primitive(x)`` and its closed-form ``derivative(x)``.

    Subclasses keep their hyper-parameters as plain attributes (or parameters) so that they
    pickle and so that fused kernels can read them (``hyperparameters()``).
    """

    def __init__(self, spiking: bool = True):
        super().__init__()
        self.spiking = bool(spiking)

    def primitive(self, x: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define primitive(x)")

    def derivative(self, x: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define derivative(x)")

    def hyperparameters(self) -> dict:
        """The shape parameters of this surrogate (e.g. ``{'alpha': 4.0}``)."""
        return {}

    def forward(self, x: Tensor) -> Tensor:
        if not self.spiking:
            return self.primitive(x)
        return _SurrogateSpike.apply(x, self)

    def extra_repr(self) -> str:
        params = ", ".join(f"{k}={v}" for k, v in self.hyperparameters().items())
        return params + ("" if self.spiking else ", spiking=False")


def check_positive(name: str, owner: str, value: float) -> float:
    """Validate a positive shape parameter and return it as float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{owner}: {name} must be a positive number, got {type(value).__name__} {value!r}")
    if not value > 0:
        raise ValueError(f"{owner}: {name} must be > 0, got {value!r}")
    return float(value)
