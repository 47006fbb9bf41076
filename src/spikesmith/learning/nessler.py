"""Probabilistic STDP (Nessler, Pfeiffer, Buesing & Maass 2013): at every spike of output neuron k,

    dw_ki = eta * (c exp(-w_ki) - 1)   if input i fired within sigma before the spike
    dw_ki = eta * (-1)                 otherwise

and, for the prior (the excitabilities), at every spike of the circuit,

    db_k = eta_b * (c_b exp(-b_k) - 1)   for the neuron that fired,   -eta_b for the others.

The expected change is zero where ``c exp(-w_ki) p(i active | k fired) = 1``: the weights converge
to ``w_ki = log(c p(y_i = 1 | k))`` and the biases to ``b_k = log(c_b p(k))``, so the circuit's
potentials ``u_k = sum_i w_ki y_i + b_k`` are, up to a constant, the log joint of a mixture model
and the stochastic WTA (:mod:`.stochastic_wta`) samples its posterior: the network does online EM.

The updates are pure functions of the spikes (``z``: ``[N, K]`` output spikes of one step, one-hot
rows or zero; ``y``: ``[N, inputs]`` 0/1, whether each input fired within sigma), summed over the
``N`` samples of a batch. :func:`homeostatic_bias_update` (Habenschuss, Bill & Nessler 2013) is the
optional intrinsic plasticity that keeps every neuron in use.
"""

from __future__ import annotations

from torch import Tensor


def _check(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"Nessler STDP: {name} must be > 0, got {value}")


def nessler_weight_update(w: Tensor, y: Tensor, z: Tensor, c: float = 1.0, eta: float = 0.01) -> Tensor:
    """``dw`` ``[K, inputs]`` for the spikes ``z`` ``[N, K]`` of one step given the recent inputs ``y`` ``[N, inputs]``."""
    _check("c", c)
    _check("eta", eta)
    if z.dim() != 2 or y.dim() != 2 or z.shape[0] != y.shape[0] or tuple(w.shape) != (z.shape[1], y.shape[1]):
        raise ValueError(f"Nessler STDP: weights {list(w.shape)}, output spikes {list(z.shape)} and inputs "
                         f"{list(y.shape)} must be [K, inputs], [N, K] and [N, inputs]")
    paired = z.t().matmul(y.to(z.dtype))                 # [K, inputs]: spikes of k with input i active
    return eta * (c * paired * (-w).exp() - z.sum(0).unsqueeze(1))


def nessler_bias_update(b: Tensor, z: Tensor, c: float = 1.0, eta: float = 0.01) -> Tensor:
    """``db`` ``[K]`` for the spikes ``z`` ``[N, K]`` of one step (every circuit spike moves every bias)."""
    _check("c", c)
    _check("eta", eta)
    if z.dim() != 2 or tuple(b.shape) != (z.shape[1],):
        raise ValueError(f"Nessler STDP: biases {list(b.shape)} and output spikes {list(z.shape)} must be [K] and [N, K]")
    won = z.sum(0)
    return eta * (c * won * (-b).exp() - won.sum())


def homeostatic_bias_update(z: Tensor, rate: float) -> Tensor:
    """``db`` ``[K]``: every circuit spike moves each bias by ``rate * (1/K - z_k)`` (Habenschuss et al.
    2013), so each neuron is driven to win a 1/K share of the spikes."""
    _check("homeostasis rate", rate)
    if z.dim() != 2:
        raise ValueError(f"homeostatic bias rule: output spikes must be [N, K], got {list(z.shape)}")
    return rate * (z.sum() / z.shape[1] - z.sum(0))
