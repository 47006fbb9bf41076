"""Fire and reset, shared by every neuron except Izhikevich.

fire:  S = Heaviside(H - V_th), Heaviside(0) = 1, with a surrogate gradient in backward.
reset: hard  V = H (1 - S) + V_reset S
       soft  V = H - V_th S            (``v_reset=None``; reset by subtraction)
With ``detach_reset`` the S used by the reset carries no gradient.
"""

from __future__ import annotations

from typing import Callable, Optional, Union

from torch import Tensor

Scalar = Union[float, Tensor]


def fire(h: Tensor, v_threshold: Scalar, spike_fn: Callable[[Tensor], Tensor]) -> Tensor:
    """S = spike_fn(H - V_th); ``spike_fn`` is a surrogate spike function."""
    return spike_fn(h - v_threshold)


def reset(
    h: Tensor, s: Tensor, v_threshold: Scalar, v_reset: Optional[Scalar], detach_reset: bool = False
) -> Tensor:
    """Membrane potential after the reset (hard if ``v_reset`` is set, soft if None)."""
    if detach_reset:
        s = s.detach()
    if v_reset is None:
        return h - v_threshold * s
    if isinstance(v_reset, float) and v_reset == 0.0:
        return h * (1.0 - s)
    return h * (1.0 - s) + v_reset * s
