"""Dspike (Li et al., NeurIPS 2021): a tanh-shaped primitive with a temperature b.

The paper's Dspike on [0, 1] is shifted to step at 0, so it acts on x in [-1/2, 1/2]:

    P(x) = (tanh(b x) + tanh(b/2)) / (2 tanh(b/2))   for |x| <= 1/2,  0 below,  1 above
    g(x) = b (1 - tanh(b x)^2) / (2 tanh(b/2))       for |x| <= 1/2,  0 outside

Large b approaches the Heaviside step; small b approaches a straight-through box.
With ``learnable=True`` the temperature is an ``nn.Parameter`` and receives a gradient
(the forward is still the exact step; the backward is the straight-through derivative of
P with respect to x and to b). It can also be scheduled by assigning ``module.b``.
A learnable Dspike always runs on the ``scan`` path (fused kernels take fixed shapes only).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .base import KernelCode, SurrogateFunction, check_positive, heaviside


def _dspike_primitive(x: Tensor, b: Tensor | float) -> Tensor:
    b = torch.as_tensor(b, dtype=x.dtype, device=x.device)
    half = torch.tanh(b / 2)
    inner = (torch.tanh(b * x) + half) / (2 * half)
    return torch.where(x > 0.5, torch.ones_like(x), torch.where(x < -0.5, torch.zeros_like(x), inner))


class Dspike(SurrogateFunction):
    """Dspike surrogate with temperature ``b`` (default 3), optionally learnable."""

    # p0 = b, p1 = b / (2 tanh(b / 2)); tanh(b z) = (1 - e) / (1 + e) with e = exp(-2 |b z|) (g is even)
    kernel_code = KernelCode(
        "dspike",
        cpp=("float e = sf_exp(-2.0f * std::fabs(p0 * z)); float t = (1.0f - e) / (1.0f + e); "
             "float v = p1 * (1.0f - t * t); g = std::fabs(z) <= 0.5f ? v : 0.0f;"),
        triton=("e = tl.exp(-2.0 * tl.abs(p0 * z))\ntt = (1.0 - e) / (1.0 + e)\n"
                "g = tl.where(tl.abs(z) <= 0.5, p1 * (1.0 - tt * tt), 0.0)"),
    )

    def __init__(self, b: float = 3.0, learnable: bool = False, spiking: bool = True):
        super().__init__(spiking)
        b = check_positive("b", "Dspike", b)
        self.learnable = bool(learnable)
        if self.learnable:
            self.b = nn.Parameter(torch.tensor(b))
        else:
            self.b = b

    def hyperparameters(self) -> dict:
        b = float(self.b.detach()) if isinstance(self.b, Tensor) else self.b
        return {"b": b} if not self.learnable else {"b": b, "learnable": True}

    def kernel_params(self) -> tuple[float, ...]:
        b = float(self.b)
        return (b, b / (2 * math.tanh(b / 2)))

    def kernel_form(self):
        return None if self.learnable else super().kernel_form()  # the kernels take fixed shapes only

    def primitive(self, x: Tensor) -> Tensor:
        return _dspike_primitive(x, self.b)

    def derivative(self, x: Tensor) -> Tensor:
        b = torch.as_tensor(self.b, dtype=x.dtype, device=x.device).detach()
        t = torch.tanh(b * x)
        g = b * (1 - t * t) / (2 * torch.tanh(b / 2))
        return torch.where(x.abs() <= 0.5, g, torch.zeros_like(g))

    def forward(self, x: Tensor) -> Tensor:
        if not self.spiking:
            return self.primitive(x)
        if self.learnable:
            p = self.primitive(x)
            return p + (heaviside(x) - p).detach()
        return super().forward(x)
