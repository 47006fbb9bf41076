"""The one output neuron the spike-timing rules (ReSuMe, Chronotron, SPAN) train: a current-based LIF.

Each afferent's spikes drive an exponential synaptic current, the weighted currents charge a leaky
membrane, and a spike resets it to 0 (times in ms, step ``dt``):

    I_i[k] = exp(-dt / tau_s) I_i[k-1] + S_i[k]              (``exp_trace``: one spike -> 1, then decays)
    X[k]   = sum_i w_i I_i[k]
    H[k]   = V[k-1] + (X[k] - V[k-1]) (1 - exp(-dt / tau_m))  (``dynamics.leaky_charge``: exact for a held X)
    S[k]   = H[k] >= v_threshold;   V[k] = H[k] (1 - S[k])    (``dynamics.fire`` / ``dynamics.reset``)

Below threshold the membrane is linear in the weights, ``V[k] = sum_i w_i psp_i[k]``, where ``psp_i`` is
afferent i's current passed through the same leaky charge: the "PSP" E-learning differentiates. A spike
in step k happens at time ``k dt``; a target time t falls in step ``round(t / dt)``.

Shapes: ``inputs`` are ``T x n_in`` binned spike trains (time first); a single output neuron's weights
are ``[n_in]``, a batch of independent output neurons' are ``[B, n_in]`` (outputs ``T x B``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..dynamics import fire, leaky_charge, reset
from ..metrics import as_spike_times as check_spike_times
from .traces import check_positive, decay_factor, exp_trace


def heaviside(x: Tensor) -> Tensor:
    """1 where x >= 0, in x's dtype (no gradient: these rules are not trained by backpropagation)."""
    return (x >= 0).to(x.dtype)


@dataclass(frozen=True)
class TimingLIF:
    """Parameters of the current-based LIF (times in ms)."""

    tau_m: float = 10.0
    tau_s: float = 5.0
    v_threshold: float = 1.0
    dt: float = 0.5

    def __post_init__(self):
        for name in ("tau_m", "tau_s", "v_threshold", "dt"):
            check_positive(getattr(self, name), "TimingLIF", name)

    @property
    def membrane_step(self) -> float:
        """The fraction of the way to X that the membrane moves in one step, ``1 - exp(-dt / tau_m)``."""
        return 1.0 - decay_factor(self.tau_m, self.dt)


def check_inputs(inputs: object, where: str) -> Tensor:
    if not isinstance(inputs, Tensor) or inputs.dim() != 2 or inputs.shape[0] == 0:
        shape = list(inputs.shape) if isinstance(inputs, Tensor) else type(inputs).__name__
        raise ValueError(f"{where}: inputs must be a T x n_in tensor of binned spikes (time first), got {shape}; "
                         f"for one afferent pass inputs[:, None]")
    if not torch.is_floating_point(inputs):
        raise TypeError(f"{where}: inputs must be a floating-point tensor, got {inputs.dtype}; pass inputs.float()")
    if not bool(torch.isfinite(inputs).all()):
        raise ValueError(f"{where}: inputs contain NaN or infinite values; binned spikes are finite counts (0 or 1)")
    return inputs


def check_weights(weights: object, n_in: int, where: str) -> Tensor:
    if not isinstance(weights, Tensor) or weights.dim() not in (1, 2) or weights.shape[-1] != n_in:
        shape = list(weights.shape) if isinstance(weights, Tensor) else type(weights).__name__
        raise ValueError(f"{where}: weights must be [n_in] or [B, n_in] with n_in = {n_in} (the inputs' width), "
                         f"got {shape}")
    return weights


def synaptic_current(inputs: Tensor, neuron: TimingLIF) -> Tensor:
    """``I[k]``, the exponential synaptic current of every afferent (``T x n_in``)."""
    check_inputs(inputs, "synaptic_current")
    return exp_trace(inputs, decay_factor(neuron.tau_s, neuron.dt))


def membrane_response(current: Tensor, neuron: TimingLIF) -> Tensor:
    """The leaky charge of ``current`` (``T x ...``) from V = 0 without reset: each afferent's PSP."""
    v = torch.zeros_like(current[0])
    out = torch.empty_like(current)
    for k, x in enumerate(current.unbind(0)):
        v = leaky_charge(x, v, neuron.membrane_step)
        out[k] = v
    return out


def simulate(current: Tensor, weights: Tensor, neuron: TimingLIF) -> tuple[Tensor, Tensor]:
    """Output spikes and membrane before reset (``T`` or ``T x B``) for the synaptic currents ``current``
    (``T x n_in``). The weighted drive of every step is one matrix product; the time loop is scalar for one
    neuron (``_scalar_loop``, the same equations in Python floats) and ``dynamics`` on tensors for a batch."""
    weights = check_weights(weights, current.shape[1], "simulate")
    w = weights.to(current.dtype)
    if w.dim() == 1:
        spikes, membrane = _scalar_loop((current @ w).tolist(), neuron)
        return torch.tensor(spikes, dtype=current.dtype), torch.tensor(membrane, dtype=current.dtype)
    return _tensor_loop(current @ w.T, neuron)


def _tensor_loop(drive: Tensor, neuron: TimingLIF) -> tuple[Tensor, Tensor]:
    v = torch.zeros_like(drive[0])
    spikes, membrane = torch.empty_like(drive), torch.empty_like(drive)
    for k, x in enumerate(drive.unbind(0)):
        h = leaky_charge(x, v, neuron.membrane_step)
        s = fire(h, neuron.v_threshold, heaviside)
        v = reset(h, s, neuron.v_threshold, 0.0)
        spikes[k], membrane[k] = s, h
    return spikes, membrane


def _scalar_loop(drive: list[float], neuron: TimingLIF) -> tuple[list[float], list[float]]:
    step, threshold = neuron.membrane_step, neuron.v_threshold
    v, spikes, membrane = 0.0, [], []
    for x in drive:
        h = v + (x - v) * step                        # leaky_charge
        s = 1.0 if h >= threshold else 0.0            # fire (Heaviside(0) = 1)
        v = h * (1.0 - s)                             # hard reset to 0
        spikes.append(s)
        membrane.append(h)
    return spikes, membrane


def spike_times_of(spikes: Tensor, dt: float) -> Tensor:
    """The times ``k dt`` of the spikes of one binned train ``[T]`` (float64)."""
    return spikes.nonzero()[:, 0].to(torch.float64) * dt


def target_train(times: object, steps: int, dt: float, where: str = "target_train") -> Tensor:
    """A sorted list of target times (ms) as a binned ``[steps]`` train; times beyond the run are refused."""
    t = check_spike_times(times, where, "target")
    duration = steps * dt
    if t.numel() and (float(t[0]) < 0 or float(t[-1]) > duration - dt / 2):
        bad = float(t[-1]) if float(t[-1]) > duration - dt / 2 else float(t[0])
        raise ValueError(f"{where}: a target spike at {bad:g} ms lies outside the simulated 0..{duration - dt:g} ms "
                         f"({steps} steps of {dt:g} ms); simulate more steps or drop the spikes outside")
    train = torch.zeros(steps, dtype=torch.float64)
    idx = torch.round(t / dt).long()
    if idx.numel() > 1 and bool((idx[1:] == idx[:-1]).any()):
        raise ValueError(f"{where}: two target spikes fall in the same {dt:g} ms step; use a smaller dt or merge them")
    train[idx] = 1.0
    return train
