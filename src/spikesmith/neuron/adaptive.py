"""Adaptive LIF (ALIF; Bellec et al., NeurIPS 2018, the LSNN neuron)."""

from __future__ import annotations

from typing import Union

from torch import Tensor

from ..dynamics import leaky_charge
from ..kernels.charges.alif import ALIF
from ..module import InitFrom
from .lif import LIFNode, check_tau
from .registry import NEURONS

Scalar = Union[float, Tensor]


@NEURONS.register("alif", time_constant="tau")
class AdaptiveLIFNode(LIFNode):
    """LIF with a spike-triggered adaptive threshold.

    H(t)   = LIF charge of V(t-1) and X(t)
    A(t)   = V_th + beta * a(t-1)                    (effective threshold)
    S(t)   = Heaviside(H(t) - A(t))
    V(t)   = hard: H (1 - S) + V_reset S;  soft: H - A(t) S
    a(t)   = (1 - 1/tau_adapt) a(t-1) + S(t)         (grows by 1 per spike, decays with tau_adapt)

    Args:
        tau: membrane time constant (> 1).
        tau_adapt: adaptation time constant (> 1), in steps.
        beta: adaptation strength (>= 0); beta = 0 gives a LIF.
    """

    def __init__(self, tau: Scalar = 2.0, tau_adapt: Scalar = 200.0, beta: Scalar = 1.8, **kwargs):
        check_tau(tau_adapt, type(self).__name__, "tau_adapt")
        super().__init__(tau=tau, **kwargs)
        self._set_param("tau_adapt", tau_adapt)
        if (isinstance(beta, Tensor) and bool((beta < 0).any())) or (not isinstance(beta, Tensor) and beta < 0):
            raise ValueError(f"AdaptiveLIFNode: beta must be >= 0, got {beta}")
        self._set_param("beta", beta)
        self.a_init = 0.0
        self.register_memory("a", InitFrom("a_init"))

    def effective_threshold(self, state: tuple) -> Tensor:
        return self.v_threshold + self.beta * state[1]

    def update_extra_state(self, state: tuple, s: Tensor) -> tuple:
        return (state[1] * (1.0 - 1.0 / self.tau_adapt) + s,)

    def neuronal_charge(self, x: Tensor, state: tuple) -> Tensor:
        return leaky_charge(x, state[0], self.decay(), self.rest_potential(), self.decay_input)

    def kernel_spec(self):
        if not self._same_dynamics(AdaptiveLIFNode):
            return None
        return self._spec(ALIF, params={"decay": self.decay(), "rho": 1.0 - 1.0 / self.tau_adapt, "beta": self.beta},
                          options={"decay_input": self.decay_input})

    def extra_repr(self) -> str:
        return f"tau_adapt={self.tau_adapt}, beta={self.beta}, " + super().extra_repr()
