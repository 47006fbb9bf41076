"""Pure neuron maths: charge equations, fire, reset and the time loop.

Every spiking neuron is written as three steps on tensors (no modules, no hidden state):

    charge:  H(t) = f(V(t-1), X(t))                 (one function per neuron type)
    fire:    S(t) = Heaviside(H(t) - V_th)          (Heaviside(0) = 1: spike when H >= V_th)
    reset:   V(t) = H(t) (1 - S(t)) + V_reset S(t)  (hard reset)
             V(t) = H(t) - V_th S(t)                (soft reset, ``v_reset=None``)

``scan`` runs a step function over the leading time dimension of a ``T x N x ...`` tensor.
This module imports only torch.
"""

from .charge import if_charge, izhikevich_charge, leaky_charge
from .fire_reset import fire, reset
from .scan import scan
from .sparse_step import sparse_spike_matmul, to_sparse_weight

__all__ = ["fire", "if_charge", "izhikevich_charge", "leaky_charge", "reset", "scan", "sparse_spike_matmul",
           "to_sparse_weight"]
