"""SpikingJelly's online-learning layers (OTTT, "online training through time") and weight standardisation,
which its zoo's ``spiking_vggws_ottt`` builds on.

In training an ``neuron.OTTTLIFNode`` emits ``[spike, trace]``: the spikes and their presynaptic trace
(decayed by ``1 - 1/tau`` each step, no gradient). ``OTTTSequential`` carries that pair through the layers
after it: a layer without parameters (pooling, flatten, ``Scale``) maps both; a layer with weights computes
its output from the spikes while its gradient is taken as if its input were the trace
(``GradwithTrace``: forward ``f(spike)``, backward through ``f(trace)``); the next OTTT neuron reads the
output again. Outside training the neurons emit spikes only and the container is a plain ``Sequential``.

``WSConv2d`` / ``WSLinear`` are ``Conv2d`` / ``Linear`` whose weight is standardised per output before use:
``W' = gain * (W - mean) / sqrt(var * fan_in + eps)`` (``var`` unbiased), with a learned ``gain``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .. import neuron
from . import Conv2d, Linear


class ReplaceforGrad(torch.autograd.Function):
    """``ReplaceforGrad.apply(x, x_r)`` returns the value of ``x_r``; the gradient goes to both."""

    @staticmethod
    def forward(ctx, x: Tensor, x_r: Tensor) -> Tensor:
        return x_r

    @staticmethod
    def backward(ctx, grad: Tensor):
        return grad, grad


def _grad_with_trace(module: nn.Module, pair) -> Tensor:
    spike, trace = pair
    with torch.no_grad():
        value = module(spike)
    through_trace = module(ReplaceforGrad.apply(spike, trace))
    return ReplaceforGrad.apply(through_trace, value)


def _spike_and_trace(module: nn.Module, pair) -> list:
    spike, trace = pair
    with torch.no_grad():
        trace = module(trace)
    return [module(spike), trace]


class GradwithTrace(nn.Module):
    """``module`` on a ``[spike, trace]`` pair: the value from the spikes, the gradient through the trace."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module

    def forward(self, pair) -> Tensor:
        return _grad_with_trace(self.module, pair)


class SpikeTraceOp(nn.Module):
    """``module`` applied to both the spikes and (without gradient) the trace of a pair."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module

    def forward(self, pair) -> list:
        return _spike_and_trace(self.module, pair)


class OTTTSequential(nn.Sequential):
    """A ``Sequential`` that carries OTTT neurons' ``[spike, trace]`` pairs (see the module docstring)."""

    def forward(self, x):
        for module in self:
            if not isinstance(x, list):
                x = module(x)
            elif isinstance(module, neuron.OTTTLIFNode):
                x = module(x[0])
            elif next(module.parameters(), None) is None:
                x = _spike_and_trace(module, x)
            else:
                x = _grad_with_trace(module, x)
        return x


def _standardised(w: Tensor, gain, eps: float) -> Tensor:
    """``gain * (w - mean) / sqrt(var * fan_in + eps)`` over all dims but the first (one output each)."""
    dims = tuple(range(1, w.dim()))
    centred = w - w.mean(dim=dims, keepdim=True)
    scaled = centred / ((w.var(dim=dims, keepdim=True) * math.prod(w.shape[1:]) + eps) ** 0.5)
    return scaled if gain is None else scaled * gain


class WSConv2d(Conv2d):
    """SpikingJelly's ``WSConv2d``: ``Conv2d`` with a standardised weight (see the module docstring)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", step_mode: str = "s",
                 gain: bool = True, eps: float = 1e-4) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                         step_mode=step_mode)
        self.gain = nn.Parameter(torch.ones(self.out_channels, 1, 1, 1)) if gain else None
        self.eps = eps

    def get_weight(self) -> Tensor:
        return _standardised(self.weight, self.gain, self.eps)

    def _conv_forward(self, x: Tensor, weight: Tensor, bias):
        return super()._conv_forward(x, self.get_weight(), bias)


class WSLinear(Linear):
    """SpikingJelly's ``WSLinear``: ``Linear`` with a standardised weight and a learned ``gain`` per output."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, step_mode: str = "s",
                 gain: bool = True, eps: float = 1e-4) -> None:
        super().__init__(in_features, out_features, bias, step_mode=step_mode)
        self.gain = nn.Parameter(torch.ones(self.out_features, 1)) if gain else None
        self.eps = eps

    def get_weight(self) -> Tensor:
        return _standardised(self.weight, self.gain, self.eps)

    def forward(self, x: Tensor) -> Tensor:       # any leading dims, in either step mode
        return F.linear(x, self.get_weight(), self.bias)


__all__ = ["GradwithTrace", "OTTTSequential", "ReplaceforGrad", "SpikeTraceOp", "WSConv2d", "WSLinear"]
