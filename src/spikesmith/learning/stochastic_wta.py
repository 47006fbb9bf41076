"""A stochastic winner-take-all circuit (Nessler et al. 2013): K Poisson neurons that fire, all
together, at a fixed total rate, each spike given to one neuron drawn from the softmax of their
membrane potentials.

    P(the circuit spikes in a step of dt ms) = rate * dt / 1000
    P(neuron k fires | the circuit spikes)   = exp(u_k) / sum_j exp(u_j)

So neuron k fires at rate ``rate * softmax(u)_k``: the lateral inhibition that keeps the total
rate fixed is folded into the normalisation. With ``u_k = log p(y | k) + log p(k)`` the winner is
a sample from the posterior over the K causes of the input ``y``.

>>> z = wta_spikes(u, rate=200.0, dt=1.0, generator=g)   # u: [N, K] -> one-hot rows [N, K] (or zero rows)
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor


def check_wta_rate(rate: float, dt: float, owner: str = "stochastic WTA") -> float:
    """The circuit's spike probability per step, ``rate * dt / 1000``; it must lie in (0, 1]."""
    p = float(rate) * float(dt) / 1000.0
    if not 0 < p <= 1:
        raise ValueError(f"{owner}: wta_rate * dt / 1000 is the circuit's spike probability per step and must lie "
                         f"in (0, 1], got wta_rate={rate} Hz, dt={dt} ms; lower wta_rate or dt")
    return p


def wta_spikes(u: Tensor, rate: float, dt: float, generator: Optional[torch.Generator] = None) -> Tensor:
    """One step of the circuit for potentials ``u`` ``[N, K]``: a row is one-hot where the circuit
    spiked (the winner drawn from ``softmax(u)``), zero where it did not."""
    if u.dim() != 2 or u.shape[1] < 1:
        raise ValueError(f"stochastic WTA: potentials must be [samples, neurons], got {list(u.shape)}")
    p_spike = check_wta_rate(rate, dt)
    fires = torch.rand(u.shape[0], generator=generator, device=u.device) < p_spike
    winners = torch.multinomial(torch.softmax(u.float(), dim=1), 1, generator=generator).squeeze(1)
    z = torch.zeros_like(u)
    z[torch.arange(u.shape[0], device=u.device), winners] = 1.0
    return z * fires.unsqueeze(1).to(u.dtype)
