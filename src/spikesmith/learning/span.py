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

SPARSE_SPIKES = 64                   # up to this many spikes the error's kernel is built directly


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
    error = _alpha_of_sparse((desired - actual).to(smooth_inputs.dtype), tau, dt)
    return lr * dt * (error @ smooth_inputs)


def _alpha_of_sparse(train: Tensor, tau: float, dt: float) -> Tensor:
    """``alpha_convolve`` of one ``[T]`` train: one shifted kernel per spike, all at once, while there are
    few spikes (memory ``T x spikes``); the recursion otherwise."""
    steps = train.nonzero()[:, 0]
    if steps.numel() > SPARSE_SPIKES:
        return alpha_convolve(train[:, None], tau, dt)[:, 0]
    lag = (torch.arange(train.shape[0], dtype=train.dtype)[:, None] - steps[None, :].to(train.dtype)) * dt
    kernel = torch.where(lag >= 0, lag / tau * torch.exp(1 - lag / tau), torch.zeros((), dtype=train.dtype))
    return kernel @ train[steps]


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
