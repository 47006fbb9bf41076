"""SpikeProp (Bohte, Kok & La Poutré 2002): error backpropagation on spike times, and its
multi-spike extension (Booij & Nguyen 2005).

The neurons follow the spike response model. Every connection ``i -> j`` has ``K`` terminals, each
with its own delay ``d_k`` and weight ``w_ijk``:

    x_j(t) = sum_i sum_{t_i} sum_k w_ijk eps(t - t_i - d_k) + sum_{t_j^f < t} eta(t - t_j^f)
    eps(s) = (s / tau) exp(1 - s / tau)  for s > 0,       eta(s) = -2 theta exp(-s / tau_ref)

and ``j`` fires where ``x_j`` rises through ``theta``. SpikeProp lets each neuron fire once (the
paper's setting); ``multi_spike=True`` lets it fire up to ``max_spikes`` times, each spike resetting
it by ``eta``. The error is on the output neurons' first spike times, ``E = 1/2 sum (t - t_target)^2``.

Spike times come from a search (the potential on a grid of step ``dt``, then bisection) without
gradient; the gradient is the implicit-function one, ``dt_j = -dx_j / (dx_j/dt)`` at the spike
(Bohte's eq. 11, through earlier spikes of the same neuron in the multi-spike case), obtained by
autograd from one Newton-shaped step ``t_j = t* - (x_j(t*) - x_j(t*).detach()) / slope``. The slope is
floored at ``min_slope`` (Bohte's remedy for spikes that barely reach threshold).

Times are in ms. Spike trains are ``P x N x S`` tensors (pattern, neuron, spike slot), each neuron's
times ascending, ``inf`` where a slot holds no spike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional, Sequence

import torch
from torch import Tensor, nn

__all__ = ["SpikeProp", "SpikePropParams", "check_spike_times", "layer_spikes", "network_spikes", "potential",
           "srm_kernel", "time_error"]


@dataclass(frozen=True)
class SpikePropParams:
    """The neuron model and the spike search (ms)."""

    tau: float = 7.0
    delays: tuple = field(default_factory=lambda: tuple(float(d) for d in range(1, 17)))
    threshold: float = 1.0
    window: float = 40.0
    dt: float = 0.25
    multi_spike: bool = False
    max_spikes: int = 4
    tau_ref: float = 7.0
    min_slope: float = 0.05

    def __post_init__(self):
        for key in ("tau", "threshold", "window", "dt", "tau_ref", "min_slope"):
            value = getattr(self, key)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"SpikeProp: {key} must be a number > 0, got {value!r}; e.g. "
                                 f"{getattr(SpikePropParams(), key)!r}")
        if len(self.delays) == 0 or any(not math.isfinite(d) or d < 0 for d in self.delays):
            raise ValueError(f"SpikeProp: delays must be a non-empty list of times >= 0 (ms), got {self.delays!r}; "
                             f"e.g. delays 1..16")
        if not isinstance(self.max_spikes, int) or self.max_spikes < 1:
            raise ValueError(f"SpikeProp: max_spikes must be an int >= 1, got {self.max_spikes!r}")

    @property
    def spikes_per_neuron(self) -> int:
        return self.max_spikes if self.multi_spike else 1


def srm_kernel(s: Tensor, tau: float) -> tuple[Tensor, Tensor]:
    """``eps(s)`` and its derivative, 0 for ``s <= 0`` and for ``inf``-padded spikes (no NaN gradient)."""
    valid = (s > 0) & torch.isfinite(s)
    u = torch.where(valid, s, torch.zeros_like(s)) / tau
    e = torch.exp(1 - u)
    zero = torch.zeros_like(s)
    return torch.where(valid, u * e, zero), torch.where(valid, (1 - u) * e / tau, zero)


def _refractory(s: Tensor, params: SpikePropParams) -> tuple[Tensor, Tensor]:
    valid = (s > 0) & torch.isfinite(s)
    decay = torch.exp(-torch.where(valid, s, torch.zeros_like(s)) / params.tau_ref)
    zero = torch.zeros_like(s)
    scale = 2 * params.threshold
    return torch.where(valid, -scale * decay, zero), torch.where(valid, scale * decay / params.tau_ref, zero)


def potential(t: Tensor, t_in: Tensor, weight: Tensor, params: SpikePropParams,
              own: Optional[Tensor] = None) -> tuple[Tensor, Tensor]:
    """``x_j`` and ``dx_j/dt`` at times ``t`` (``P x J x Q``) for inputs ``t_in`` (``P x I x S``), weights
    ``I x J x K`` and the neuron's own earlier spikes ``own`` (``P x J x F``, for ``eta``)."""
    delays = torch.tensor(params.delays, dtype=t_in.dtype, device=t_in.device)
    arrival = t_in.unsqueeze(-1) + delays                                         # P x I x S x K
    s = t[:, None, :, :, None, None] - arrival[:, :, None, None, :, :]            # P x I x J x Q x S x K
    eps, deps = srm_kernel(s, params.tau)
    x = torch.einsum("pijqsk,ijk->pjq", eps, weight)
    slope = torch.einsum("pijqsk,ijk->pjq", deps, weight)
    if own is not None and own.shape[-1] > 0:
        eta, deta = _refractory(t.unsqueeze(-1) - own.unsqueeze(2), params)      # P x J x Q x F
        x = x + eta.sum(-1)
        slope = slope + deta.sum(-1)
    return x, slope


