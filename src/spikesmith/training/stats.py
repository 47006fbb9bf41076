"""Running per-layer firing rates through forward hooks (constant memory, removable)."""

from __future__ import annotations

from torch import Tensor, nn

from ..layer import SpikingGRU, SpikingLSTM
from ..neuron import BaseNode
from ..neuron.parallel import ParallelNode

#: neuron modules whose output is a layer's spikes (if their ``emits_spikes`` says so): the
#: charge-fire-reset neurons and the parallel ones (PSN, MaskedPSN, SlidingPSN)
SPIKING_NEURONS = (BaseNode, ParallelNode)

#: layers that step their own spiking cells (no neuron module to hook): their output is the last
#: layer's spikes, signed (pos - neg) where ``signed_output='difference'``, so a rate counts |spikes|
SPIKING_STACKS = (SpikingLSTM, SpikingGRU)


class FiringRateMeter:
    """Mean spike rate of every spiking neuron layer of ``net`` over everything it runs on.

    >>> meter = FiringRateMeter(net)
    >>> net(x_seq); meter.rates()        # {'3': 0.12, '7': 0.05}
    >>> meter.remove()
    """

    def __init__(self, net: nn.Module, keep_graph: bool = False):
        self.keep_graph = keep_graph
        self._outputs: list[Tensor] = []
        self.sums: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        self._handles = []
        for name, module in net.named_modules():
            if (isinstance(module, SPIKING_NEURONS) and module.emits_spikes) or isinstance(module, SPIKING_STACKS):
                self._handles.append(module.register_forward_hook(
                    self._hook(name or type(module).__name__, signed=isinstance(module, SPIKING_STACKS))))

    def _hook(self, name: str, signed: bool = False):
        def record(module: nn.Module, inputs, output: Tensor) -> None:
            if signed:
                output = output.abs()
            if self.keep_graph and output.requires_grad:
                self._outputs.append(output.mean())
            self.sums[name] = self.sums.get(name, 0.0) + float(output.detach().sum())
            self.counts[name] = self.counts.get(name, 0) + output.numel()
        return record

    def rates(self) -> dict[str, float]:
        return {k: self.sums[k] / max(self.counts[k], 1) for k in self.sums}

    def take_outputs(self) -> list[Tensor]:
        """The mean output of each layer call since the last take, still attached to the graph."""
        out, self._outputs = self._outputs, []
        return out

    def clear(self) -> None:
        self.sums.clear()
        self.counts.clear()

    def remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()
