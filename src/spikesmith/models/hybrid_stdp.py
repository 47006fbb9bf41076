"""The hybrid network of ``spikesmith stdp --model hybrid``: a convolution that learns by STDP
(winner-take-all across channels at each position) under a linear readout trained by gradient
descent.

    Poisson spikes [T, N, C, H, W] -> Conv2d (STDP) -> LIF + k-WTA over channels -> MaxPool2d(2)
    -> Flatten -> Linear (GD) -> mean over time = logits        (cross-entropy)

The loop that trains it (STDP and gradient descent in one pass) is ``spikesmith.run.hybrid``.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from .. import layer
from ..learning import AdaptiveThreshold, LateralInhibition, STDPLearner
from ..neuron import LIFNode


class HybridSTDPNet(nn.Module):
    """A convolution learning by STDP under a readout learning by gradient descent (see the module docstring)."""

    def __init__(self, in_channels: int = 1, image_size: tuple = (28, 28), num_classes: int = 10, channels: int = 16,
                 kernel: int = 5, time: float = 16.0, dt: float = 1.0, max_rate: float = 500.0, tau: float = 20.0,
                 v_threshold: float = 1.0, theta_plus: float = 0.0, tau_theta: float = 1e7, inhibition: float = 0.0,
                 k: Optional[int] = 1, a_plus: float = 1e-4, a_minus: float = 5e-5, tau_plus: float = 20.0,
                 tau_minus: float = 20.0, trace: str = "all_to_all", weight_dependence: str = "additive",
                 w_max: float = 1.0, norm: Optional[float] = None, w_init: float = 0.3, reduction: str = "mean"):
        super().__init__()
        if not 0 < max_rate * dt / 1000.0 <= 1:
            raise ValueError(f"HybridSTDPNet: max_rate * dt / 1000 must lie in (0, 1], got max_rate={max_rate}, dt={dt}")
        self.time, self.dt, self.max_rate = float(time), float(dt), float(max_rate)
        self.conv = layer.Conv2d(in_channels, channels, kernel, padding=kernel // 2, bias=False, step_mode="m")
        with torch.no_grad():
            self.conv.weight.uniform_(0.0, w_init)
        self.sn = LIFNode(tau=tau / dt, decay_input=False, v_threshold=v_threshold, v_reset=0.0, step_mode="m",
                          backend="torch")
        h, w = image_size
        if theta_plus > 0:
            AdaptiveThreshold((channels, h, w), theta_plus=theta_plus, tau_theta=tau_theta, dt=dt).attach(self.sn)
        if inhibition > 0 or k is not None:
            LateralInhibition(strength=inhibition, k=k, group="channel").attach(self.sn)
        self.pool = layer.MaxPool2d(2, step_mode="m")
        self.flat = layer.Flatten(step_mode="m")
        self.fc = layer.Linear(channels * (h // 2) * (w // 2), num_classes, step_mode="m")
        fan = self.conv.weight[0].numel()
        norm = 0.1 * fan if norm is None else (None if norm == 0 else float(norm))
        self.learner = STDPLearner(self.conv, self.sn, a_plus=a_plus, a_minus=a_minus, tau_plus=tau_plus,
                                   tau_minus=tau_minus, dt=dt, trace=trace, weight_dependence=weight_dependence,
                                   w_min=0.0, w_max=w_max, norm=norm, reduction=reduction)
        self.learner.clamp_and_normalize()
        self.learner.enabled = False

    @property
    def steps(self) -> int:
        return max(1, round(self.time / self.dt))

    def encode(self, x: Tensor, generator: Optional[torch.Generator] = None) -> Tensor:
        p = x.clamp(0, 1) * (self.max_rate * self.dt / 1000.0)
        u = torch.rand((self.steps, *p.shape), generator=generator, dtype=p.dtype).to(p.device)
        return (u < p).to(p.dtype)

    def forward(self, x_seq: Tensor) -> Tensor:
        """Spikes ``[T, N, C, H, W]`` -> readout ``[T, N, classes]``."""
        return self.fc(self.flat(self.pool(self.sn(self.conv(x_seq)))))
