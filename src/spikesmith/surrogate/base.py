"""The surrogate spike function: exact Heaviside forward, smooth derivative backward.

Every surrogate acts on x = H - V_th, with its step at 0:

    forward:   S = Heaviside(x)   (1 where x >= 0)
    backward:  dS/dx := g(x) = P'(x), the derivative of a smooth primitive P

A surrogate with ``spiking=False`` returns P(x) itself, which is differentiable everywhere
(useful for pre-training with a smooth activation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Optional

import torch
from torch import Tensor, nn


@dataclass(frozen=True)
class KernelCode:
    """A surrogate's derivative g(z) as the fused kernels compute it, once per language.

    Each field is statements on one float ``z`` (= H - V_th) and the hyper-parameters ``p0``,
    ``p1``, ``p2`` (``SurrogateFunction.kernel_params``) that set ``g``; ``sf_exp`` is the
    kernels' float exp in C++. They must equal ``derivative(z)`` within float32 rounding.
    """

    name: str
    cpp: str
    triton: str


@dataclass(frozen=True)
class KernelForm:
    """What a fused kernel needs of one surrogate instance: its code and its hyper-parameters."""

    code: KernelCode
    params: tuple[float, float, float]


def heaviside(x: Tensor) -> Tensor:
    """Heaviside step with Heaviside(0) = 1, in the input's dtype."""
    return (x >= 0).to(x.dtype)


class _SurrogateSpike(torch.autograd.Function):
    """Heaviside forward; backward is ``surrogate.scaled_gradient(grad, x)`` (grad times the derivative)."""

    @staticmethod
    def forward(ctx, x: Tensor, surrogate: "SurrogateFunction") -> Tensor:
        if x.requires_grad:
            ctx.save_for_backward(x)
        ctx.surrogate = surrogate
        return heaviside(x)

    @staticmethod
    def backward(ctx, grad: Tensor):
        (x,) = ctx.saved_tensors
        return ctx.surrogate.scaled_gradient(grad, x), None


class SurrogateFunction(nn.Module):
    """Base class. Subclasses define ``primitive(x)`` and its closed-form ``derivative(x)``.

    Subclasses keep their hyper-parameters as plain attributes (or parameters) so that they
    pickle and so that fused kernels can read them (``hyperparameters()``).

    A surrogate the fused kernels can run declares ``kernel_code`` (its derivative in C++ and
    Triton) on its own class and ``kernel_params()`` (the up to three numbers that code reads); a
    subclass that does not declare its own code runs on ``scan``, as do ``spiking=False``
    surrogates.
    """

    #: The derivative's code for the fused kernels (None: this class has none).
    kernel_code: ClassVar[Optional[KernelCode]] = None

    def __init__(self, spiking: bool = True):
        super().__init__()
        self.spiking = bool(spiking)

    def primitive(self, x: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define primitive(x)")

    def derivative(self, x: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define derivative(x)")

    def scaled_gradient(self, grad: Tensor, x: Tensor) -> Tensor:
        """The gradient passed back through the spike: ``grad * derivative(x)``. A subclass may order the
        products differently (to round as a peer framework does); the value is the same."""
        return grad * self.derivative(x)

    def hyperparameters(self) -> dict:
        """The shape parameters of this surrogate (e.g. ``{'alpha': 4.0}``)."""
        return {}

    def kernel_params(self) -> tuple[float, ...]:
        """The numbers ``kernel_code`` reads as p0, p1, p2 (at most three)."""
        return ()

    def kernel_form(self) -> Optional[KernelForm]:
        """This surrogate for the fused kernels, or None where they cannot run it."""
        code = type(self).__dict__.get("kernel_code")
        if code is None or not self.spiking:
            return None
        params = tuple(float(p) for p in self.kernel_params())
        if len(params) > 3:
            raise ValueError(f"{type(self).__name__}.kernel_params() gives {len(params)} numbers; the kernels "
                             f"take at most 3 (p0, p1, p2)")
        return KernelForm(code, params + (0.0,) * (3 - len(params)))

    def forward(self, x: Tensor) -> Tensor:
        if not self.spiking:
            return self.primitive(x)
        return _SurrogateSpike.apply(x, self)

    def extra_repr(self) -> str:
        params = ", ".join(f"{k}={v}" for k, v in self.hyperparameters().items())
        return params + ("" if self.spiking else ", spiking=False")


def kernel_codes() -> tuple[KernelCode, ...]:
    """Every ``kernel_code`` declared by a ``SurrogateFunction`` class defined so far, by name.

    The fused kernels compile these (a class defined later is added by a rebuild on first use).
    """
    codes: dict[str, KernelCode] = {}
    pending = [SurrogateFunction]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        code = cls.__dict__.get("kernel_code")
        if code is None:
            continue
        if codes.setdefault(code.name, code) != code:
            raise ValueError(f"two surrogates declare different kernel code named {code.name!r} "
                             f"(one of them {cls.__name__}); give each code its own name")
    return tuple(codes[name] for name in sorted(codes))


def check_positive(name: str, owner: str, value: float) -> float:
    """Validate a positive shape parameter and return it as float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{owner}: {name} must be a positive number, got {type(value).__name__} {value!r}")
    if not value > 0:
        raise ValueError(f"{owner}: {name} must be > 0, got {value!r}")
    return float(value)
