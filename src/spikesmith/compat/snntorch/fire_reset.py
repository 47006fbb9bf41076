"""snnTorch's fire and reset rules, as pure functions of tensors.

With U(t) the membrane after the charge of step t and thr the threshold:

    fire:          S(t) = g Heaviside(U(t) - thr)   strict: U = thr does not spike; g: graded_spikes_factor
    reset signal:  R(t) = Heaviside(U(t-1) - thr)   taken from the membrane *before* this step's charge
    subtract:      U(t) = charge(U(t-1), X(t)) - R(t) thr      the reset lands one step late, undecayed
    zero:          the charged state times (1 - R(t)) (each neuron says which state is zeroed, and when)
    none:          no reset

So a neuron that crosses the threshold at t fires at t, reports U(t) above the threshold, and loses
thr at t + 1 (``reset_delay=True``, the default). With ``reset_delay=False`` the reset is also applied
at once: U(t) -= (S(t)/g - R(t)) thr (subtract) or (S(t)/g - R(t)) U(t) (zero). R carries no gradient.

``fire`` is spikesmith's ``dynamics.fire`` (S = spike_fn(U - thr)); only the spike function differs.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional, Union

import torch
from torch import Tensor

from ...dynamics import fire as shift_and_fire

Scalar = Union[float, Tensor]
MECHANISMS = ("subtract", "zero", "none")   # index = snnTorch's reset_mechanism_val


class FireParams(NamedTuple):
    """What fire and reset read, shared by every snnTorch neuron."""

    threshold: Scalar
    graded: Scalar                              # graded_spikes_factor
    mechanism: str                              # 'subtract' | 'zero' | 'none'
    spike_fn: Callable[[Tensor], Tensor]
    inhibition: bool = False
    quant: Optional[Callable[[Tensor], Tensor]] = None   # state_quant
    delay: bool = True                          # reset_delay


def reset_signal(mem: Tensor, p: FireParams) -> Tensor:
    """R = Heaviside(U(t-1) - thr), detached."""
    return p.spike_fn(mem - p.threshold).clone().detach()


def fire(mem: Tensor, p: FireParams) -> Tensor:
    """S = g Heaviside(U - thr); with ``inhibition`` only the largest membrane of each sample may fire."""
    if p.inhibition:
        return fire_inhibition(mem, p)
    if p.quant:
        mem = p.quant(mem)
    return shift_and_fire(mem, p.threshold, p.spike_fn) * p.graded


def fire_inhibition(mem: Tensor, p: FireParams) -> Tensor:
    """Winner-take-all per sample: S = Heaviside(U - thr) at argmax over dim 1, 0 elsewhere.

    As in snnTorch, the graded factor and state_quant are not applied here, and the reset signal of the
    next step still counts every neuron above the threshold, not only the winner.
    """
    if mem.dim() != 2:
        raise ValueError(f"inhibition=True needs input of shape [batch, features] (2 dims), got shape "
                         f"{list(mem.shape)}; flatten the input or build the neuron with inhibition=False")
    spikes = shift_and_fire(mem, p.threshold, p.spike_fn)
    winner = torch.zeros_like(spikes)
    winner[torch.arange(mem.size(0), device=mem.device), torch.argmax(mem - p.threshold, dim=1)] = 1
    return spikes * winner


def immediate_reset(mem: Tensor, spk: Tensor, reset: Tensor, p: FireParams) -> Tensor:
    """``reset_delay=False``: the reset of this step's spikes applied at once (the delayed one not twice)."""
    if p.delay or p.mechanism == "none":
        return mem
    do_reset = spk / p.graded - reset
    if p.mechanism == "subtract":
        return mem - do_reset * p.threshold
    return mem - do_reset * mem
