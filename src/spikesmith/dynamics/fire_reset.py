"""Fire and reset, shared by every neuron except Izhikevich.

fire:  S = Heaviside(H - V_th), Heaviside(0) = 1, with a surrogate gradient in backward.
reset: hard  V = H (1 - S) + V_reset S
       soft  V = H - V_th S            (``v_reset=None``; reset by subtraction)
With ``detach_reset`` the S used by the reset carries no gradient.

Non-finite inputs follow one rule, the same in every step mode and backend (``scan`` here, the fused
C++ and Triton kernels, whose hard reset is the select ``S ? V_reset : H``):

- a +Inf H spikes; a hard reset then sets V_reset, and the neuron goes on from V_reset
  (``H (1 - S)`` would be Inf * 0 = NaN, so the reset multiplies ``below_inf(H)``: +Inf becomes
  the dtype's largest finite number, and MAX * 0 + V_reset = V_reset);
- a soft reset is plain IEEE arithmetic: V = +Inf - V_th = +Inf, so the next charge decides (IF's
  H = V + X stays +Inf and fires at every step; a leaky charge's V + (X - V) decay is NaN);
- -Inf never spikes: V = -Inf, and again the next charge decides (IF stays at -Inf, LIF turns NaN);
- a state variable other than V that reads H follows IEEE arithmetic too (adLIF's adaptation
  w' = beta w + a H + b S becomes infinite after +Inf);
- NaN never spikes and leaves a NaN membrane, which stays NaN; debug mode
  (``spikesmith.set_debug``) reports it with the layer's name.

For finite H the hard reset's value and gradient are those of ``H (1 - S) + V_reset S``, bit for bit
(the clamp is the identity there, and its backward passes the gradient unchanged). One corner
differs from the kernels' select: an infinite threshold never fires, and a +Inf H then leaves the
largest finite number instead of +Inf (``multi_step`` refuses infinite thresholds).
"""

from __future__ import annotations
from typing import Callable, Optional, Union

import torch
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
        return below_inf(h) * (1.0 - s)
    return below_inf(h) * (1.0 - s) + v_reset * s


def below_inf(h: Tensor) -> Tensor:
    """``h`` with +Inf replaced by the largest finite number of its dtype (NaN and -Inf unchanged):
    what a hard reset multiplies by 1 - S, so that a spike from +Inf gives V_reset, not Inf * 0 = NaN.
    The identity, value and gradient, for every finite ``h``."""
    return h.clamp(max=torch.finfo(h.dtype).max)
