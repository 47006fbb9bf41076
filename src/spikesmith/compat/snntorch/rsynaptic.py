"""snnTorch's ``RSynaptic``: ``Synaptic`` with its own last spikes fed back into the current.

    I(t) = alpha I(t-1) + X(t) + W S(t-1)
    U(t) = beta U(t-1) + I(t) - R(t) thr          (subtract; 'zero': U (1 - R), I kept)
    S(t) = g Heaviside(U(t) - thr)

snnTorch 1.0's RSynaptic computes ``reset_delay=False`` into a local variable and drops it, so the reset
is always delayed there; this one does the same (and says so once, with a warning).
"""

from __future__ import annotations

import warnings

from torch import Tensor, nn

from .fire_reset import FireParams, fire, reset_signal
from .neuron import LIF, as_tensor_param
from .recurrent import build_recurrent
from .synaptic import synaptic_charge, synaptic_reset


def rsynaptic_step(x: Tensor, spk: Tensor, syn: Tensor, mem: Tensor, alpha, beta, recurrent: nn.Module,
                   p: FireParams):
    """One step of ``RSynaptic``: (spikes, synaptic current, membrane)."""
    reset = reset_signal(mem, p)
    syn, mem = synaptic_reset(*synaptic_charge(x, syn, mem, alpha, beta, extra=recurrent(spk)), reset, p)
    if p.quant:
        syn, mem = p.quant(syn), p.quant(mem)
    return fire(mem, p), syn, mem


class RSynaptic(LIF):
    """``spk, syn, mem = RSynaptic(alpha=0.9, beta=0.8, linear_features=100)(x, spk, syn, mem)``."""

    state_names = ("spk", "syn", "mem")
    returned_names = ("syn", "mem")

    def __init__(self, alpha, beta, V=1.0, all_to_all=True, linear_features=None, conv2d_channels=None,
                 kernel_size=None, threshold=1.0, spike_grad=None, surrogate_disable=False, init_hidden=False,
                 inhibition=False, learn_alpha=False, learn_beta=False, learn_threshold=False, learn_recurrent=True,
                 reset_mechanism="subtract", state_quant=False, output=False, reset_delay=True):
        super().__init__(beta, threshold, spike_grad, surrogate_disable, init_hidden, inhibition, learn_beta,
                         learn_threshold, reset_mechanism, state_quant, output)
        build_recurrent(self, V, all_to_all, linear_features, conv2d_channels, kernel_size, learn_recurrent)
        as_tensor_param(self, "alpha", alpha, learn_alpha)
        if not reset_delay:
            warnings.warn("RSynaptic(reset_delay=False): snnTorch 1.0 ignores it (the reset stays delayed), and "
                          "so does spikesmith, to give snnTorch's spikes; use RLeaky or Synaptic for an "
                          "immediate reset", UserWarning, stacklevel=2)
        self.reset_delay = True

    def step(self, x, state):
        spk, syn, mem = rsynaptic_step(x, *state, self.alpha, self.beta, self.recurrent, self.fire_params())
        return spk, (spk, syn, mem)

    def forward(self, input_: Tensor, spk: Tensor = None, syn: Tensor = None, mem: Tensor = None):
        return self.run(input_, (spk, syn, mem))

    def init_rsynaptic(self):
        return self.reset_mem()
