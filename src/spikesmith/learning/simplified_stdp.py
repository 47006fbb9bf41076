"""The simplified STDP of the STDP-trained deep spiking CNN (Kheradpisheh et al. 2018): each neuron
fires at most once, so only the order of the pre- and the postsynaptic spike matters::

    dw_ij = + a_plus  w_ij (1 - w_ij)    if t_j <= t_i   (the input fired before or with the neuron)
    dw_ij = - a_minus w_ij (1 - w_ij)    otherwise       (it fired later, or never)

The factor ``w (1 - w)`` keeps weights inside [0, 1] and slows learning near the bounds; the rule
moves every synapse of a winner (``learning.winner_take_all.select_winners``) by its sign only.
``convergence(w) = mean w (1 - w)`` falls towards 0 as the weights settle near 0 or 1 (the paper
stops learning a layer below 0.01).

A convolutional map shares one kernel, so a winner at ``(map, y, x)`` firing at step ``t`` updates
``weight[map]`` from its receptive field, the inputs ``input_times[:, y:y+k, x:x+k] <= t``
(``stdp_conv_winners``, unpadded convolution with stride 1).
"""

from __future__ import annotations

import math
import numbers
from typing import Iterable

import torch
from torch import Tensor

from .winner_take_all import Winner

__all__ = ["check_stdp_rates", "convergence", "simplified_stdp", "stdp_conv_winners"]


def check_stdp_rates(a_plus: float, a_minus: float, where: str = "simplified STDP") -> tuple[float, float]:
    """Both rates as floats, or a ValueError naming the fix (a_plus > 0; a_minus >= 0)."""
    for name, value, low in (("a_plus", a_plus, "> 0"), ("a_minus", a_minus, ">= 0")):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise ValueError(f"{where}: {name} must be a finite number {low}, got {value!r}")
    if not a_plus > 0:
        raise ValueError(f"{where}: a_plus must be > 0 (the potentiation rate, e.g. 0.004), got {a_plus}; "
                         f"to keep the filters at their random start, train on no images instead")
    if not a_minus >= 0:
        raise ValueError(f"{where}: a_minus must be >= 0 (the depression rate is a magnitude, e.g. 0.003), "
                         f"got {a_minus}")
    return float(a_plus), float(a_minus)


def simplified_stdp(weight: Tensor, pre_first: Tensor, a_plus: float, a_minus: float) -> Tensor:
    """The change ``dw`` of ``weight`` (see the module docstring); ``pre_first`` (bool, ``weight``'s
    shape) is True where the input fired before or with the neuron."""
    a_plus, a_minus = check_stdp_rates(a_plus, a_minus)
    if not isinstance(pre_first, Tensor) or pre_first.shape != weight.shape:
        raise ValueError(f"simplified_stdp: pre_first must be a bool tensor of the weight's shape "
                         f"{list(weight.shape)}, got {getattr(pre_first, 'shape', type(pre_first).__name__)}")
    room = weight * (1 - weight)
    return torch.where(pre_first.bool(), a_plus * room, -a_minus * room)


def convergence(weight: Tensor) -> float:
    """``mean w (1 - w)``: 0.25 at w = 0.5 everywhere, 0 once every weight sits at 0 or 1."""
    return float((weight * (1 - weight)).mean())


def stdp_conv_winners(weight: Tensor, input_times: Tensor, winners: Iterable[Winner], a_plus: float,
                      a_minus: float) -> Tensor:
    """The kernel ``weight`` ``[maps, C, k, k]`` after the STDP of ``winners`` (one image, input spike
    times ``[C, H, W]``, ``inf``: silent), clamped to [0, 1]; a new tensor."""
    if weight.dim() != 4 or input_times.dim() != 3 or input_times.shape[0] != weight.shape[1]:
        raise ValueError(f"stdp_conv_winners: weight must be [maps, C, k, k] and input_times [C, H, W] with the same C, "
                         f"got {list(weight.shape)} and {list(input_times.shape)}")
    kh, kw = weight.shape[-2:]
    new = weight.clone()
    for w in winners:
        field = input_times[:, w.y:w.y + kh, w.x:w.x + kw]
        if field.shape[-2:] != (kh, kw):
            raise ValueError(f"stdp_conv_winners: winner at ({w.y}, {w.x}) lies outside the unpadded output of a "
                             f"{list(input_times.shape[-2:])} input and a {kh} x {kw} kernel")
        new[w.map] += simplified_stdp(weight[w.map], field <= w.time, a_plus, a_minus)
    return new.clamp_(0.0, 1.0)
