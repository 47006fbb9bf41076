"""Surrogate spike functions: exact Heaviside forward, smooth derivative backward.

>>> from spikesmith import surrogate
>>> sg = surrogate.get("atan:alpha=2")
>>> s = sg(torch.tensor([-0.5, 0.0, 0.5], requires_grad=True))   # tensor([0., 1., 1.])
"""

from .base import KernelCode, KernelForm, SurrogateFunction, heaviside, kernel_codes
from .dspike import Dspike
from .functions import ATan, Exponential, FastSigmoid, PiecewiseQuadratic, Rectangle, Sigmoid, Triangle
from .registry import REGISTRY, get, names

__all__ = [
    "ATan", "Dspike", "Exponential", "FastSigmoid", "KernelCode", "KernelForm", "PiecewiseQuadratic", "REGISTRY",
    "Rectangle", "Sigmoid", "SurrogateFunction", "Triangle", "get", "heaviside", "kernel_codes", "names",
]
