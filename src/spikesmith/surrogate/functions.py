"""Fixed-shape surrogate spike functions.

Each class documents its primitive P(x) and derivative g(x) = P'(x), where x = H - V_th.
Defaults follow SpikingJelly (Sigmoid alpha=4, ATan alpha=2) and snnTorch/Norse
(FastSigmoid slope=25, SuperSpike).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .base import SurrogateFunction, check_positive


class Sigmoid(SurrogateFunction):
    """P(x) = sigmoid(alpha x);   g(x) = alpha sigmoid(alpha x) (1 - sigmoid(alpha x))."""

    def __init__(self, alpha: float = 4.0, spiking: bool = True):
        super().__init__(spiking)
        self.alpha = check_positive("alpha", "Sigmoid", alpha)

    def hyperparameters(self) -> dict:
        return {"alpha": self.alpha}

    def primitive(self, x: Tensor) -> Tensor:
        return torch.sigmoid(self.alpha * x)

    def derivative(self, x: Tensor) -> Tensor:
        sg = torch.sigmoid(self.alpha * x)
        return self.alpha * sg * (1.0 - sg)


class ATan(SurrogateFunction):
    """P(x) = arctan(pi/2 alpha x) / pi + 1/2;   g(x) = (alpha/2) / (1 + (pi/2 alpha x)^2)."""

    def __init__(self, alpha: float = 2.0, spiking: bool = True):
        super().__init__(spiking)
        self.alpha = check_positive("alpha", "ATan", alpha)

    def hyperparameters(self) -> dict:
        return {"alpha": self.alpha}

    def primitive(self, x: Tensor) -> Tensor:
        return torch.atan((math.pi / 2 * self.alpha) * x) / math.pi + 0.5

    def derivative(self, x: Tensor) -> Tensor:
        return (self.alpha / 2) / (1.0 + ((math.pi / 2 * self.alpha) * x) ** 2)


class Rectangle(SurrogateFunction):
    """Straight-through box of unit area.

    P(x) = clamp(x / width + 1/2, 0, 1);   g(x) = 1/width where |x| < width/2, else 0.
    """

    def __init__(self, width: float = 1.0, spiking: bool = True):
        super().__init__(spiking)
        self.width = check_positive("width", "Rectangle", width)

    def hyperparameters(self) -> dict:
        return {"width": self.width}

    def primitive(self, x: Tensor) -> Tensor:
        return torch.clamp(x / self.width + 0.5, 0.0, 1.0)

    def derivative(self, x: Tensor) -> Tensor:
        return (x.abs() < self.width / 2).to(x.dtype) / self.width


class Triangle(SurrogateFunction):
    """Triangle of unit area and base ``width`` (piecewise linear derivative).

    With c = 2 / width (peak height) and |x| < width/2:
    g(x) = c - c^2 |x|;   P(x) = 1/2 + c x - c^2 x |x| / 2, clamped to 0 / 1 outside.
    """

    def __init__(self, width: float = 1.0, spiking: bool = True):
        super().__init__(spiking)
        self.width = check_positive("width", "Triangle", width)

    def hyperparameters(self) -> dict:
        return {"width": self.width}

    def _peak(self) -> float:
        return 2.0 / self.width

    def primitive(self, x: Tensor) -> Tensor:
        c = self._peak()
        inner = 0.5 + c * x - 0.5 * c * c * x * x.abs()
        half = 1.0 / c
        return torch.where(x >= half, torch.ones_like(x), torch.where(x <= -half, torch.zeros_like(x), inner))

    def derivative(self, x: Tensor) -> Tensor:
        c = self._peak()
        return torch.clamp(c - c * c * x.abs(), min=0.0)


class PiecewiseQuadratic(Triangle):
    """SpikingJelly's piecewise quadratic primitive: a triangle derivative of peak ``alpha``.

    For |x| <= 1/alpha:  g(x) = alpha - alpha^2 |x|,  P(x) = 1/2 + alpha x - alpha^2 x |x| / 2;
    P = 0 below and 1 above.  Equal to ``Triangle(width=2/alpha)``.
    """

    def __init__(self, alpha: float = 1.0, spiking: bool = True):
        alpha = check_positive("alpha", "PiecewiseQuadratic", alpha)
        super().__init__(width=2.0 / alpha, spiking=spiking)
        self.alpha = alpha

    def hyperparameters(self) -> dict:
        return {"alpha": self.alpha}


class Exponential(SurrogateFunction):
    """Two-sided exponential (SpikingJelly's PiecewiseExp).

    P(x) = exp(alpha x) / 2 for x < 0, 1 - exp(-alpha x) / 2 for x >= 0;
    g(x) = (alpha / 2) exp(-alpha |x|).
    """

    def __init__(self, alpha: float = 1.0, spiking: bool = True):
        super().__init__(spiking)
        self.alpha = check_positive("alpha", "Exponential", alpha)

    def hyperparameters(self) -> dict:
        return {"alpha": self.alpha}

    def primitive(self, x: Tensor) -> Tensor:
        e = 0.5 * torch.exp(-self.alpha * x.abs())
        return torch.where(x < 0, e, 1.0 - e)

    def derivative(self, x: Tensor) -> Tensor:
        return (self.alpha / 2) * torch.exp(-self.alpha * x.abs())


class FastSigmoid(SurrogateFunction):
    """SuperSpike's fast sigmoid (Zenke & Ganguli 2018), as in snnTorch and Norse.

    P(x) = 1/2 + x / (1 + slope |x|);   g(x) = 1 / (1 + slope |x|)^2 (peak 1, as the peers).
    """

    def __init__(self, slope: float = 25.0, spiking: bool = True):
        super().__init__(spiking)
        self.slope = check_positive("slope", "FastSigmoid", slope)

    def hyperparameters(self) -> dict:
        return {"slope": self.slope}

    def primitive(self, x: Tensor) -> Tensor:
        return 0.5 + x / (1.0 + self.slope * x.abs())

    def derivative(self, x: Tensor) -> Tensor:
        return 1.0 / (1.0 + self.slope * x.abs()) ** 2
