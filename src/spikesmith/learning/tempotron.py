"""The tempotron (Gütig & Sompolinsky 2006): a neuron that classifies spike patterns by firing or not.

Its potential is a weighted sum of postsynaptic potentials,

    V(t) = sum_i w_i sum_{t_i < t} K(t - t_i),   K(s) = V0 (exp(-s / tau) - exp(-s / tau_s)),

``V0`` scaling the peak of ``K`` to 1. The neuron fires on a pattern iff ``V`` reaches the threshold
(1) within the pattern. On an error the weights move by the PSPs at ``t_max``, the time of the
largest potential:

    dw_i = lr * (+1 for a missed target pattern, -1 for a false alarm) * sum_{t_i < t_max} K(t_max - t_i)

plus momentum ``mu`` on the previous update (as in the paper). ``V`` is sampled every ``dt``, exact
at those times: each exponential is a running sum, advanced step by step in closed form.

Patterns are spike times ``P x N x S`` (pattern, afferent, spike slot; ``inf`` pads an afferent
with fewer spikes, each afferent's times ascending), in ms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import torch
from torch import Tensor, nn

__all__ = ["Tempotron", "TempotronParams", "check_patterns", "psp_kernel", "potential", "tempotron_update"]


@dataclass(frozen=True)
class TempotronParams:
    """The neuron and its rule: time constants and grid in ms, threshold, learning rate, momentum."""

    tau: float = 15.0
    tau_s: float = 15.0 / 4
    duration: float = 500.0
    dt: float = 1.0
    threshold: float = 1.0
    lr: float = 1e-3
    momentum: float = 0.0

    def __post_init__(self):
        for key in ("tau", "tau_s", "duration", "dt", "threshold", "lr"):
            value = getattr(self, key)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"tempotron: {key} must be a number > 0, got {value!r}; e.g. "
                                 f"{getattr(TempotronParams, key)!r}")
        if self.tau_s >= self.tau:
            raise ValueError(f"tempotron: tau_s must be below tau (the PSP rises with tau_s and decays with tau), "
                             f"got tau={self.tau}, tau_s={self.tau_s}; the paper uses tau_s = tau / 4")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"tempotron: momentum must lie in [0, 1), got {self.momentum!r}")
        if self.dt > self.duration:
            raise ValueError(f"tempotron: dt ({self.dt}) is longer than the pattern ({self.duration} ms); lower dt")

    @property
    def peak_scale(self) -> float:
        """``V0``: the factor that makes the kernel's peak 1."""
        t_peak = self.tau * self.tau_s * math.log(self.tau / self.tau_s) / (self.tau - self.tau_s)
        return 1.0 / (math.exp(-t_peak / self.tau) - math.exp(-t_peak / self.tau_s))


def psp_kernel(s: Tensor, params: TempotronParams) -> Tensor:
    """``K(s)``, 0 for ``s <= 0`` (and for ``inf``-padded spikes)."""
    s_pos = torch.where(s > 0, s, torch.zeros_like(s))
    value = params.peak_scale * (torch.exp(-s_pos / params.tau) - torch.exp(-s_pos / params.tau_s))
    return torch.where((s > 0) & torch.isfinite(s), value, torch.zeros_like(s))


def check_patterns(times: Tensor, params: TempotronParams, labels: Optional[Tensor] = None) -> Tensor:
    """``times`` as ``P x N x S`` float64 (a ``P x N`` tensor: one spike per afferent), checked."""
    if not isinstance(times, Tensor):
        times = torch.as_tensor(times, dtype=torch.float64)
    if times.dim() == 2:
        times = times.unsqueeze(-1)
    if times.dim() != 3 or times.numel() == 0:
        raise ValueError(f"tempotron: patterns must be spike times P x N (x S spikes), non-empty, got shape "
                         f"{list(times.shape)}; pad an afferent with fewer spikes with inf")
    times = times.to(torch.float64)
    if torch.isnan(times).any() or (times < 0).any() or (torch.isfinite(times) & (times >= params.duration)).any():
        raise ValueError(f"tempotron: spike times must lie in [0, duration={params.duration}) ms (inf pads), got "
                         f"NaN, negative or later ones; drop them or raise duration")
    if times.shape[-1] > 1 and (times[..., 1:] < times[..., :-1]).any():
        raise ValueError("tempotron: each afferent's spike times must be ascending (inf padding last); sort them "
                         "with times.sort(-1)")
    if labels is not None and not isinstance(labels, Tensor):
        labels = torch.as_tensor(labels)
    if labels is not None and (labels.dim() != 1 or labels.shape[0] != times.shape[0]):
        raise ValueError(f"tempotron: labels must be one bool per pattern ({times.shape[0]}), got shape "
                         f"{list(labels.shape)}")
    return times


