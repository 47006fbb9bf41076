"""Restricted Boltzmann machine with binary stochastic units, trained by contrastive divergence.

Energy and free energy of a visible vector v in {0,1}^V with hidden h in {0,1}^H (weight ``W``
is ``H x V``, rows hidden, as in ``nn.Linear``; visible bias b, hidden bias c):

    E(v, h) = -b.v - c.h - h.W v
    F(v)    = -b.v - sum_j softplus(c_j + W_j . v)          (h summed out: p(v) ~ exp(-F(v)))
    p(h_j = 1 | v) = sigmoid(c_j + W_j . v),   p(v_i = 1 | h) = sigmoid(b_i + h . W[:, i])

One update (``cd_step``) estimates the log-likelihood gradient by a positive phase on the data and
a negative phase after k Gibbs steps:

    positive:  v0 = data,  p0 = p(h|v0),  h0 ~ p0
    negative:  k alternating steps v ~ p(v|h), h ~ p(h|v); from h0 (CD-k) or from the persistent
               chains' last hidden state (PCD, Tieleman 2008: the chains are explicit state, returned
               and passed back in); the statistics use the last step's p(v|h) and p(h|that)
    grad W     = <p0 v0^T> - <pk vk^T>,   grad b = <v0> - <vk>,   grad c = <p0> - <pk>
    sparsity:  q = decay q_old + (1 - decay) <p0>   (running mean hidden activity, explicit state)
               grad c -= cost (q - target),  grad W -= cost (q - target) <v0>^T   (Lee et al. 2008;
               the cross-entropy penalty's gradient on the total input, as in Hinton's practical guide)
    velocity   = momentum velocity + lr (grad - weight_decay W)     (no decay on the biases)
    params    += velocity

Each update returns ``RBMStats``: the reconstruction error (mean squared difference between the
data and p(v|h0)), the mean free energy of the data and of the negative samples, and the mean
hidden activity. The functions take explicit parameters, state and a ``torch.Generator``; ``RBM`` is
the thin module that holds them.

>>> rbm = RBM(784, 500, k=1, persistent=False, lr=0.1, momentum=0.5, sparsity_target=0.1)
>>> stats = rbm.cd_step(batch)             # batch: [N, 784] in [0, 1]; returns RBMStats
>>> history = rbm.fit(data, epochs=5, batch_size=64)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, NamedTuple, Optional, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["RBM", "RBMParams", "RBMTrainState", "RBMStats", "CDOptions", "hidden_probs", "visible_probs",
           "free_energy", "sample_bernoulli", "gibbs_step", "cd_gradients", "cd_step", "reconstruction_error"]


class RBMParams(NamedTuple):
    weight: Tensor          # [H, V]
    visible_bias: Tensor    # [V]
    hidden_bias: Tensor     # [H]


class RBMTrainState(NamedTuple):
    """What one update hands to the next: the momentum buffers, the PCD chains' visible states
    (None for CD-k or before the first PCD update) and the running mean hidden activity (None until
    the first update with a sparsity target)."""

    velocity: RBMParams
    chains: Optional[Tensor] = None
    hidden_mean: Optional[Tensor] = None


@dataclass(frozen=True)
class RBMStats:
    reconstruction_error: float   # mean over batch and units of (v0 - p(v|h0))^2
    free_energy_data: float       # mean F(v0)
    free_energy_model: float      # mean F(vk) of the negative samples
    hidden_mean: float            # mean p(h|v0) over batch and units


def _check_unit(value, name: str, low_open: bool, high_open: bool, fix: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"RBM: {name} must be a finite number, got {value!r}; {fix}")
    too_low = value <= 0 if low_open else value < 0
    too_high = value >= 1 if high_open else value > 1
    if too_low or too_high:
        interval = ("(" if low_open else "[") + "0, 1" + (")" if high_open else "]")
        raise ValueError(f"RBM: {name} must lie in {interval}, got {value}; {fix}")
    return float(value)


@dataclass(frozen=True)
class CDOptions:
    """Hyper-parameters of contrastive divergence, checked once here."""

    k: int = 1
    persistent: bool = False
    lr: float = 0.1
    momentum: float = 0.5
    weight_decay: float = 2e-4
    sparsity_target: Optional[float] = None
    sparsity_cost: float = 0.1
    sparsity_decay: float = 0.9

    def __post_init__(self):
        if isinstance(self.k, bool) or not isinstance(self.k, int) or self.k < 1:
            raise ValueError(f"RBM: k (Gibbs steps per update) must be an int >= 1, got {self.k!r}; use k=1 for CD-1")
        if isinstance(self.lr, bool) or not isinstance(self.lr, (int, float)) or not (math.isfinite(self.lr)
                                                                                       and self.lr > 0):
            raise ValueError(f"RBM: lr must be a finite number > 0, got {self.lr!r}; try lr=0.05")
        _check_unit(self.momentum, "momentum", low_open=False, high_open=True, fix="use momentum=0 to turn it off")
        if isinstance(self.weight_decay, bool) or not isinstance(self.weight_decay, (int, float)) or not (
                math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"RBM: weight_decay must be a finite number >= 0, got {self.weight_decay!r}; "
                             f"use 0 to turn it off")
        if self.sparsity_target is not None:
            _check_unit(self.sparsity_target, "sparsity_target (the mean hidden activity aimed at)", low_open=True,
                        high_open=True, fix="pass e.g. 0.1, or None for no sparsity penalty")
        if isinstance(self.sparsity_cost, bool) or not isinstance(self.sparsity_cost, (int, float)) or not (
                math.isfinite(self.sparsity_cost) and self.sparsity_cost >= 0):
            raise ValueError(f"RBM: sparsity_cost must be a finite number >= 0, got {self.sparsity_cost!r}")
        _check_unit(self.sparsity_decay, "sparsity_decay", low_open=False, high_open=True,
                    fix="0 uses each batch's mean alone, 0.9 a running average")


# --------------------------------------------------------------------------- the functional core
def hidden_probs(v: Tensor, params: RBMParams) -> Tensor:
    """p(h = 1 | v) = sigmoid(v W^T + c), ``[N, V] -> [N, H]``."""
    return torch.sigmoid(F.linear(v, params.weight, params.hidden_bias))


def visible_probs(h: Tensor, params: RBMParams) -> Tensor:
    """p(v = 1 | h) = sigmoid(h W + b), ``[N, H] -> [N, V]``."""
    return torch.sigmoid(h @ params.weight + params.visible_bias)


def free_energy(v: Tensor, params: RBMParams) -> Tensor:
    """F(v) = -b.v - sum_j softplus(c_j + W_j . v), one value per row of ``v`` (``[N, V] -> [N]``)."""
    return -(v @ params.visible_bias) - F.softplus(F.linear(v, params.weight, params.hidden_bias)).sum(-1)


def sample_bernoulli(p: Tensor, generator: Optional[torch.Generator]) -> Tensor:
    """Binary samples: 1 where U < p, U ~ Uniform[0, 1) drawn from ``generator`` (on its own device,
    then moved: an RBM's CPU generator also samples for a network moved to CUDA)."""
    if generator is not None and generator.device != p.device:
        u = torch.rand(p.shape, generator=generator, dtype=p.dtype).to(p.device)
    else:
        u = torch.rand(p.shape, generator=generator, dtype=p.dtype, device=p.device)
    return (u < p).to(p.dtype)


def gibbs_step(h: Tensor, params: RBMParams, generator: Optional[torch.Generator]) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """One step h -> v -> h: returns (p(v|h), v sample, p(h|v sample), h sample)."""
    pv = visible_probs(h, params)
    v = sample_bernoulli(pv, generator)
    ph = hidden_probs(v, params)
    return pv, v, ph, sample_bernoulli(ph, generator)


def reconstruction_error(v: Tensor, params: RBMParams) -> Tensor:
    """Mean-field reconstruction error, deterministic: mean of (v - p(v | p(h|v)))^2."""
    return (v - visible_probs(hidden_probs(v, params), params)).pow(2).mean()


def _check_data(v: Tensor, params: RBMParams, where: str) -> None:
    if not isinstance(v, Tensor) or not v.is_floating_point():
        raise TypeError(f"{where}: data must be a floating-point tensor [N, visible], got "
                        f"{getattr(v, 'dtype', type(v).__name__)}; convert it with .float()")
    n_visible = params.weight.shape[1]
    if v.dim() != 2 or v.shape[1] != n_visible or v.shape[0] < 1:
        raise ValueError(f"{where}: data must have shape [N >= 1, {n_visible}], got {list(v.shape)}; "
                         f"flatten each sample to {n_visible} values")


def cd_gradients(v0: Tensor, params: RBMParams, options: CDOptions, state: RBMTrainState,
                 generator: Optional[torch.Generator]) -> tuple[RBMParams, RBMTrainState, RBMStats]:
    """The CD-k / PCD gradient estimate (with the sparsity term) for one batch, and the next state's
    chains and running hidden mean (the velocity is left to ``cd_step``)."""
    p0 = hidden_probs(v0, params)
    h0 = sample_bernoulli(p0, generator)
    if options.persistent and state.chains is not None:
        if state.chains.shape[1] != v0.shape[1]:
            raise ValueError(f"RBM: the persistent chains have {state.chains.shape[1]} visible units but the data "
                             f"{v0.shape[1]}; start from a fresh state")
        h = sample_bernoulli(hidden_probs(state.chains, params), generator)
    else:
        h = h0
    recon = visible_probs(h0, params)
    for _ in range(options.k):
        pv, v, ph, h = gibbs_step(h, params, generator)
    vk, pk = pv, hidden_probs(pv, params)
    n, m = v0.shape[0], vk.shape[0]
    grad_w = p0.t() @ v0 / n - pk.t() @ vk / m
    grad_b = v0.mean(0) - vk.mean(0)
    grad_c = p0.mean(0) - pk.mean(0)
    hidden_mean = state.hidden_mean
    if options.sparsity_target is not None:
        batch_mean = p0.mean(0)
        hidden_mean = batch_mean if hidden_mean is None else (
            options.sparsity_decay * hidden_mean + (1 - options.sparsity_decay) * batch_mean)
        excess = options.sparsity_cost * (hidden_mean - options.sparsity_target)
        grad_c = grad_c - excess
        grad_w = grad_w - excess[:, None] * v0.mean(0)[None, :]
    stats = RBMStats(
        reconstruction_error=float((v0 - recon).pow(2).mean()),
        free_energy_data=float(free_energy(v0, params).mean()),
        free_energy_model=float(free_energy(v, params).mean()),
        hidden_mean=float(p0.mean()),
    )
    chains = v if options.persistent else None
    return RBMParams(grad_w, grad_b, grad_c), RBMTrainState(state.velocity, chains, hidden_mean), stats


def cd_step(v0: Tensor, params: RBMParams, options: CDOptions, state: RBMTrainState,
            generator: Optional[torch.Generator] = None) -> tuple[RBMParams, RBMTrainState, RBMStats]:
    """One update: returns the new parameters, the new state (velocity, chains, hidden mean) and the stats."""
    _check_data(v0, params, "RBM.cd_step")
    grads, state, stats = cd_gradients(v0, params, options, state, generator)
    decay = (options.weight_decay * params.weight, 0.0, 0.0)
    velocity = RBMParams(*(options.momentum * vel + options.lr * (g - d)
                           for vel, g, d in zip(state.velocity, grads, decay)))
    new_params = RBMParams(*(p + vel for p, vel in zip(params, velocity)))
    return new_params, RBMTrainState(velocity, state.chains, state.hidden_mean), stats


def initial_state(params: RBMParams) -> RBMTrainState:
    return RBMTrainState(RBMParams(*(torch.zeros_like(p) for p in params)))


# --------------------------------------------------------------------------- the module
def _check_size(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"RBM: {name} must be a positive int, got {value!r}; pass the number of {name[2:]} units")
    return value


def _batches(data: Union[Tensor, Iterable], batch_size: int, generator: torch.Generator) -> Iterable[Tensor]:
    """Shuffled mini-batches of a tensor, or the tensors (or first items) of a loader as they come."""
    if isinstance(data, Tensor):
        order = torch.randperm(data.shape[0], generator=generator)
        for start in range(0, data.shape[0], batch_size):
            yield data[order[start:start + batch_size]]
        return
    for item in data:
        yield item[0] if isinstance(item, (tuple, list)) else item


class RBM(nn.Module):
    """An RBM with binary stochastic units, trained by CD-k or PCD (``persistent=True``).

    Args:
        n_visible, n_hidden: unit counts (positive ints).
        k: Gibbs steps per update (>= 1).
        persistent: keep the negative chains between updates (PCD); ``n_chains`` of them (default:
            the first batch's size), started from the first batch.
        lr, momentum, weight_decay: the update (``velocity = momentum velocity + lr (grad - wd W)``).
        sparsity_target: the mean hidden activity aimed at, in (0, 1), or None; ``sparsity_cost``
            weighs the penalty and ``sparsity_decay`` smooths the running mean.
        seed: seeds the initial weights (N(0, 0.01^2)) and the sampling generator.

    Parameters ``weight`` [H, V], ``visible_bias`` [V], ``hidden_bias`` [H]; ``state`` is the
    explicit ``RBMTrainState`` (velocity, chains, running hidden mean); ``history`` the stats.
    """

    def __init__(self, n_visible: int, n_hidden: int, *, k: int = CDOptions.k, persistent: bool = CDOptions.persistent,
                 lr: float = CDOptions.lr, momentum: float = CDOptions.momentum,
                 weight_decay: float = CDOptions.weight_decay, sparsity_target: Optional[float] = None,
                 sparsity_cost: float = CDOptions.sparsity_cost, sparsity_decay: float = CDOptions.sparsity_decay,
                 n_chains: Optional[int] = None, seed: int = 0):
        super().__init__()
        self.n_visible = _check_size(n_visible, "n_visible")
        self.n_hidden = _check_size(n_hidden, "n_hidden")
        self.options = CDOptions(k=k, persistent=bool(persistent), lr=lr, momentum=momentum, weight_decay=weight_decay,
                                 sparsity_target=sparsity_target, sparsity_cost=sparsity_cost,
                                 sparsity_decay=sparsity_decay)
        self.n_chains = None if n_chains is None else _check_size(n_chains, "n_chains")
        self.generator = torch.Generator().manual_seed(int(seed))
        self.weight = nn.Parameter(0.01 * torch.randn(n_hidden, n_visible, generator=self.generator),
                                   requires_grad=False)
        self.visible_bias = nn.Parameter(torch.zeros(n_visible), requires_grad=False)
        self.hidden_bias = nn.Parameter(torch.zeros(n_hidden), requires_grad=False)
        self.state = initial_state(self.params())
        self.history: list[RBMStats] = []

    def params(self) -> RBMParams:
        return RBMParams(self.weight, self.visible_bias, self.hidden_bias)

    def hidden_probs(self, v: Tensor) -> Tensor:
        return hidden_probs(v, self.params())

    def visible_probs(self, h: Tensor) -> Tensor:
        return visible_probs(h, self.params())

    def forward(self, v: Tensor) -> Tensor:
        """p(h = 1 | v): the hidden layer's mean activity, ``[N, V] -> [N, H]``."""
        return self.hidden_probs(v)

    def free_energy(self, v: Tensor) -> Tensor:
        return free_energy(v, self.params())

    def reconstruct(self, v: Tensor) -> Tensor:
        """The mean-field reconstruction p(v | p(h|v))."""
        return self.visible_probs(self.hidden_probs(v))

    def reconstruction_error(self, v: Tensor) -> float:
        return float(reconstruction_error(v, self.params()))

    def init_visible_bias(self, data: Tensor) -> None:
        """b_i = log(p_i / (1 - p_i)) with p_i the data's mean of unit i (Hinton's guide), clipped."""
        with torch.no_grad():
            p = data.float().mean(0).clamp(1e-3, 1 - 1e-3)
            self.visible_bias.copy_(torch.log(p / (1 - p)))

    @torch.no_grad()
    def cd_step(self, v0: Tensor) -> RBMStats:
        """One CD-k / PCD update on a batch ``[N, n_visible]`` of values in [0, 1]; returns its stats."""
        state = self.state
        if self.options.persistent and state.chains is None:
            _check_data(v0, self.params(), "RBM.cd_step")
            n = self.n_chains or v0.shape[0]
            start = v0[torch.arange(n) % v0.shape[0]]
            state = state._replace(chains=sample_bernoulli(start, self.generator))
        params, self.state, stats = cd_step(v0, self.params(), self.options, state, self.generator)
        for mine, new in zip(self.params(), params):
            mine.copy_(new)
        self.history.append(stats)
        return stats

    def fit(self, data: Union[Tensor, Iterable], epochs: int = 1, batch_size: int = 64,
            progress: bool = False, desc: str = "RBM") -> list[RBMStats]:
        """CD updates over ``data`` (a tensor [N, V], shuffled into batches, or an iterable of batches /
        (batch, label) pairs) for ``epochs`` epochs; returns this call's stats."""
        from tqdm.auto import tqdm

        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"RBM.fit: epochs must be an int >= 1, got {epochs!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"RBM.fit: batch_size must be an int >= 1, got {batch_size!r}")
        start = len(self.history)
        bar = tqdm(range(epochs), desc=desc, disable=not progress, unit="epoch")
        for _ in bar:
            for batch in _batches(data, batch_size, self.generator):
                stats = self.cd_step(batch.reshape(batch.shape[0], -1).to(self.weight.dtype))
            bar.set_postfix(recon=f"{stats.reconstruction_error:.4f}", F=f"{stats.free_energy_data:.2f}")
        return self.history[start:]

    def reset_state(self) -> None:
        """Forget the velocity, the persistent chains and the running hidden mean."""
        self.state = initial_state(self.params())

    def extra_repr(self) -> str:
        o = self.options
        mode = f"PCD-{o.k}" if o.persistent else f"CD-{o.k}"
        return (f"n_visible={self.n_visible}, n_hidden={self.n_hidden}, {mode}, lr={o.lr}, momentum={o.momentum}, "
                f"weight_decay={o.weight_decay}, sparsity_target={o.sparsity_target}")
