"""``LearnableDelay``: synapses with a learned weight and a learned delay each (DCLS-delays).

After Hammouamri, Khalfaoui-Hassani and Masquelier, "Learning Delays in Spiking Neural Networks
using Dilated Convolutions with Learnable Spacings" (ICLR 2024). Each synapse i -> o has a weight
W_oi and a continuous delay position p_oi in [0, D] (D = ``max_delay`` steps). In training the
delay is a Gaussian tap of width sigma over the D + 1 taps of a temporal kernel, a causal
convolution over time per synapse (``spikesmith.dynamics.delay``):

    g_k(p) = exp(-(k - p)^2 / 2 sigma^2) / sum_j exp(-(j - p)^2 / 2 sigma^2)      k = 0 .. D
    Y[t, o] = sum_i sum_k  W_oi g_k(p_oi) X[t - k, i]  + b_o

so the loss is differentiable in p. sigma starts wide (``sigma0``, default D / 2: every position
feels the whole window) and shrinks on a schedule to ``sigma_end`` (0.5): ``set_sigma(s)`` sets it,
``epoch_start(epoch, epochs)`` (called by ``spikesmith train`` before each epoch) follows

    sigma(epoch) = sigma0 (sigma_end / sigma0) ^ (epoch / (epochs - 1))       (sigma_end for one epoch)

The positions learn faster than the weights: ``lr_scales()`` asks the optimizer (``spikesmith train``)
for ``position_lr`` (default 50) times the learning rate for them, since a delay must travel whole steps
where a weight moves by fractions (the DCLS paper also trains positions at a much higher rate).

Evaluation (``eval()``), and training after ``round_delays()``, use the integer delays
d_oi = round(p_oi) as exact shifts, grouped by distinct delay (the ``DelayedLinear`` path):

    Y[t] = sum_d  W_d X[t - d] + b

which is the limit of the Gaussian form as sigma -> 0. ``to_fixed()`` gives that ``DelayedLinear``.

>>> syn = LearnableDelay(140, 256, max_delay=25, step_mode="m")
>>> syn(spikes)                 # spikes [T, N, 140] -> [T, N, 256], T > 25
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor, nn

from ..dynamics.delay import delayed_linear, delayed_linear_step, gaussian_taps, kernel_linear, kernel_linear_step
from ._seq import check_seq, check_tensor
from .delay import DelayedLinear, _PastInputs, check_fits

__all__ = ["LearnableDelay", "MAX_DELAY", "POSITION_LR", "SIGMA_END", "sigma_at"]

#: the default cap on a learned delay, in steps (the DCLS paper's SHD setting is 25 at 10 ms bins)
MAX_DELAY = 25
#: the width the schedule ends at, in steps
SIGMA_END = 0.5
#: the positions' learning rate, as a multiple of the weights'
POSITION_LR = 50.0


def _positive_int(value, name: str, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    return value


def _positive(value, name: str, owner: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive number of steps, got {value!r}")
    return float(value)


def sigma_at(epoch: int, epochs: int, sigma0: float, sigma_end: float = SIGMA_END) -> float:
    """The schedule's width before epoch ``epoch`` (0-based) of ``epochs``: geometric from sigma0 to sigma_end."""
    if epochs <= 1:
        return float(sigma_end)
    frac = min(max(epoch / (epochs - 1), 0.0), 1.0)
    return float(sigma0 * (sigma_end / sigma0) ** frac)


