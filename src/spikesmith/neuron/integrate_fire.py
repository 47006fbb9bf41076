"""Integrate-and-fire neuron."""

from __future__ import annotations

from torch import Tensor

from ..dynamics import if_charge
from ..kernels.charges.integrate_fire import IF
from .base import BaseNode
from .registry import NEURONS


@NEURONS.register("if")
class IFNode(BaseNode):
    r"""Integrate-and-fire: \(H[t] = V[t-1] + X[t]\), then the shared fire and reset.

    >>> node = IFNode(step_mode="m")
    >>> s = node(torch.full((4, 2, 3), 0.6))   # T=4, N=2: spikes at t = 1 and 3
    """

    def neuronal_charge(self, x: Tensor, state: tuple) -> Tensor:
        return if_charge(x, state[0])

    def kernel_spec(self):
        return self._spec(IF) if self._same_dynamics(IFNode) else None
