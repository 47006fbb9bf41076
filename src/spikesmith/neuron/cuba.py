"""Current-based (CUBA) leaky integrate-and-fire neurons: a synaptic current filters the input.

    I(t) = (1 - 1/tau_syn) I(t-1) + X(t)                          (synaptic current)
    decay_input=False:  H(t) = V(t-1) - (V(t-1) - V_rest) / tau_mem + I(t)
    decay_input=True:   H(t) = V(t-1) + (I(t) - (V(t-1) - V_rest)) / tau_mem
    S(t) = Heaviside(H(t) - V_th),  then the shared hard or soft reset of V (I is not reset)

V_rest is ``v_leak`` when given, else V_reset (0 with a soft reset). ``tau_syn = 1`` gives
I(t) = X(t), a plain LIF. The voltage uses the current of the same step, as Loihi's CUBA neuron
(Lava) and snnTorch's ``Synaptic`` do; this is the discretisation the NIR exporter states.

``CubaLINode`` is the non-spiking readout with the same two equations (no fire, no reset); its
output is V(t).

>>> node = CubaLIFNode(tau_syn=4.0, tau_mem=2.0, step_mode="m")
>>> node(torch.rand(8, 2, 16)).shape          # [T, N, 16]
"""

from __future__ import annotations

from typing import Optional, Union

import torch
from torch import Tensor

from ..dynamics import fire, leaky_charge, reset
from ..module import InitFrom
from .base import BaseNode
from .lif import check_tau
from .nonspiking import _NonSpikingNode

Scalar = Union[float, Tensor]


def check_tau_syn(tau_syn, owner: str) -> None:
    values = tau_syn if isinstance(tau_syn, Tensor) else torch.tensor(float(tau_syn))
    if not bool((values >= 1).all()):
        raise ValueError(f"{owner}: tau_syn must be >= 1 (1 means no synaptic filtering), got {tau_syn}")


def synaptic_current(x: Tensor, i: Tensor, tau_syn: Scalar) -> Tensor:
    """I(t) = (1 - 1/tau_syn) I(t-1) + X(t)."""
    return i - i / tau_syn + x


class CubaLIFNode(BaseNode):
    """Current-based LIF (see the module docstring for the equations).

    Args:
        tau_syn: synaptic time constant in steps, >= 1 (float or broadcastable tensor).
        tau_mem: membrane time constant in steps, > 1.
        decay_input: divide the current by tau_mem in the voltage update (default False, as Lava).
        v_leak: the potential V leaks towards; None: V_reset (0 with a soft reset).
        **kwargs: the ``BaseNode`` arguments (v_threshold, v_reset, surrogate_function, step_mode, ...).

    The state is (V, I); both are reset by ``functional.reset_net`` (V to ``v_init``, I to 0).
    Runs on ``scan`` (no fused kernel).
    """

    def __init__(self, tau_syn: Scalar = 5.0, tau_mem: Scalar = 2.0, decay_input: bool = False,
                 v_leak: Optional[Scalar] = None, **kwargs):
        name = type(self).__name__
        check_tau_syn(tau_syn, name)
        check_tau(tau_mem, name, "tau_mem")
        super().__init__(**kwargs)
        self._set_param("tau_syn", tau_syn)
        self._set_param("tau_mem", tau_mem)
        self._set_param("v_leak", v_leak, allow_none=True)
        self.decay_input = bool(decay_input)
        self.i_init = 0.0
        self.register_memory("i", InitFrom("i_init"))

    def rest_potential(self) -> Scalar:
        if self.v_leak is not None:
            return self.v_leak
        return 0.0 if self.v_reset is None else self.v_reset

    def step(self, x: Tensor, state: tuple) -> tuple[tuple[Tensor, Tensor], tuple]:
        v, i = state
        i = synaptic_current(x, i, self.tau_syn)
        h = leaky_charge(i, v, 1.0 / self.tau_mem, self.rest_potential(), self.decay_input)
        s = fire(h, self.v_threshold, self.surrogate_function)
        for hook in self._step_hooks.values():
            out = hook(self, h, s)
            if out is not None:
                h, s = out
        v = reset(h, s, self.v_threshold, self.v_reset, self.detach_reset)
        return (s, v), (v, i)

    def extra_repr(self) -> str:
        def fmt(v):
            return f"tensor{list(v.shape)}" if isinstance(v, Tensor) else v

        leak = "" if self.v_leak is None else f"v_leak={fmt(self.v_leak)}, "
        return (f"tau_syn={fmt(self.tau_syn)}, tau_mem={fmt(self.tau_mem)}, decay_input={self.decay_input}, {leak}"
                + super().extra_repr())


class CubaLINode(_NonSpikingNode):
    """Current-based leaky integrator (readout): CubaLIF's current and voltage, no fire, no reset.

    Outputs V(t). ``v_init`` defaults to ``v_leak`` (the neuron starts at rest).
    """

    def __init__(self, tau_syn: Scalar = 5.0, tau_mem: Scalar = 2.0, decay_input: bool = False,
                 v_leak: Scalar = 0.0, v_init: Optional[Scalar] = None, **kwargs):
        name = type(self).__name__
        check_tau_syn(tau_syn, name)
        check_tau(tau_mem, name, "tau_mem")
        super().__init__(v_init=v_leak if v_init is None else v_init, **kwargs)
        self._set_param("tau_syn", tau_syn)
        self._set_param("tau_mem", tau_mem)
        self._set_param("v_leak", v_leak)
        self.decay_input = bool(decay_input)
        self.i_init = 0.0
        self.register_memory("i", InitFrom("i_init"))

    def step(self, x: Tensor, state: tuple):
        v, i = state
        i = synaptic_current(x, i, self.tau_syn)
        h = leaky_charge(i, v, 1.0 / self.tau_mem, self.v_leak, self.decay_input)
        return (h, h), (h, i)

    def extra_repr(self) -> str:
        def fmt(v):
            return f"tensor{list(v.shape)}" if isinstance(v, Tensor) else v

        return (f"tau_syn={fmt(self.tau_syn)}, tau_mem={fmt(self.tau_mem)}, decay_input={self.decay_input}, "
                f"v_leak={fmt(self.v_leak)}, " + super().extra_repr())