class LearnableDelay(_PastInputs):
    """A linear layer ``in_features -> out_features`` with a learned delay per synapse (see the module docstring).

    Args:
        in_features, out_features: as ``nn.Linear`` (the weight is initialised as there).
        max_delay: D, the largest delay in steps (default 25); sequences must be longer than D.
        bias: add a learned bias.
        sigma0: the schedule's starting width (default D / 2); ``sigma_end``: its last (0.5).
        position_lr: the positions' learning rate as a multiple of the weights' (see ``lr_scales``).
        step_mode: ``'s'`` (input ``[N, in_features]``) or ``'m'`` (input ``[T, N, in_features]``).

    Parameters ``weight`` and ``positions`` (``[out, in]`` each; positions start uniform in [0, D] and are
    clamped to it in the forward) and ``bias``; buffers ``sigma`` and ``rounded`` (saved with the weights).
    """

    def __init__(self, in_features: int, out_features: int, max_delay: int = MAX_DELAY, bias: bool = True,
                 sigma0: Optional[float] = None, sigma_end: float = SIGMA_END, position_lr: float = POSITION_LR,
                 step_mode: str = "s"):
        super().__init__(step_mode)
        owner = type(self).__name__
        self.in_features = _positive_int(in_features, "in_features", owner)
        self.out_features = _positive_int(out_features, "out_features", owner)
        if isinstance(max_delay, bool) or not isinstance(max_delay, int) or max_delay <= 0:
            raise ValueError(f"{owner}: max_delay must be a positive int (the largest delay in steps, e.g. 25), got "
                             f"{max_delay!r}; for no delays use a Linear layer")
        self.D = max_delay
        self.sigma0 = _positive(max_delay / 2 if sigma0 is None else sigma0, "sigma0", owner)
        self.sigma_end = _positive(sigma_end, "sigma_end", owner)
        self.position_lr = _positive(position_lr, "position_lr", owner)
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.positions = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.empty(out_features)) if bias else None
        self.register_buffer("sigma", torch.tensor(self.sigma0))
        self.register_buffer("rounded", torch.tensor(False))
        self.reset_parameters()

    @property
    def max_delay(self) -> int:
        return self.D

    def reset_parameters(self) -> None:
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        with torch.no_grad():
            self.positions.uniform_(0.0, float(self.D))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            nn.init.uniform_(self.bias, -bound, bound)

    # ----------------------------------------------------------------- the schedule and the rounding
    def set_sigma(self, sigma: float) -> None:
        """Set the Gaussian's width (steps, > 0)."""
        self.sigma.fill_(_positive(sigma, "sigma", self.layer_name()))

    def epoch_start(self, epoch: int, epochs: int) -> None:
        """Follow the schedule: the width before epoch ``epoch`` (0-based) of ``epochs`` (see ``sigma_at``)."""
        self.set_sigma(sigma_at(epoch, epochs, self.sigma0, self.sigma_end))

    def lr_scales(self) -> dict:
        """``{positions: position_lr}``: the factor on the learning rate the optimizer gives the positions."""
        return {self.positions: self.position_lr}

    def clamped_positions(self) -> Tensor:
        return self.positions.clamp(0.0, float(self.D))

    def integer_delays(self) -> Tensor:
        """The delays evaluation uses: round(p) clamped to [0, D], a long tensor ``[out, in]``."""
        return self.clamped_positions().detach().round().long()

    def round_delays(self) -> None:
        """Round the positions to whole steps and use exact shifts from now on, in training too."""
        with torch.no_grad():
            self.positions.copy_(self.integer_delays().to(self.positions.dtype))
        self.rounded.fill_(True)

    def uses_shifts(self) -> bool:
        """Whether the forward uses the integer delays (eval mode or after ``round_delays()``)."""
        return bool(self.rounded) or not self.training

    def kernel(self) -> Tensor:
        """The temporal kernel ``W_oi g_k(p_oi)``, shape ``[out, in, D + 1]``."""
        taps = gaussian_taps(self.clamped_positions(), float(self.sigma), self.D)
        return self.weight.unsqueeze(-1) * taps

    def to_fixed(self) -> DelayedLinear:
        """The ``DelayedLinear`` with this layer's weights and integer delays (what eval mode computes)."""
        fixed = DelayedLinear(self.in_features, self.out_features, self.integer_delays(), bias=self.bias is not None,
                              step_mode=self.step_mode).to(self.weight.device, self.weight.dtype)
        with torch.no_grad():
            fixed.weight.copy_(self.weight)
            if self.bias is not None:
                fixed.bias.copy_(self.bias)
        return fixed

    # ----------------------------------------------------------------- forward
    def _check(self, x: Tensor, seq: bool) -> None:
        if seq:
            check_seq(x, self, "[T, N, in_features]", min_dims=3)
            if x.dim() != 3:
                raise ValueError(f"{self.layer_name()} in step_mode='m' expects input of shape [T, N, in_features] "
                                 f"(3 dims), got shape {list(x.shape)}")
        else:
            check_tensor(x, self)
        if x.shape[-1] != self.in_features:
            raise ValueError(f"{self.layer_name()}: expects {self.in_features} input features (the last dim), got "
                             f"shape {list(x.shape)}")

    def forward(self, x: Tensor) -> Tensor:
        shifts = self.uses_shifts()
        if self.step_mode == "m":
            self._check(x, True)
            check_fits(self.D, x.shape[0], self.layer_name())
            if shifts:
                return delayed_linear(x, self.weight, self.integer_delays(), self.bias)
            return kernel_linear(x, self.kernel(), self.bias)
        self._check(x, False)
        history = list(self._push(x))
        if shifts:
            return delayed_linear_step(history, self.weight, self.integer_delays(), self.bias)
        return kernel_linear_step(history, self.kernel(), self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, max_delay={self.D}, "
                f"sigma={float(self.sigma):.3g}, rounded={bool(self.rounded)}, bias={self.bias is not None}, "
                f"step_mode={self.step_mode!r}")
