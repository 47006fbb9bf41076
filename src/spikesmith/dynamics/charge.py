"""Charge equations H(t) = f(V(t-1), X(t)).

Shapes: ``x`` and ``v`` are ``N x ...``; parameters are Python floats or tensors that
broadcast to ``x`` (per-channel or per-neuron values).
"""

from __future__ import annotations

from typing import Union

from torch import Tensor

Scalar = Union[float, Tensor]


def if_charge(x: Tensor, v: Tensor) -> Tensor:
    """Integrate-and-fire: H = V + X."""
    return v + x


def leaky_charge(x: Tensor, v: Tensor, decay: Scalar, v_rest: Scalar = 0.0, decay_input: bool = True) -> Tensor:
    """Leaky integrate-and-fire with ``decay = 1 / tau``.

    decay_input=True:   H = V + (X - (V - V_rest)) / tau
    decay_input=False:  H = V - (V - V_rest) / tau + X

    ``v_rest`` is V_reset for a hard reset and 0 for a soft reset.
    """
    if decay_input:
        if isinstance(v_rest, float) and v_rest == 0.0:
            return v + (x - v) * decay
        return v + (x - (v - v_rest)) * decay
    if isinstance(v_rest, float) and v_rest == 0.0:
        return v - v * decay + x
    return v - (v - v_rest) * decay + x


def izhikevich_charge(
    x: Tensor, v: Tensor, u: Tensor, a: Scalar, b: Scalar, dt: float
) -> tuple[Tensor, Tensor]:
    """One forward-Euler step of Izhikevich (2003), in mV and ms.

    dv/dt = 0.04 v^2 + 5 v + 140 - u + I
    du/dt = a (b v - u)

    Returns the charged (v, u); the update of u uses the previous v.
    """
    h = v + dt * (0.04 * v * v + 5.0 * v + 140.0 - u + x)
    u_next = u + dt * a * (b * v - u)
    return h, u_next
