"""snnTorch's ``Alpha``: an alpha-function membrane, the difference of two exponential currents.

    E(t) = alpha E(t-1) + X(t)                          (excitatory current)
    N(t) = beta N(t-1) - X(t)                           (inhibitory current)
    U(t) = tau_alpha (E(t) + N(t)),  tau_alpha = log(alpha) / (log(beta) - log(alpha)) + 1
    S(t) = Heaviside(U(t) - thr)                        (strict >)

With R(t) = Heaviside(U(t-1) - thr) the delayed reset is, for ``'zero'`` (the default) every state times
(1 - R), and for ``'subtract'``: E -= thr R, N -= (beta N(t-1) - X) R, U -= -N(t-1) R (snnTorch's rule).
alpha > beta is required, and beta != 1. alpha and beta are clamped to [0, 1].
"""

from __future__ import annotations

import torch
from torch import Tensor

from .fire_reset import FireParams, fire, reset_signal
from .neuron import LIF, as_tensor_param


def alpha_step(x: Tensor, exc: Tensor, inh: Tensor, mem: Tensor, alpha, beta, p: FireParams):
    """One step of ``Alpha``: (spikes, excitatory current, inhibitory current, membrane)."""
    reset = reset_signal(mem, p)
    a, b = alpha.clamp(0, 1), beta.clamp(0, 1)
    new_exc = a * exc + x
    new_inh = b * inh - x
    tau_alpha = torch.log(a) / (torch.log(b) - torch.log(a)) + 1
    new_mem = tau_alpha * (new_exc + new_inh)
    if p.mechanism == "subtract":
        new_exc = new_exc - p.threshold * reset
        new_inh = new_inh - (b * inh - x) * reset
        new_mem = new_mem - (-inh) * reset
    elif p.mechanism == "zero":
        new_exc, new_inh, new_mem = new_exc - new_exc * reset, new_inh - new_inh * reset, new_mem - new_mem * reset
    if p.quant:
        new_exc, new_inh, new_mem = p.quant(new_exc), p.quant(new_inh), p.quant(new_mem)
    return fire(new_mem, p), new_exc, new_inh, new_mem


class Alpha(LIF):
    """``spk, syn_exc, syn_inh, mem = Alpha(alpha=0.9, beta=0.8)(x, syn_exc, syn_inh, mem)``."""

    state_names = ("syn_exc", "syn_inh", "mem")
    returned_names = ("syn_exc", "syn_inh", "mem")

    def __init__(self, alpha, beta, threshold=1.0, spike_grad=None, surrogate_disable=False, init_hidden=False,
                 inhibition=False, learn_alpha=False, learn_beta=False, learn_threshold=False,
                 reset_mechanism="zero", state_quant=False, output=False):
        super().__init__(beta, threshold, spike_grad, surrogate_disable, init_hidden, inhibition, learn_beta,
                         learn_threshold, reset_mechanism, state_quant, output)
        as_tensor_param(self, "alpha", alpha, learn_alpha)
        if not learn_alpha:
            self.alpha = self.alpha.clamp(0, 1)      # snnTorch stores the clamped value
        if (self.alpha <= self.beta).any():
            raise ValueError(f"Alpha: alpha must be greater than beta, got alpha={alpha}, beta={beta}")
        if (self.beta == 1).any():
            raise ValueError("Alpha: beta must not be 1 (tau_alpha = log(alpha) / (log(beta) - log(alpha)) + 1 "
                             "divides by log(beta) - log(alpha)); use a beta below alpha and below 1")

    def step(self, x, state):
        spk, exc, inh, mem = alpha_step(x, *state, self.alpha, self.beta, self.fire_params())
        return spk, (exc, inh, mem)

    def forward(self, input_: Tensor, syn_exc: Tensor = None, syn_inh: Tensor = None, mem: Tensor = None):
        return self.run(input_, (syn_exc, syn_inh, mem))

    def init_alpha(self):
        return self.reset_mem()
