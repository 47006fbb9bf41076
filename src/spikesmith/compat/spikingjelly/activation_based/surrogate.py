"""SpikingJelly's ``activation_based.surrogate``: the classes by SpikingJelly's names and parameters, and
the function forms (``surrogate.sigmoid.apply(x, alpha)``).

Classes (SpikingJelly -> spikesmith): ``Sigmoid(alpha=4)``, ``ATan(alpha=2)``, ``PiecewiseQuadratic(alpha=1)``
are spikesmith's own; ``PiecewiseExp(alpha=1)`` is ``Exponential``; ``Rect(alpha=1)`` is
``Rectangle(width=1/alpha)``; ``SuperSpike(alpha=1)``, ``SoftSign(alpha=2)`` and ``Erf(alpha=2)`` are
written here on spikesmith's ``SurrogateFunction`` (exact Heaviside forward, closed-form derivative;
those three run on ``scan``). ``spiking=False`` gives the primitive, as in SpikingJelly.

``SurrogateFunctionBase`` is SpikingJelly's base for surrogates users write (static ``spiking_function``
and ``primitive_function``, parameters given as keywords).

Function forms: ``sigmoid``, ``atan``, ``piecewise_quadratic``, ``piecewise_exp``, ``rect``, ``super_spike``,
``soft_sign``, ``erf``: each has ``apply(x, alpha)`` (the spike with that surrogate gradient).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .... import surrogate as _sf
from ....surrogate import ATan, PiecewiseQuadratic, Sigmoid, SurrogateFunction, heaviside
from ....surrogate.base import check_positive
from .._missing import missing_name

class SurrogateFunctionBase(SurrogateFunction):
    """SpikingJelly's base for surrogates written by users: ``__init__(spiking=True, **params)`` keeps the
    shape parameters as attributes, and ``forward(x)`` is ``spiking_function(x, **params)`` (``spiking=True``)
    or ``primitive_function(x, **params)``, two static methods the subclass defines. Such a surrogate runs
    on ``scan`` (no fused kernel). (The classes above are spikesmith's own and do not derive from it.)"""

    def __init__(self, spiking: bool = True, **params):
        super().__init__(spiking)
        self._sg_param_names = tuple(params)
        for name, value in params.items():
            setattr(self, name, value)

    def hyperparameters(self) -> dict:
        return {name: getattr(self, name) for name in self._sg_param_names}

    def set_spiking_mode(self, spiking: bool) -> None:
        self.spiking = bool(spiking)

    @staticmethod
    def spiking_function(x: Tensor, **params) -> Tensor:
        raise NotImplementedError("a SurrogateFunctionBase subclass must define the static spiking_function(x, ...)")

    @staticmethod
    def primitive_function(x: Tensor, **params) -> Tensor:
        raise NotImplementedError("a SurrogateFunctionBase subclass must define the static primitive_function(x, ...) "
                                  "to run with spiking=False")

    def forward(self, x: Tensor) -> Tensor:
        params = self.hyperparameters()
        return self.spiking_function(x, **params) if self.spiking else self.primitive_function(x, **params)


class PiecewiseExp(_sf.Exponential):
    """SpikingJelly's ``PiecewiseExp``: g(x) = (alpha / 2) exp(-alpha |x|) (spikesmith's ``Exponential``)."""


class Rect(_sf.Rectangle):
    """SpikingJelly's ``Rect(alpha)``: g(x) = alpha for |x| < 1 / (2 alpha), else 0 (``Rectangle(width=1/alpha)``)."""

    def __init__(self, alpha: float = 1.0, spiking: bool = True):
        alpha = check_positive("alpha", "Rect", alpha)
        super().__init__(width=1.0 / alpha, spiking=spiking)
        self.alpha = alpha

    def hyperparameters(self) -> dict:
        return {"alpha": self.alpha}


class _AlphaSurrogate(SurrogateFunction):
    """A surrogate with one shape parameter ``alpha`` (runs on ``scan``: no kernel code)."""

    default_alpha = 1.0

    def __init__(self, alpha: float = None, spiking: bool = True):
        super().__init__(spiking)
        self.alpha = check_positive("alpha", type(self).__name__, self.default_alpha if alpha is None else alpha)

    def hyperparameters(self) -> dict:
        return {"alpha": self.alpha}


class SuperSpike(_AlphaSurrogate):
    """SpikingJelly's ``SuperSpike(alpha=1)``: g(x) = alpha / (|x| + 1)^2; it has no primitive
    (``spiking=False`` is an error, as in SpikingJelly)."""

    def primitive(self, x: Tensor) -> Tensor:
        raise ValueError("SuperSpike has no primitive function (as in SpikingJelly); use spiking=True, or Sigmoid "
                         "for a smooth activation")

    def derivative(self, x: Tensor) -> Tensor:
        return self.alpha / (x.abs() + 1.0) ** 2


class SoftSign(_AlphaSurrogate):
    """SpikingJelly's ``SoftSign(alpha=2)``: P(x) = (softsign(alpha x) + 1) / 2, g(x) = alpha / (2 (1 + |alpha x|)^2)."""

    default_alpha = 2.0

    def primitive(self, x: Tensor) -> Tensor:
        return (torch.nn.functional.softsign(x * self.alpha) + 1.0) / 2.0

    def derivative(self, x: Tensor) -> Tensor:
        return 1.0 / (2.0 * self.alpha * (1.0 / self.alpha + x.abs()) ** 2)


class Erf(_AlphaSurrogate):
    """SpikingJelly's ``Erf(alpha=2)``: P(x) = erfc(-alpha x) / 2, g(x) = alpha / sqrt(pi) exp(-(alpha x)^2)."""

    default_alpha = 2.0

    def primitive(self, x: Tensor) -> Tensor:
        return torch.erfc(-self.alpha * x) / 2.0

    def derivative(self, x: Tensor) -> Tensor:
        return torch.exp(-(x * self.alpha) ** 2) * (self.alpha / math.sqrt(math.pi))

    def scaled_gradient(self, grad: Tensor, x: Tensor) -> Tensor:
        # (grad * exp(...)) * constant, in SpikingJelly's order, so gradients round as there
        return grad * torch.exp(-(x * self.alpha) ** 2) * (self.alpha / math.sqrt(math.pi))


class _FunctionForm:
    """``name.apply(x, alpha)``: the spike of ``x`` with the surrogate gradient of ``cls(alpha)``."""

    def __init__(self, cls, default_alpha: float):
        self._cls = cls
        self._default = default_alpha
        self._made: dict = {}

    def apply(self, x: Tensor, alpha: float = None) -> Tensor:
        alpha = self._default if alpha is None else float(alpha)
        sg = self._made.get(alpha)
        if sg is None:
            sg = self._made[alpha] = self._cls(alpha=alpha)
        return sg(x)

    __call__ = apply

    def __repr__(self) -> str:
        return f"<SpikingJelly function form of {self._cls.__name__}>"


sigmoid = _FunctionForm(Sigmoid, 4.0)
atan = _FunctionForm(ATan, 2.0)
piecewise_quadratic = _FunctionForm(PiecewiseQuadratic, 1.0)
piecewise_exp = _FunctionForm(PiecewiseExp, 1.0)
rect = _FunctionForm(Rect, 1.0)
super_spike = _FunctionForm(SuperSpike, 1.0)
soft_sign = _FunctionForm(SoftSign, 2.0)
erf = _FunctionForm(Erf, 2.0)

_NEAREST = {
    "PiecewiseLeakyReLU": "spikesmith.surrogate.Triangle or Rectangle",
    "SquarewaveFourierSeries": "spikesmith.surrogate.Sigmoid",
    "S2NN": "spikesmith.surrogate.Sigmoid",
    "QPseudoSpike": "spikesmith.surrogate.FastSigmoid",
    "LeakyKReLU": "spikesmith.surrogate.Rectangle",
    "FakeNumericalGradient": "spikesmith.surrogate.Rectangle",
    "LogTailedReLU": "spikesmith.surrogate.Rectangle",
    "NonzeroSignLogAbs": "spikesmith.surrogate.ATan",
    "DeterministicPass": "spikesmith.surrogate.Rectangle",
    "PoissonPass": "spikesmith.surrogate.Rectangle",
}

__all__ = ["ATan", "Erf", "PiecewiseExp", "PiecewiseQuadratic", "Rect", "Sigmoid", "SoftSign", "SuperSpike",
           "SurrogateFunctionBase", "atan", "erf", "heaviside", "piecewise_exp", "piecewise_quadratic", "rect",
           "sigmoid", "soft_sign", "super_spike"]


def __getattr__(name: str):
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    raise missing_name(__name__, name, _NEAREST, __all__)
