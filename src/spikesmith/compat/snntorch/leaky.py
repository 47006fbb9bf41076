"""snnTorch's ``Leaky``: a first-order leaky integrate-and-fire neuron.

    U(t) = beta U(t-1) + X(t) - R(t) thr          (subtract; beta clamped to [0, 1])
    U(t) = beta (1 - R(t)) U(t-1) + X(t)           (zero: the old membrane is zeroed, then charged)
    S(t) = g Heaviside(U(t) - thr)                 (strict >)

R(t) = Heaviside(U(t-1) - thr) (see ``fire_reset``). Example, beta = 0.5, thr = 1, X = 1.5, 1, 1:
U = 1.5 (spike), 0.5 * 1.5 + 1 - 1 = 0.75, 0.375 + 1 = 1.375 (spike).
"""

from __future__ import annotations

from torch import Tensor

from .fire_reset import FireParams, fire, immediate_reset, reset_signal
from .neuron import LIF


def leaky_step(x: Tensor, mem: Tensor, beta, p: FireParams) -> tuple[Tensor, Tensor]:
    """One step of ``Leaky``: (spikes, membrane) from the input and the previous membrane."""
    reset = reset_signal(mem, p)
    b = beta.clamp(0, 1)
    if p.mechanism == "subtract":
        mem = b * mem + x - reset * p.threshold
    elif p.mechanism == "zero":
        mem = b * ((1 - reset) * mem) + x
    else:
        mem = b * mem + x
    if p.quant:
        mem = p.quant(mem)
    spk = fire(mem, p)
    return spk, immediate_reset(mem, spk, reset, p)


class Leaky(LIF):
    """``spk, mem = Leaky(beta=0.95)(x, mem)`` with snnTorch's arguments and semantics.

    Shapes: ``x`` is ``N x ...`` (any shape); spikes and membrane have the input's shape.
    """

    def __init__(self, beta, threshold=1.0, spike_grad=None, surrogate_disable=False, init_hidden=False,
                 inhibition=False, learn_beta=False, learn_threshold=False, reset_mechanism="subtract",
                 state_quant=False, output=False, graded_spikes_factor=1.0, learn_graded_spikes_factor=False,
                 reset_delay=True):
        super().__init__(beta, threshold, spike_grad, surrogate_disable, init_hidden, inhibition, learn_beta,
                         learn_threshold, reset_mechanism, state_quant, output, graded_spikes_factor,
                         learn_graded_spikes_factor)
        self.reset_delay = bool(reset_delay)

    def step(self, x, state):
        spk, mem = leaky_step(x, state[0], self.beta, self.fire_params())
        return spk, (mem,)

    def forward(self, input_: Tensor, mem: Tensor = None):
        return self.run(input_, (mem,))

    def init_leaky(self):
        return self.reset_mem()
