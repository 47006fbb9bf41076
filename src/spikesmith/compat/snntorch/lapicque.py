"""snnTorch's ``Lapicque``: the RC-circuit neuron, forward Euler with step ``time_step``.

    U(t) = X(t) R (1 / (R C)) dt + (1 - dt / (R C)) U(t-1) - R(t) thr     (subtract)
    U(t) = charged U (1 - R(t))                                          (zero)

Give ``beta`` (then R = 1 unless given, and C = dt / (R log(1/beta))), or ``R`` and ``C`` (then
beta = exp(-dt / (R C))), or ``beta`` and one of ``R``, ``C``. The charge reads R, C and dt only.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .fire_reset import FireParams, fire, reset_signal
from .neuron import LIF


def lapicque_step(x: Tensor, mem: Tensor, R, C, time_step, p: FireParams) -> tuple[Tensor, Tensor]:
    """One step of ``Lapicque``: (spikes, membrane)."""
    reset = reset_signal(mem, p)
    charged = x * R * (1 / (R * C)) * time_step + (1 - time_step / (R * C)) * mem
    if p.mechanism == "subtract":
        charged = charged - reset * p.threshold
    elif p.mechanism == "zero":
        charged = charged - reset * charged
    if p.quant:
        charged = p.quant(charged)
    return fire(charged, p), charged


def _given(value) -> bool:
    return value is not None and value is not False and bool(torch.as_tensor(value).ne(0).all())


class Lapicque(LIF):
    """``spk, mem = Lapicque(beta=0.9)(x, mem)`` or ``Lapicque(R=5, C=1e-3, time_step=1e-3)``."""

    def __init__(self, beta=False, R=False, C=False, time_step=1, threshold=1.0, spike_grad=None,
                 surrogate_disable=False, init_hidden=False, inhibition=False, learn_beta=False,
                 learn_threshold=False, reset_mechanism="subtract", state_quant=False, output=False):
        has_beta, has_r, has_c = _given(beta), _given(R), _given(C)
        if not has_beta and not (has_r and has_c):
            raise ValueError("Lapicque: give beta, or both R and C (beta = exp(-time_step / (R C))), "
                             f"got beta={beta!r}, R={R!r}, C={C!r}")
        if has_beta and has_r and has_c:
            raise ValueError("Lapicque: give beta with at most one of R and C (the other follows from "
                             "time_step / (R log(1/beta))), not all three")
        super().__init__(beta if has_beta else 0.0, threshold, spike_grad, surrogate_disable, init_hidden,
                         inhibition, learn_beta, learn_threshold, reset_mechanism, state_quant, output)
        self.register_buffer("time_step", torch.as_tensor(time_step))
        if not has_beta:
            self.beta = torch.exp(torch.ones(1) * (-self.time_step / (R * C)))
            self.register_buffer("R", torch.as_tensor(R))
            self.register_buffer("C", torch.as_tensor(C))
        elif has_r:
            self.register_buffer("C", self.time_step / (R * torch.log(1 / self.beta)))
            self.register_buffer("R", torch.as_tensor(R))
        elif has_c:
            self.register_buffer("C", torch.as_tensor(C))
            self.register_buffer("R", self.time_step / (self.C * torch.log(1 / self.beta)))
        else:
            self.register_buffer("R", torch.as_tensor(1))
            self.register_buffer("C", self.time_step / (self.R * torch.log(1 / self.beta)))

    def step(self, x, state):
        spk, mem = lapicque_step(x, state[0], self.R, self.C, self.time_step, self.fire_params())
        return spk, (mem,)

    def forward(self, input_: Tensor, mem: Tensor = None):
        return self.run(input_, (mem,))

    def init_lapicque(self):
        return self.reset_mem()
