"""Leaky integrate-and-fire neurons: fixed tau (LIF) and learned tau (PLIF)."""

from __future__ import annotations

import math
from typing import Optional, Union

import torch
from torch import Tensor, nn

from ..dynamics import leaky_charge
from ..kernels.charges.lif import LIF
from .base import BaseNode
from .registry import NEURONS

Scalar = Union[float, Tensor]


def check_tau(tau, owner: str, name: str = "tau") -> None:
    values = tau if isinstance(tau, Tensor) else torch.tensor(float(tau))
    if not bool((values > 1).all()):
        raise ValueError(f"{owner}: {name} must be > 1 (the decay 1/tau must lie in (0, 1)), got {tau}")


@NEURONS.register("lif", time_constant="tau")
class LIFNode(BaseNode):
    r"""Leaky integrate-and-fire.

    The charge, with ``decay_input=True`` (the default) and ``False``:

    \[ H[t] = V[t-1] + \frac{X[t] - (V[t-1] - V_{rest})}{\tau} \qquad
       H[t] = V[t-1] - \frac{V[t-1] - V_{rest}}{\tau} + X[t] \]

    then the shared fire and reset (see ``BaseNode``). The rest potential \(V_{rest}\) is ``v_leak``
    when given, else \(V_{reset}\) (0 with a soft reset, ``v_reset=None``).

    Args:
        tau: membrane time constant in steps, > 1 (a float or a broadcastable tensor).
        decay_input: whether the input is divided by tau too.
        v_leak: the potential the membrane leaks towards, when it differs from V_reset (as in NIR's
            LIF); None (default) leaks towards V_reset. A neuron with ``v_leak`` runs on ``scan``.
        **kwargs: the ``BaseNode`` arguments (v_threshold, v_reset, surrogate_function, ...).
    """

    def __init__(self, tau: Scalar = 2.0, decay_input: bool = True, v_leak: Optional[Scalar] = None, **kwargs):
        check_tau(tau, type(self).__name__)
        super().__init__(**kwargs)
        self._set_tau(tau)
        self.decay_input = bool(decay_input)
        self._set_param("v_leak", v_leak, allow_none=True)

    def _set_tau(self, tau: Scalar) -> None:
        self._set_param("tau", tau)

    def rest_potential(self) -> Scalar:
        if self.v_leak is not None:
            return self.v_leak
        return 0.0 if self.v_reset is None else self.v_reset

    def decay(self) -> Scalar:
        return 1.0 / self.tau

    def neuronal_charge(self, x: Tensor, state: tuple) -> Tensor:
        return leaky_charge(x, state[0], self.decay(), self.rest_potential(), self.decay_input)

    def kernel_spec(self):
        if not (self._same_dynamics(LIFNode) or self._same_dynamics(ParametricLIFNode)):
            return None
        return self._spec(LIF, params={"decay": self.decay()}, options={"decay_input": self.decay_input})

    def _fused_obstacle(self) -> Optional[str]:
        if self.v_leak is not None:
            return "v_leak is set (the fused kernel leaks towards V_reset)"
        return super()._fused_obstacle()

    def extra_repr(self) -> str:
        tau = f"tensor{list(self.tau.shape)}" if isinstance(self.tau, Tensor) else self.tau
        leak = self.v_leak
        leak = "" if leak is None else f"v_leak={f'tensor{list(leak.shape)}' if isinstance(leak, Tensor) else leak}, "
        return f"tau={tau}, decay_input={self.decay_input}, {leak}" + super().extra_repr()


@NEURONS.register("plif", time_constant="init_tau")
class ParametricLIFNode(LIFNode):
    r"""LIF whose decay \(1/\tau = \mathrm{sigmoid}(w)\) is learned (Fang et al., ICCV 2021).

    w is initialised to -log(init_tau - 1) so that sigmoid(w) = 1 / init_tau. The charge is
    LIF's with 1/tau replaced by sigmoid(w). The fused kernel computes the gradient of w too.
    """

    def __init__(self, init_tau: Scalar = 2.0, decay_input: bool = True, **kwargs):
        check_tau(init_tau, type(self).__name__, "init_tau")
        super().__init__(tau=init_tau, decay_input=decay_input, **kwargs)

    def _set_tau(self, tau: Scalar) -> None:
        if isinstance(tau, Tensor):
            w0 = -torch.log(tau.detach().to(torch.get_default_dtype()) - 1.0)
        else:
            w0 = torch.tensor(-math.log(float(tau) - 1.0))
        self.w = nn.Parameter(w0)

    @property
    def tau(self) -> Tensor:
        """The current time constant 1 / sigmoid(w)."""
        return 1.0 / self.w.detach().sigmoid()

    def decay(self) -> Tensor:
        return self.w.sigmoid()

    def extra_repr(self) -> str:
        tau = self.tau
        tau = round(float(tau), 4) if tau.numel() == 1 else f"tensor{list(tau.shape)}"
        return f"tau={tau} (learned), decay_input={self.decay_input}, " + BaseNode.extra_repr(self)
