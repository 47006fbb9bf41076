"""snnTorch's ``utils.reset(net)``: zero every neuron's hidden state before a new batch.

snnTorch zeroes every instance of each neuron class it finds among ``net``'s direct children (in any
network); this zeroes every stateful module inside ``net`` and nothing outside it: the snnTorch-
compatible neurons (states zeroed in their shapes and detached, as snnTorch does) and spikesmith's own
(reset as ``functional.reset_net`` does).
"""

from __future__ import annotations

from torch import nn

from ...module import MemoryModule
from .neuron import SpikingNeuron


def reset(net: nn.Module) -> nn.Module:
    """Zero the hidden state of every neuron in ``net``; returns ``net``."""
    if not isinstance(net, nn.Module):
        raise TypeError(f"utils.reset: net must be an nn.Module, got {type(net).__name__}")
    for module in net.modules():
        if isinstance(module, SpikingNeuron):
            module.reset_hidden_state()
        elif isinstance(module, MemoryModule):
            module.reset()
    return net
