"""snnTorch's ``RLeaky``: ``Leaky`` with its own last spikes fed back through ``recurrent``.

    U(t) = beta U(t-1) + X(t) + W S(t-1) - R(t) thr          (subtract)
    U(t) = charged U (1 - R(t))                               (zero)
    S(t) = g Heaviside(U(t) - thr)

W is the recurrent module (see ``recurrent``); R(t) = Heaviside(U(t-1) - thr) (see ``fire_reset``).
"""

from __future__ import annotations

from torch import Tensor, nn

from .fire_reset import FireParams, fire, immediate_reset, reset_signal
from .neuron import LIF
from .recurrent import build_recurrent


def rleaky_step(x: Tensor, spk: Tensor, mem: Tensor, beta, recurrent: nn.Module, p: FireParams):
    """One step of ``RLeaky``: (spikes, membrane) from the input, the last spikes and membrane."""
    reset = reset_signal(mem, p)
    charged = beta.clamp(0, 1) * mem + x + recurrent(spk)
    if p.mechanism == "subtract":
        charged = charged - reset * p.threshold
    elif p.mechanism == "zero":
        charged = charged - reset * charged
    if p.quant:
        charged = p.quant(charged)
    spk = fire(charged, p)
    return spk, immediate_reset(charged, spk, reset, p)


class RLeaky(LIF):
    """``spk, mem = RLeaky(beta=0.9, linear_features=100)(x, spk, mem)`` with snnTorch's semantics."""

    state_names = ("spk", "mem")
    returned_names = ("mem",)

    def __init__(self, beta, V=1.0, all_to_all=True, linear_features=None, conv2d_channels=None, kernel_size=None,
                 threshold=1.0, spike_grad=None, surrogate_disable=False, init_hidden=False, inhibition=False,
                 learn_beta=False, learn_threshold=False, learn_recurrent=True, reset_mechanism="subtract",
                 state_quant=False, output=False, reset_delay=True):
        super().__init__(beta, threshold, spike_grad, surrogate_disable, init_hidden, inhibition, learn_beta,
                         learn_threshold, reset_mechanism, state_quant, output)
        build_recurrent(self, V, all_to_all, linear_features, conv2d_channels, kernel_size, learn_recurrent)
        self.reset_delay = bool(reset_delay)

    def step(self, x, state):
        spk, mem = rleaky_step(x, state[0], state[1], self.beta, self.recurrent, self.fire_params())
        return spk, (spk, mem)

    def forward(self, input_: Tensor, spk: Tensor = None, mem: Tensor = None):
        return self.run(input_, (spk, mem))

    def init_rleaky(self):
        return self.reset_mem()
