"""SPAN (Mohemmed et al. 2012): Widrow–Hoff on spike trains turned analog by an alpha kernel.

Every train is convolved with ``alpha(t) = (t / tau) exp(1 - t / tau)`` for t >= 0 (peak 1 at t = tau),
and the delta rule runs on the analog signals:

    dw_i = lr * dt * sum_k  x~_i[k] (y~_d[k] - y~_o[k])

(x~: afferent i's convolved input, y~_d and y~_o: the convolved desired and actual outputs). For one
input spike at 0 and one desired spike at d (no output) the change is about
``lr * e^2 exp(-d / tau) (tau + d) / 4``, the integral of alpha(t) alpha(t - d).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from .timing_neuron import TimingLIF, check_inputs
from .traces import check_positive, decay_factor

def alpha_convolve(trains: Tensor, tau: float, dt: float) -> Tensor:
    """``trains`` (``T x ...``) convolved causally with the alpha kernel sampled at ``k dt``, exactly.

    With ``d = exp(-dt / tau)``, ``alpha[k] = (e dt / tau) k d^k``, so two recursions over T give it:
    ``y[k] = d y[k-1] + s[k]`` and ``z[k] = d (z[k-1] + y[k-1])`` (``z[k] = sum_j j d^j s[k-j]``).
    """
    d = decay_factor(tau, dt)
    y = torch.zeros_like(trains[0])
    z = torch.zeros_like(trains[0])
    out = torch.empty_like(trains)
    for k, s in enumerate(trains.unbind(0)):
        z = d * (z + y)
        y = d * y + s
        out[k] = z
    return out * (math.e * dt / tau)


def span_update(smooth_inputs: Tensor, actual: Tensor, desired: Tensor, tau: float, dt: float, lr: float) -> Tensor:
    """``dw [n_in]`` from the convolved inputs ``T x n_in`` and the binned ``[T]`` trains."""
    error = alpha_convolve((desired - actual).to(smooth_inputs.dtype), tau, dt)
    return lr * dt * (error @ smooth_inputs)


@dataclass(frozen=True)
class SPAN:
    """SPAN with the alpha kernel's time constant ``tau`` (ms)."""

    lr: float = 0.01
    tau: float = 5.0

    def __post_init__(self):
        check_positive(self.lr, "SPAN", "lr")
        check_positive(self.tau, "SPAN", "tau")

    def features(self, inputs: Tensor, neuron: TimingLIF) -> Tensor:
        """The afferents' convolved trains ``x~_i[k]`` (``T x n_in``)."""
        return alpha_convolve(check_inputs(inputs, "SPAN.features"), self.tau, neuron.dt)

    def update(self, features: Tensor, actual: Tensor, desired: Tensor, neuron: TimingLIF) -> Tensor:
        return span_update(features, actual, desired, self.tau, neuron.dt, self.lr)