def _refine(lo: Tensor, hi: Tensor, t_in: Tensor, weight: Tensor, params: SpikePropParams,
            own: Optional[Tensor], active: Tensor) -> Tensor:
    """The crossing in ``[lo, hi]`` (potential below threshold at ``lo``, at or above at ``hi``): Newton
    steps kept inside the bracket, bisection where a step leaves it, to ``1e-9`` ms."""
    t = hi.clone()
    for _ in range(_REFINE_STEPS):
        x, slope = potential(t.unsqueeze(-1), t_in, weight, params, own)
        x, slope = x.squeeze(-1) - params.threshold, slope.squeeze(-1)
        up = x >= 0
        hi, lo = torch.where(up, t, hi), torch.where(up, lo, t)
        newton = t - x / torch.where(slope.abs() > 1e-12, slope, torch.full_like(slope, 1e-12))
        inside = (newton > lo) & (newton < hi)
        settled = ((newton - t).abs() <= 1e-12) | (x == 0)   # converged: a bisection step would throw it away
        t = torch.where(settled, t, torch.where(inside, newton, (lo + hi) / 2))
        if bool((settled | ~active).all()):
            break
    return t


#: refinement steps: safeguarded Newton converges quadratically once inside, bisection halves the bracket
_REFINE_STEPS = 40


def layer_spikes(t_in: Tensor, weight: Tensor, params: SpikePropParams) -> Tensor:
    """The spikes ``P x J x S'`` of ``J`` neurons driven by ``t_in`` through ``weight`` (``I x J x K``)."""
    p, j = t_in.shape[0], weight.shape[1]
    steps = int(math.ceil(params.window / params.dt))
    grid = torch.arange(1, steps + 1, dtype=t_in.dtype, device=t_in.device) * params.dt
    spikes: list[Tensor] = []
    last = torch.full((p, j), -math.inf, dtype=t_in.dtype, device=t_in.device)
    for _ in range(params.spikes_per_neuron):
        own = torch.stack(spikes, -1) if spikes else None
        with torch.no_grad():
            own_d = own.detach() if own is not None else None
            x, _ = potential(grid.expand(p, j, steps), t_in, weight, params, own_d)
            above = (x >= params.threshold) & (grid > last.unsqueeze(-1))
            fired = above.any(-1)                          # after a neuron's last spike: last = inf, none
            first = above.float().argmax(-1)
            hi = grid[first]
            lo = torch.maximum(torch.where(first > 0, grid[(first - 1).clamp_min(0)], torch.zeros_like(hi)),
                               last.clamp_min(0))
            t_star = _refine(lo, hi, t_in, weight, params, own_d, fired)
            t_star = torch.where(fired, t_star, torch.zeros_like(t_star))
        x_star, slope = potential(t_star.unsqueeze(-1), t_in, weight, params, own)
        x_star, slope = x_star.squeeze(-1), slope.squeeze(-1).detach().clamp_min(params.min_slope)
        t_spike = t_star - (x_star - x_star.detach()) / slope
        t_spike = torch.where(fired, t_spike, torch.full_like(t_spike, math.inf))
        spikes.append(t_spike)
        last = torch.where(fired, t_star, torch.full_like(t_star, math.inf))
        if not bool(fired.any()):
            break
    return torch.stack(spikes, -1)


