"""Neurons that output their membrane potential instead of spikes (readout layers)."""

from __future__ import annotations

from typing import Optional, Union

from torch import Tensor

from ..dynamics import if_charge, leaky_charge
from .base import BaseNode
from .lif import check_tau

Scalar = Union[float, Tensor]


class _NonSpikingNode(BaseNode):
    """Charge only: no fire, no reset; the output is V(t) = H(t). Runs on the ``scan`` path."""

    emits_spikes = False

    def __init__(self, v_init: Optional[Scalar] = 0.0, step_mode: str = "s", backend: str = "auto",
                 store_v_seq: bool = False):
        super().__init__(v_threshold=float("inf"), v_reset=None, step_mode=step_mode, backend=backend,
                         store_v_seq=store_v_seq, v_init=v_init)

    def step(self, x: Tensor, state: tuple):
        h = self.neuronal_charge(x, state)
        return (h, h), (h,)

    def extra_repr(self) -> str:
        return f"step_mode={self.step_mode!r}"


class IntegratorNode(_NonSpikingNode):
    """Non-leaky integrator: V(t) = V(t-1) + X(t); outputs V."""

    def neuronal_charge(self, x: Tensor, state: tuple) -> Tensor:
        return if_charge(x, state[0])


class NonSpikingLIFNode(_NonSpikingNode):
    """Leaky integrator (LIF without fire and reset); outputs V.

    decay_input=True:  V = V + (X - (V - V_rest)) / tau;   False: V = V - (V - V_rest) / tau + X
    """

    def __init__(self, tau: Scalar = 2.0, decay_input: bool = True, v_rest: float = 0.0, **kwargs):
        check_tau(tau, type(self).__name__)
        super().__init__(**kwargs)
        self._set_param("tau", tau)
        self.decay_input = bool(decay_input)
        self.v_rest = float(v_rest)

    def neuronal_charge(self, x: Tensor, state: tuple) -> Tensor:
        return leaky_charge(x, state[0], 1.0 / self.tau, self.v_rest, self.decay_input)

    def extra_repr(self) -> str:
        return f"tau={self.tau}, decay_input={self.decay_input}, " + super().extra_repr()
