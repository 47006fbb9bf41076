"""snnTorch's surrogate spike functions (``snntorch.surrogate``), by snnTorch's names and defaults.

Every one fires on a strict ``>``:  S = 1 where x > 0, with x = U - threshold (spikesmith's own
surrogates fire on x >= 0). The backward multiplies the incoming gradient by each function's
derivative; where the derivative is one of spikesmith's (atan, fast_sigmoid, sigmoid) that one is used.

>>> spike = atan(alpha=2.0)               # a picklable module, called like snnTorch's closure
>>> spike(torch.tensor([-0.5, 0.0, 0.5]))  # tensor([0., 0., 1.])

Spikes keep the input's dtype (snnTorch returns float32 whatever the input); the values are the same.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn

from ... import surrogate as sf_surrogate


def strict_heaviside(x: Tensor) -> Tensor:
    """1 where x > 0, else 0 (Heaviside(0) = 0), in the input's dtype."""
    return (x > 0).to(x.dtype)


class _StrictSpike(torch.autograd.Function):
    """Strict Heaviside forward; backward is ``spike_fn.gradient(x, spikes, grad)``."""

    @staticmethod
    def forward(ctx, x: Tensor, spike_fn: "StrictSurrogate") -> Tensor:
        out = strict_heaviside(x)
        ctx.save_for_backward(x, out)
        ctx.spike_fn = spike_fn
        return out

    @staticmethod
    def backward(ctx, grad: Tensor):
        x, out = ctx.saved_tensors
        return ctx.spike_fn.gradient(x, out, grad), None