def network_spikes(t_in: Tensor, weights: Sequence[Tensor], params: SpikePropParams) -> list[Tensor]:
    """Every layer's spikes, input first: ``[t_in, hidden..., output]``."""
    trains = [t_in]
    for weight in weights:
        trains.append(layer_spikes(trains[-1], weight, params))
    return trains


def time_error(output: Tensor, targets: Tensor, params: SpikePropParams) -> Tensor:
    """``1/2 sum (t - t_target)^2`` over the output neurons' first spikes; a silent neuron counts as
    firing at the end of the window (without gradient)."""
    first = output[..., 0]
    first = torch.where(torch.isfinite(first), first, torch.full_like(first, params.window))
    return 0.5 * ((first - targets) ** 2).sum()


def check_spike_times(times: Tensor, params: SpikePropParams) -> Tensor:
    """Input spike trains as ``P x N x S`` (a ``P x N`` tensor: one spike each), checked."""
    times = torch.as_tensor(times, dtype=torch.float64) if not isinstance(times, Tensor) else times.to(torch.float64)
    if times.dim() == 2:
        times = times.unsqueeze(-1)
    if times.dim() != 3 or times.numel() == 0:
        raise ValueError(f"SpikeProp: inputs must be spike times P x N (x S spikes), non-empty, got shape "
                         f"{list(times.shape)}; pad a neuron with fewer spikes with inf")
    if torch.isnan(times).any() or (times < 0).any() or (torch.isfinite(times) & (times >= params.window)).any():
        raise ValueError(f"SpikeProp: input spike times must lie in [0, window={params.window}) ms (inf pads), got "
                         f"NaN, negative or later ones; drop them or raise window")
    if times.shape[-1] > 1 and (times[..., 1:] < times[..., :-1]).any():
        raise ValueError("SpikeProp: each neuron's spike times must be ascending (inf padding last); sort them "
                         "with times.sort(-1)")
    return times


class SpikeProp(nn.Module):
    """A feed-forward SRM network with ``K`` delayed terminals per connection.

    ``sizes`` like ``(3, 5, 1)``; ``inhibitory[l]``: how many of layer ``l``'s neurons (the last ones)
    are inhibitory, i.e. all their outgoing weights stay <= 0 (Bohte's XOR net has one inhibitory
    hidden neuron); the others' stay >= 0. ``forward(times)`` returns every layer's spikes.
    """

    def __init__(self, sizes: Sequence[int], params: Optional[SpikePropParams] = None,
                 inhibitory: Sequence[int] = (), init: tuple[float, float] = (0.0, 0.1),
                 generator: Optional[torch.Generator] = None):
        super().__init__()
        if len(sizes) < 2 or any(not isinstance(n, int) or n < 1 for n in sizes):
            raise ValueError(f"SpikeProp: sizes must be at least two positive layer widths, got {list(sizes)}; "
                             f"e.g. (3, 5, 1)")
        self.params = params or SpikePropParams()
        self.sizes = list(sizes)
        k = len(self.params.delays)
        inhibitory = list(inhibitory) + [0] * (len(sizes) - len(inhibitory))
        self.weights = nn.ParameterList()
        self.signs = []
        low, high = init
        for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            sign = torch.ones(n_in, 1, 1, dtype=torch.float64)
            if inhibitory[layer]:
                sign[n_in - inhibitory[layer]:] = -1
            w = low + (high - low) * torch.rand(n_in, n_out, k, generator=generator, dtype=torch.float64)
            self.weights.append(nn.Parameter(w * sign))
            self.signs.append(sign)

    def forward(self, times: Tensor) -> list[Tensor]:
        times = check_spike_times(times, self.params)
        if times.shape[1] != self.sizes[0]:
            raise ValueError(f"SpikeProp: the inputs have {times.shape[1]} neurons but the network {self.sizes[0]}")
        return network_spikes(times, list(self.weights), self.params)

    @torch.no_grad()
    def keep_signs(self) -> None:
        """Project the weights back onto their neuron's sign (after a gradient step)."""
        for weight, sign in zip(self.weights, self.signs):
            weight.copy_(sign * (sign * weight).clamp_min(0))
