"""Fixed-shape surrogate spike functions.

Each class documents its primitive P(x) and derivative g(x) = P'(x), where x = H - V_th.
Defaults follow SpikingJelly (Sigmoid alpha=4, ATan alpha=2) and snnTorch/Norse
(FastSigmoid slope=25, SuperSpike).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .base import KernelCode, SurrogateFunction, check_positive


class Sigmoid(SurrogateFunction):
    """P(x) = sigmoid(alpha x);   g(x) = alpha sigmoid(alpha x) (1 - sigmoid(alpha x))."""

    # p0 = alpha; alpha sg (1 - sg) = alpha e / (1 + e)^2 with e = exp(-alpha |z|) <= 1
    kernel_code = KernelCode(
        "sigmoid",
        cpp="float e = sf_exp(-(p0 * std::fabs(z))); float r = 1.0f / (1.0f + e); g = p0 * e * r * r;",
        triton="e = tl.exp(-(p0 * tl.abs(z)))\nr = 1.0 / (1.0 + e)\ng = p0 * e * r * r",
    )

    def __init__(self, alpha: float = 4.0, spiking: bool = True):
        super().__init__(spiking)
        self.alpha = check_positive("alpha", "Sigmoid", alpha)

    def hyperparameters(self) -> dict:
        return {"alpha": self.alpha}

    def kernel_params(self) -> tuple[float, ...]:
        return (self.alpha,)

    def primitive(self, x: Tensor) -> Tensor:
        return torch.sigmoid(self.alpha * x)

    def derivative(self, x: Tensor) -> Tensor:
        sg = torch.sigmoid(self.alpha * x)
        return self.alpha * sg * (1.0 - sg)


class ATan(SurrogateFunction):
    """P(x) = arctan(pi/2 alpha x) / pi + 1/2;   g(x) = (alpha/2) / (1 + (pi/2 alpha x)^2)."""

    # p0 = alpha / 2, p1 = pi / 2 alpha
    kernel_code = KernelCode("atan", cpp="float u = p1 * z; g = p0 / (1.0f + u * u);",
                             triton="u = p1 * z\ng = p0 / (1.0 + u * u)")

    def __init__(self, alpha: float = 2.0, spiking: bool = True):
        super().__init__(spiking)
        self.alpha = check_positive("alpha", "ATan", alpha)

    def hyperparameters(self) -> dict:
        return {"alpha": self.alpha}

    def kernel_params(self) -> tuple[float, ...]:
        return (self.alpha / 2, math.pi / 2 * self.alpha)

    def primitive(self, x: Tensor) -> Tensor:
        return torch.atan((math.pi / 2 * self.alpha) * x) / math.pi + 0.5

    def derivative(self, x: Tensor) -> Tensor:
        return (self.alpha / 2) / (1.0 + ((math.pi / 2 * self.alpha) * x) ** 2)


class Rectangle(SurrogateFunction):
    """Straight-through box of unit area.

    P(x) = clamp(x / width + 1/2, 0, 1);   g(x) = 1/width where |x| < width/2, else 0.
    """

    # p0 = width / 2, p1 = 1 / width
    kernel_code = KernelCode("rectangle", cpp="g = std::fabs(z) < p0 ? p1 : 0.0f;",
                             triton="g = tl.where(tl.abs(z) < p0, p1, 0.0)")

    def __init__(self, width: float = 1.0, spiking: bool = True):
        super().__init__(spiking)
        self.width = check_positive("width", "Rectangle", width)

    def hyperparameters(self) -> dict:
        return {"width": self.width}

    def kernel_params(self) -> tuple[float, ...]:
        return (self.width / 2, 1.0 / self.width)

    def primitive(self, x: Tensor) -> Tensor:
        return torch.clamp(x / self.width + 0.5, 0.0, 1.0)

    def derivative(self, x: Tensor) -> Tensor:
        return (x.abs() < self.width / 2).to(x.dtype) / self.width


class Triangle(SurrogateFunction):
    """Triangle of unit area and base ``width`` (piecewise linear derivative).

    With c = 2 / width (peak height) and |x| < width/2:
    g(x) = c - c^2 |x|;   P(x) = 1/2 + c x - c^2 x |x| / 2, clamped to 0 / 1 outside.
    """

    # p0 = c, p1 = c * c
    kernel_code = KernelCode("triangle", cpp="g = std::max(p0 - p1 * std::fabs(z), 0.0f);",
                             triton="g = tl.maximum(p0 - p1 * tl.abs(z), 0.0)")

    def __init__(self, width: float = 1.0, spiking: bool = True):
        super().__init__(spiking)
        self.width = check_positive("width", "Triangle", width)

    def hyperparameters(self) -> dict:
        return {"width": self.width}

    def kernel_params(self) -> tuple[float, ...]:
        c = self._peak()
        return (c, c * c)

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

    kernel_code = Triangle.kernel_code  # the same triangle, its peak c = alpha

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

    # p0 = alpha / 2, p1 = alpha
    kernel_code = KernelCode("exponential", cpp="g = p0 * sf_exp(-(p1 * std::fabs(z)));",
                             triton="g = p0 * tl.exp(-(p1 * tl.abs(z)))")

    def __init__(self, alpha: float = 1.0, spiking: bool = True):
        super().__init__(spiking)
        self.alpha = check_positive("alpha", "Exponential", alpha)

    def hyperparameters(self) -> dict:
        return {"alpha": self.alpha}

    def kernel_params(self) -> tuple[float, ...]:
        return (self.alpha / 2, self.alpha)

    def primitive(self, x: Tensor) -> Tensor:
        e = 0.5 * torch.exp(-self.alpha * x.abs())
        return torch.where(x < 0, e, 1.0 - e)

    def derivative(self, x: Tensor) -> Tensor:
        return (self.alpha / 2) * torch.exp(-self.alpha * x.abs())


class FastSigmoid(SurrogateFunction):
    """SuperSpike's fast sigmoid (Zenke & Ganguli 2018), as in snnTorch and Norse.

    P(x) = 1/2 + x / (1 + slope |x|);   g(x) = 1 / (1 + slope |x|)^2 (peak 1, as the peers).
    """

    # p0 = slope
    kernel_code = KernelCode("fastsigmoid", cpp="float u = 1.0f + p0 * std::fabs(z); g = 1.0f / (u * u);",
                             triton="u = 1.0 + p0 * tl.abs(z)\ng = 1.0 / (u * u)")

    def __init__(self, slope: float = 25.0, spiking: bool = True):
        super().__init__(spiking)
        self.slope = check_positive("slope", "FastSigmoid", slope)

    def hyperparameters(self) -> dict:
        return {"slope": self.slope}

    def kernel_params(self) -> tuple[float, ...]:
        return (self.slope,)

    def primitive(self, x: Tensor) -> Tensor:
        return 0.5 + x / (1.0 + self.slope * x.abs())

    def derivative(self, x: Tensor) -> Tensor:
        return 1.0 / (1.0 + self.slope * x.abs()) ** 2
