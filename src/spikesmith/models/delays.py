"""The synapses behind a family's ``delays`` option, by name (``DELAY_SYNAPSES``), and the parameter count
that matches variants with and without delays.

    syn = delay_synapse("learnable", 140, 256, max_delay=25)     # layer.LearnableDelay, multi-step
    count_parameters(net)                                         # weights + delays (learned or fixed)

``none``: ``layer.Linear``; ``fixed``: ``layer.DelayedLinear`` with one delay per synapse drawn uniformly
in [0, max_delay] from torch's generator (seeded with the run); ``learnable``: ``layer.LearnableDelay``.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from .. import layer
from ..registry import Registry

__all__ = ["DELAY_SYNAPSES", "count_parameters", "delay_synapse", "refuse_delays_for_feedback"]

DELAY_SYNAPSES: Registry[Callable[..., nn.Module]] = Registry("delay kind")


@DELAY_SYNAPSES.register("none")
def _plain(n_in: int, n_out: int, max_delay: int, bias: bool) -> nn.Module:
    return layer.Linear(n_in, n_out, bias=bias, step_mode="m")


@DELAY_SYNAPSES.register("fixed")
def _fixed(n_in: int, n_out: int, max_delay: int, bias: bool) -> nn.Module:
    delays = torch.randint(0, max_delay + 1, (n_out, n_in))
    return layer.DelayedLinear(n_in, n_out, delays, bias=bias, step_mode="m")


@DELAY_SYNAPSES.register("learnable")
def _learnable(n_in: int, n_out: int, max_delay: int, bias: bool) -> nn.Module:
    return layer.LearnableDelay(n_in, n_out, max_delay=max_delay, bias=bias, step_mode="m")


def delay_synapse(kind: str, n_in: int, n_out: int, max_delay: int = layer.learnable_delay.MAX_DELAY,
                  bias: bool = False) -> nn.Module:
    """Multi-step synapses ``n_in -> n_out`` of delay kind ``kind`` (``none``, ``fixed``, ``learnable``)."""
    return DELAY_SYNAPSES.get(kind)(n_in, n_out, max_delay, bias)


def count_parameters(model: nn.Module) -> int:
    """The parameters of ``model`` with every delay counted: learned positions are parameters already, and
    each fixed delay of a ``Delay`` / ``DelayedLinear`` counts as one more (so that networks with fixed,
    learned and no delays compare on one scale). Lazily shaped parameters must be materialised first."""
    params = list(model.parameters())
    if any(isinstance(p, nn.parameter.UninitializedParameter) for p in params):
        raise ValueError("count_parameters: the model has lazily shaped parameters (e.g. AdLIFNode() without shape); "
                         "run one batch through it first, or give the neurons their shape")
    fixed = sum(m.delays.numel() for m in model.modules() if isinstance(m, (layer.Delay, layer.DelayedLinear)))
    return sum(p.numel() for p in params) + fixed


def refuse_delays_for_feedback(model: nn.Module) -> None:
    """Feedback alignment routes the error through Linear weights; a network with delayed synapses has no plan."""
    if any(isinstance(m, (layer.DelayedLinear, layer.LearnableDelay)) for m in model.modules()):
        raise ValueError(f"{type(model).__name__} with delays has no feedback-alignment plan (fa/dfa route the error "
                         f"through plain Linear synapses); train it with --feedback bp or without delays")
