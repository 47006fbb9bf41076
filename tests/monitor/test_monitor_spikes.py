"""Firing rates and spike counts against hand computation (see conftest for the spike trains)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from spikesmith import functional, neuron
from spikesmith.monitor import SpikeMonitor, firing_rate, spike_count

from monitor_net import IF_SPIKES, run


def test_firing_rate_and_spike_count_helpers():
    s = torch.tensor([[[1, 0, 0, 0]], [[1, 1, 0, 0]]], dtype=torch.bool)  # T=2, N=1, C=4
    assert firing_rate(s).item() == 3 / 8 and firing_rate(s).is_floating_point()
    assert torch.equal(firing_rate(s, dim=0), torch.tensor([[1.0, 0.5, 0.0, 0.0]]))
    assert torch.equal(firing_rate(s, dim=(0, 1)), torch.tensor([1.0, 0.5, 0.0, 0.0]))
    assert firing_rate(s, dim=0, keepdim=True).shape == (1, 1, 4)
    assert spike_count(s).item() == 3
    assert torch.equal(spike_count(s, dim=0), torch.tensor([[2.0, 1.0, 0.0, 0.0]]))
    with pytest.raises(TypeError, match="spikes must be a torch.Tensor"):
        firing_rate([0, 1])
    with pytest.raises(ValueError, match="empty"):
        spike_count(torch.zeros(0, 3))


def test_layer_rates_and_counts(net, x_seq, step_mode):
    mon = SpikeMonitor(net)
    run(net, x_seq, step_mode)
    # IF: 7 spikes in T*N*C = 5*2*2 = 20 entries; LIF: 2 spikes in 5*2*1 = 10
    assert mon.firing_rates() == {"1": pytest.approx(0.35, abs=1e-15), "3": pytest.approx(0.2, abs=1e-15)}
    assert mon.spike_counts() == {"1": 7.0, "3": 2.0}


def test_per_neuron_rates_and_counts(net, x_seq, step_mode):
    mon = SpikeMonitor(net)
    run(net, x_seq, step_mode)
    rates = mon.firing_rates(per_neuron=True)
    # IF neuron 0 spikes 1 + 2 times, neuron 1 2 + 2 times, over T*N = 10 (step, sample) pairs
    assert torch.allclose(rates["1"], torch.tensor([0.3, 0.4], dtype=torch.float64))
    assert torch.allclose(rates["3"], torch.tensor([0.2], dtype=torch.float64))
    counts = mon.spike_counts(per_neuron=True)
    assert torch.equal(counts["1"], torch.tensor([3.0, 4.0], dtype=torch.float64))
    assert torch.equal(rates["1"], firing_rate(IF_SPIKES, dim=(0, 1)))


def test_rates_over_batches_of_different_sizes():
    net = nn.Sequential(neuron.IFNode(step_mode="m"))
    mon = SpikeMonitor(net)
    net(torch.full((4, 1, 3), 0.5))  # spikes at t = 1, 3: 6 of 12
    functional.reset_net(net)
    net(torch.zeros(2, 3, 3))  # 0 of 18
    assert mon.firing_rates() == {"0": pytest.approx(6 / 30)}
    assert torch.allclose(mon.firing_rates(per_neuron=True)["0"], torch.full((3,), 2 / 10))


def test_non_spiking_readouts_are_left_out_by_default():
    net = nn.Sequential(neuron.IFNode(), neuron.IntegratorNode(), neuron.NonSpikingLIFNode())
    assert SpikeMonitor(net).monitored_layers == ["0"]
    assert SpikeMonitor(net, instance=neuron.IntegratorNode).monitored_layers == ["1"]


def test_rates_before_any_record(net):
    mon = SpikeMonitor(net)
    with pytest.raises(ValueError, match="nothing recorded yet"):
        mon.firing_rates()
