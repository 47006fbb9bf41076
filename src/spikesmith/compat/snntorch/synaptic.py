"""snnTorch's ``Synaptic``: a current-based (second-order) leaky integrate-and-fire neuron.

    I(t) = alpha I(t-1) + X(t)
    U(t) = beta U(t-1) + I(t) - R(t) thr           (subtract)
    U(t) = (beta U(t-1) + I(t)) (1 - R(t))          (zero: computed as U - U R; I is not reset)
    S(t) = g Heaviside(U(t) - thr)

alpha and beta are clamped to [0, 1]; R(t) = Heaviside(U(t-1) - thr) (see ``fire_reset``).
"""

from __future__ import annotations

from torch import Tensor

from .fire_reset import FireParams, fire, immediate_reset, reset_signal
from .neuron import LIF, as_tensor_param


def synaptic_charge(x: Tensor, syn: Tensor, mem: Tensor, alpha, beta, extra=None) -> tuple[Tensor, Tensor]:
    """I = alpha I + X (+ ``extra``, the recurrent input of RSynaptic), U = beta U + I."""
    syn = alpha.clamp(0, 1) * syn + x if extra is None else alpha.clamp(0, 1) * syn + x + extra
    return syn, beta.clamp(0, 1) * mem + syn


def synaptic_reset(syn: Tensor, mem: Tensor, reset: Tensor, p: FireParams) -> tuple[Tensor, Tensor]:
    """The delayed reset of the charged (I, U): only U is reset."""
    if p.mechanism == "subtract":
        return syn, mem - reset * p.threshold
    if p.mechanism == "zero":
        return syn, mem - mem * reset
    return syn, mem


def synaptic_step(x: Tensor, syn: Tensor, mem: Tensor, alpha, beta, p: FireParams):
    """One step of ``Synaptic``: (spikes, synaptic current, membrane)."""
    reset = reset_signal(mem, p)
    syn, mem = synaptic_reset(*synaptic_charge(x, syn, mem, alpha, beta), reset, p)
    if p.quant:
        mem, syn = p.quant(mem), p.quant(syn)
    spk = fire(mem, p)
    return spk, syn, immediate_reset(mem, spk, reset, p)


class Synaptic(LIF):
    """``spk, syn, mem = Synaptic(alpha=0.9, beta=0.8)(x, syn, mem)`` with snnTorch's semantics."""

    state_names = ("syn", "mem")
    returned_names = ("syn", "mem")

    def __init__(self, alpha, beta, threshold=1.0, spike_grad=None, surrogate_disable=False, init_hidden=False,
                 inhibition=False, learn_alpha=False, learn_beta=False, learn_threshold=False,
                 reset_mechanism="subtract", state_quant=False, output=False, reset_delay=True):
        super().__init__(beta, threshold, spike_grad, surrogate_disable, init_hidden, inhibition, learn_beta,
                         learn_threshold, reset_mechanism, state_quant, output)
        as_tensor_param(self, "alpha", alpha, learn_alpha)
        self.reset_delay = bool(reset_delay)

    def step(self, x, state):
        spk, syn, mem = synaptic_step(x, state[0], state[1], self.alpha, self.beta, self.fire_params())
        return spk, (syn, mem)

    def forward(self, input_: Tensor, syn: Tensor = None, mem: Tensor = None):
        return self.run(input_, (syn, mem))

    def init_synaptic(self):
        return self.reset_mem()