def potential(times: Tensor, weights: Tensor, params: TempotronParams) -> Tensor:
    """``V`` at the grid times ``dt, 2 dt, ...`` (``P x G``) for checked ``times`` and ``weights`` (``N``)."""
    steps = int(math.floor(params.duration / params.dt))
    p = times.shape[0]
    finite = torch.isfinite(times)
    bin_index = torch.where(finite, torch.ceil(times / params.dt).clamp(min=1), torch.zeros_like(times)).long()
    bin_index = bin_index.clamp(max=steps)           # a spike in the last partial step: sampled at the end
    w = weights.to(torch.float64).view(1, -1, 1).expand_as(times)
    v = torch.zeros(p, steps, dtype=torch.float64)
    for tau, sign in ((params.tau, 1.0), (params.tau_s, -1.0)):
        # each spike's value at the end of its bin, then a running sum decayed per step (exact at grid times)
        lag = torch.where(finite, bin_index * params.dt - times, torch.zeros_like(times))
        contrib = torch.where(finite & (bin_index > 0), w * torch.exp(-lag / tau), torch.zeros_like(times))
        bins = torch.zeros(p, steps + 1, dtype=torch.float64).scatter_add_(1, bin_index.flatten(1), contrib.flatten(1))
        v += sign * _decayed_running_sum(bins, math.exp(-params.dt / tau))[:, 1:]
    return params.peak_scale * v


def _decayed_running_sum(x: Tensor, decay: float) -> Tensor:
    """``r[g] = decay * r[g - 1] + x[g]`` along dim 1: a cumulative sum per block of steps short enough
    that ``decay ** -length`` stays far from overflow, carried from block to block."""
    length = max(1, int(30 / -math.log(decay)))
    out = torch.empty_like(x)
    carry = torch.zeros_like(x[:, 0])
    for start in range(0, x.shape[1], length):
        block = x[:, start:start + length]
        k = torch.arange(1, block.shape[1] + 1, dtype=x.dtype)
        grow = decay ** -k
        out[:, start:start + length] = (torch.cumsum(block * grow, 1) + carry.unsqueeze(1)) / grow
        carry = out[:, start + block.shape[1] - 1]
    return out


def tempotron_update(times: Tensor, weights: Tensor, labels: Tensor, params: TempotronParams,
                     velocity: Optional[Tensor] = None) -> tuple[Tensor, Tensor, Tensor]:
    """One pass of the rule over all patterns at once: ``(new weights, new velocity, fired)``.

    ``labels``: bool per pattern, True where the neuron should fire; ``fired``: what it did before the update.
    """
    times = check_patterns(times, params, labels)
    labels = torch.as_tensor(labels).bool()
    v = potential(times, weights, params)
    v_max, g_max = v.max(1)
    fired = v_max >= params.threshold
    error_sign = labels.to(torch.float64) - fired.to(torch.float64)          # +1 missed, -1 false alarm, 0 right
    t_max = (g_max + 1).to(torch.float64) * params.dt
    psp = psp_kernel(t_max.view(-1, 1, 1) - times, params).sum(-1)            # P x N
    step = params.lr * (error_sign.unsqueeze(1) * psp).sum(0)
    if velocity is None:
        velocity = torch.zeros_like(step)
    velocity = params.momentum * velocity + step
    return weights + velocity.to(weights.dtype), velocity, fired


class Tempotron(nn.Module):
    """Thin holder of the weights: ``forward(times)`` -> fires (bool per pattern); ``learn`` one epoch."""

    def __init__(self, afferents: int, params: Optional[TempotronParams] = None, init_std: float = 1e-3,
                 generator: Optional[torch.Generator] = None):
        super().__init__()
        if not isinstance(afferents, int) or afferents < 1:
            raise ValueError(f"tempotron: afferents must be a positive int, got {afferents!r}")
        self.params = params or TempotronParams()
        self.register_buffer("weight", torch.randn(afferents, generator=generator, dtype=torch.float64) * init_std)
        self.register_buffer("velocity", torch.zeros(afferents, dtype=torch.float64))

    def _checked(self, times: Tensor, labels: Optional[Tensor] = None) -> Tensor:
        times = check_patterns(times, self.params, labels)
        if times.shape[1] != self.weight.shape[0]:
            raise ValueError(f"tempotron: the patterns have {times.shape[1]} afferents but the neuron "
                             f"{self.weight.shape[0]}; build it with afferents={times.shape[1]}")
        return times

    def forward(self, times: Tensor) -> Tensor:
        v = potential(self._checked(times), self.weight, self.params)
        return v.max(1).values >= self.params.threshold

    @torch.no_grad()
    def learn(self, times: Tensor, labels: Tensor) -> float:
        """One batch update over the patterns; returns the accuracy before it."""
        labels = torch.as_tensor(labels).bool()
        times = self._checked(times, labels)
        weight, velocity, fired = tempotron_update(times, self.weight, labels, self.params, self.velocity)
        self.weight.copy_(weight)
        self.velocity.copy_(velocity)
        return float((fired == labels).double().mean())
