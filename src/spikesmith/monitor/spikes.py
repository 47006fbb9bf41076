"""Firing rates and spike counts: two tensor helpers and a monitor that collects them per layer.

    firing_rate(S, dim) = mean of S over ``dim``       spike_count(S, dim) = sum of S over ``dim``

>>> s_seq = net(x_seq)                      # T x N x C spikes
>>> firing_rate(s_seq, dim=0)               # N x C: each neuron's rate over time, per sample
>>> mon = SpikeMonitor(net); net(x_seq)
>>> mon.firing_rates()                      # {'sn1': 0.125, 'sn2': 0.0625}
>>> mon.firing_rates(per_neuron=True)["sn1"].shape     # C: mean over time and batch
"""

from __future__ import annotations

import math
from typing import Optional, Union

import torch
from torch import Tensor, nn

from ..neuron import IntegratorNode, NonSpikingLIFNode
from .base import InstanceSpec
from .forward import OutputMonitor

Dims = Union[int, tuple, list, None]


def _as_float(spikes: Tensor, owner: str) -> Tensor:
    if not isinstance(spikes, Tensor):
        raise TypeError(f"{owner}: spikes must be a torch.Tensor, got {type(spikes).__name__}")
    if spikes.numel() == 0:
        raise ValueError(f"{owner}: spikes is empty (shape {list(spikes.shape)})")
    return spikes if spikes.is_floating_point() else spikes.to(torch.get_default_dtype())


def firing_rate(spikes: Tensor, dim: Dims = None, keepdim: bool = False) -> Tensor:
    """The mean of ``spikes`` over ``dim`` (an int or a tuple; None: over everything).

    Bool and integer spikes are converted to the default float dtype first.
    ``firing_rate(s_seq, dim=0)`` on ``T x N x ...`` gives ``N x ...`` rates over time.
    """
    spikes = _as_float(spikes, "firing_rate")
    if dim is None:
        return spikes.mean()
    return spikes.mean(dim=dim, keepdim=keepdim)


def spike_count(spikes: Tensor, dim: Dims = None, keepdim: bool = False) -> Tensor:
    """The sum of ``spikes`` over ``dim`` (an int or a tuple; None: over everything).

    ``spike_count(s_seq, dim=0)`` on ``T x N x C`` gives ``N x C`` counts (a rate-coded readout).
    """
    spikes = _as_float(spikes, "spike_count")
    if dim is None:
        return spikes.sum()
    return spikes.sum(dim=dim, keepdim=keepdim)


class SpikeMonitor(OutputMonitor):
    """Record the spikes of every spiking neuron and summarise them per layer.

    Args:
        net: the network.
        instance: neuron classes to watch; by default every ``BaseNode`` except the non-spiking
            readouts (``IntegratorNode``, ``NonSpikingLIFNode``), whose outputs are potentials.
        to_cpu: store the recorded spikes on the CPU.

    Rates and counts are taken over everything recorded since the last ``clear_recorded_data()``
    (batches of different sizes and lengths may be mixed). Layers without records are left out.
    """

    _default_exclude = (IntegratorNode, NonSpikingLIFNode)

    def __init__(self, net: nn.Module, instance: Optional[InstanceSpec] = None, to_cpu: bool = False):
        super().__init__(net, instance, None, to_cpu)

    def _reduce(self, per_neuron: bool, step_mode: Optional[str], mean: bool) -> dict:
        owner = type(self).__name__
        if not any(self._name_records[n] for n in self.monitored_layers):
            raise ValueError(f"{owner}: nothing recorded yet; run the network while the monitor is enabled")
        out = {}
        for name in self.monitored_layers:
            records = self._name_records[name]
            if not records:
                continue
            total, count = 0.0, 0
            for value, mode in zip(records, self._modes[name]):
                value = _as_float(value, owner)
                mode = step_mode or mode
                if not per_neuron:
                    total = total + value.sum(dtype=torch.float64).item()
                    count += value.numel()
                    continue
                if mode not in ("s", "m"):
                    raise ValueError(
                        f"{owner}: layer {name!r} has no step mode; pass step_mode='s' (records N x ...) "
                        f"or 'm' (records T x N x ...)"
                    )
                dims = (0,) if mode == "s" else (0, 1)
                total = total + value.sum(dim=dims, dtype=torch.float64)
                count += math.prod(value.shape[d] for d in dims)
            if per_neuron:
                result = total / count if mean else total
                out[name] = result.to(records[0].dtype if records[0].is_floating_point() else torch.get_default_dtype())
            else:
                out[name] = total / count if mean else total
        return out

    def firing_rates(self, per_neuron: bool = False, step_mode: Optional[str] = None) -> dict:
        """``{name: rate}``: the fraction of (time step, sample, neuron) entries that spiked.

        ``per_neuron=True`` gives each layer's rates as a tensor of one sample's neuron shape
        (mean over time and batch). ``step_mode`` overrides the recorded one (plain modules).
        """
        return self._reduce(per_neuron, step_mode, mean=True)

    def spike_counts(self, per_neuron: bool = False, step_mode: Optional[str] = None) -> dict:
        """``{name: count}``: the number of spikes recorded (per neuron: summed over time and batch)."""
        return self._reduce(per_neuron, step_mode, mean=False)


__all__ = ["SpikeMonitor", "firing_rate", "spike_count"]