class StrictSurrogate(nn.Module):
    """A spike function with a strict ``>`` forward. Subclasses define ``gradient(x, spikes, grad)``."""

    def gradient(self, x: Tensor, spikes: Tensor, grad: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define gradient(x, spikes, grad)")

    def forward(self, x: Tensor) -> Tensor:
        return _StrictSpike.apply(x, self)


class _Smooth(StrictSurrogate):
    """The derivative of one of spikesmith's surrogates (same formula as snnTorch's)."""

    def __init__(self, smooth: sf_surrogate.SurrogateFunction):
        super().__init__()
        self.smooth = smooth

    def gradient(self, x, spikes, grad):
        return self.smooth.derivative(x) * grad

    def extra_repr(self) -> str:
        return f"{type(self.smooth).__name__}({self.smooth.extra_repr()})"


class NoGradient(nn.Module):
    """``surrogate_disable=True``: the strict Heaviside with no gradient at all."""

    def forward(self, x: Tensor) -> Tensor:
        return strict_heaviside(x)


class StraightThroughEstimator(StrictSurrogate):
    """dS/dx := 1."""

    def gradient(self, x, spikes, grad):
        return grad.clone()


class Heaviside(StrictSurrogate):
    """dS/dx := S (the gradient passes where the neuron spiked)."""

    def gradient(self, x, spikes, grad):
        return grad * spikes


class Triangular(StrictSurrogate):
    """snnTorch's ``triangular``: dS/dx := threshold for x < 0 and -threshold for x >= 0."""

    def __init__(self, threshold: float = 1.0):
        super().__init__()
        self.threshold = threshold

    def gradient(self, x, spikes, grad):
        scaled = grad * self.threshold
        return torch.where(x >= 0, -scaled, scaled)


class SpikeRateEscape(StrictSurrogate):
    """dS/dx := slope exp(-beta |x - 1|)."""

    def __init__(self, beta: float = 1.0, slope: float = 25.0):
        super().__init__()
        self.beta, self.slope = beta, slope

    def gradient(self, x, spikes, grad):
        return grad * self.slope * torch.exp(-self.beta * torch.abs(x - 1))


class SparseFastSigmoid(StrictSurrogate):
    """dS/dx := 1 / (slope |x| + 1)^2 where x > B, else 0."""

    def __init__(self, slope: float = 25.0, B: float = 1.0):
        super().__init__()
        self.slope, self.B = slope, B

    def gradient(self, x, spikes, grad):
        return grad / (self.slope * torch.abs(x) + 1.0) ** 2 * (x > self.B).to(x.dtype)


class StochasticSpikeOperator(StrictSurrogate):
    """dS/dx := 1 where S = 1, else (u - 0.5 + mean) variance with u ~ U(0, 1) drawn per element."""

    def __init__(self, mean: float = 0.0, variance: float = 0.2):
        super().__init__()
        self.mean, self.variance = mean, variance

    def gradient(self, x, spikes, grad):
        silent = (~spikes.bool()).to(grad.dtype)
        return grad * spikes + grad * silent * ((torch.rand_like(x) - 0.5 + self.mean) * self.variance)


class LeakySpikeOperator(StrictSurrogate):
    """dS/dx := 1 where S = 1, else ``slope`` (snnTorch 1.0's ``LSO()`` fails when called; this is
    the operator its documentation describes)."""

    def __init__(self, slope: float = 0.1):
        super().__init__()
        self.slope = slope

    def gradient(self, x, spikes, grad):
        return grad * spikes + (~spikes.bool()).to(grad.dtype) * self.slope * grad


class CustomSurrogate(StrictSurrogate):
    """dS/dx from the user's ``fn(x, grad, spikes)`` (snnTorch's ``custom_surrogate``)."""

    def __init__(self, fn: Callable[[Tensor, Tensor, Tensor], Tensor]):
        super().__init__()
        if not callable(fn):
            raise TypeError(f"custom_surrogate needs a function (input_, grad_input, spikes) -> grad, "
                            f"got {type(fn).__name__}")
        self.fn = fn

    def gradient(self, x, spikes, grad):
        return self.fn(x, grad.clone(), spikes)


def atan(alpha: float = 2.0) -> StrictSurrogate:
    """dS/dx := (alpha/2) / (1 + (pi/2 alpha x)^2); snnTorch's default spike_grad."""
    return _Smooth(sf_surrogate.ATan(alpha=alpha))


def fast_sigmoid(slope: float = 25.0) -> StrictSurrogate:
    """dS/dx := 1 / (slope |x| + 1)^2."""
    return _Smooth(sf_surrogate.FastSigmoid(slope=slope))


def sigmoid(slope: float = 25.0) -> StrictSurrogate:
    """dS/dx := slope sigmoid(slope x) (1 - sigmoid(slope x))."""
    return _Smooth(sf_surrogate.Sigmoid(alpha=slope))


def triangular(threshold: float = 1.0) -> StrictSurrogate:
    return Triangular(threshold)


def straight_through_estimator() -> StrictSurrogate:
    return StraightThroughEstimator()


def heaviside() -> StrictSurrogate:
    return Heaviside()


def spike_rate_escape(beta: float = 1.0, slope: float = 25.0) -> StrictSurrogate:
    return SpikeRateEscape(beta, slope)


def SSO(mean: float = 0.0, variance: float = 0.2) -> StrictSurrogate:  # noqa: N802 - snnTorch's name
    return StochasticSpikeOperator(mean, variance)


def LSO(slope: float = 0.1) -> StrictSurrogate:  # noqa: N802 - snnTorch's name
    return LeakySpikeOperator(slope)


def SFS(slope: float = 25.0, B: float = 1.0) -> StrictSurrogate:  # noqa: N802 - snnTorch's name
    return SparseFastSigmoid(slope, B)


def custom_surrogate(custom_surrogate_function: Callable) -> StrictSurrogate:
    return CustomSurrogate(custom_surrogate_function)


#: snnTorch's factory name -> ours (``from_snntorch`` maps a snnTorch spike_grad through this table).
FACTORIES: dict[str, Callable[..., StrictSurrogate]] = {
    "atan": atan, "fast_sigmoid": fast_sigmoid, "sigmoid": sigmoid, "triangular": triangular,
    "straight_through_estimator": straight_through_estimator, "heaviside": heaviside,
    "spike_rate_escape": spike_rate_escape, "SSO": SSO, "LSO": LSO, "SFS": SFS, "custom_surrogate": custom_surrogate,
}

__all__ = ["FACTORIES", "NoGradient", "StrictSurrogate", "strict_heaviside", *FACTORIES]
