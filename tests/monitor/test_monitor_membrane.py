"""Membrane traces in both step modes, and store_v_seq switched on only while monitoring."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from spikesmith import neuron
from spikesmith.monitor import MembraneMonitor

from monitor_net import IF_V, LIF_V, build_net, run


def reference_if_trace(x: torch.Tensor, v_threshold: float = 1.0) -> torch.Tensor:
    """IF with hard reset to 0, written out directly: V = H (1 - S), H = V + X."""
    v, trace = torch.zeros_like(x[0]), []
    for x_t in x:
        h = v + x_t
        v = torch.where(h >= v_threshold, torch.zeros_like(h), h)
        trace.append(v)
    return torch.stack(trace)


def test_if_constant_input_trace(step_mode):
    node = neuron.IFNode(step_mode=step_mode)
    mon = MembraneMonitor(node)
    x = torch.full((7, 1), 0.4, dtype=torch.float64)
    if step_mode == "m":
        node(x)
    else:
        for x_t in x:
            node(x_t)
    trace = mon.trace("")
    assert trace.shape == (7, 1)
    assert torch.allclose(trace[:, 0], torch.tensor([0.4, 0.8, 0.0, 0.4, 0.8, 0.0, 0.4], dtype=torch.float64))
    assert torch.equal(trace, reference_if_trace(x))


def test_net_traces(net, x_seq, step_mode):
    mon = MembraneMonitor(net)
    run(net, x_seq, step_mode)
    traces = mon.traces()
    assert list(traces) == ["1", "3"]
    assert torch.allclose(traces["1"], IF_V)
    assert torch.equal(traces["3"], LIF_V)
    with torch.no_grad():
        currents = net[0](x_seq)
    assert torch.equal(traces["1"], reference_if_trace(currents))


def test_single_and_multi_step_traces_agree(x_seq):
    traces = {}
    for mode in ("s", "m"):
        net = build_net(mode)
        with MembraneMonitor(net) as mon:
            run(net, x_seq, mode)
        traces[mode] = mon.traces()
    for name in ("1", "3"):
        assert torch.equal(traces["s"][name], traces["m"][name])


def test_store_v_seq_is_switched_on_and_restored():
    net = build_net("m")
    net[3].store_v_seq = True  # the user's own setting must survive
    mon = MembraneMonitor(net)
    assert net[1].store_v_seq and net[3].store_v_seq
    mon.disable()
    assert not net[1].store_v_seq and net[3].store_v_seq
    mon.enable()
    assert net[1].store_v_seq
    mon.remove_hooks()
    assert not net[1].store_v_seq and net[3].store_v_seq


def test_without_store_v_seq_multi_step_is_an_error(x_seq):
    net = build_net("m")
    mon = MembraneMonitor(net, store_v_seq=False)
    assert not net[1].store_v_seq
    with pytest.raises(ValueError, match="store_v_seq"):
        net(x_seq)
    mon.remove_hooks()


def test_only_neurons():
    net = build_net("m")
    with pytest.raises(TypeError, match="not spiking neurons"):
        MembraneMonitor(net, instance=nn.Linear)


NEURONS = {
    "LIF soft reset": lambda mode: neuron.LIFNode(tau=3.0, v_reset=None, step_mode=mode),
    "ParametricLIF": lambda mode: neuron.ParametricLIFNode(step_mode=mode),
    "AdaptiveLIF": lambda mode: neuron.AdaptiveLIFNode(tau_adapt=5.0, beta=0.5, step_mode=mode),
    "Izhikevich": lambda mode: neuron.IzhikevichNode(step_mode=mode),
    "NonSpikingLIF": lambda mode: neuron.NonSpikingLIFNode(step_mode=mode),
}


@pytest.mark.parametrize("kind", list(NEURONS))
def test_every_neuron_single_and_multi_step_traces_agree(kind):
    torch.manual_seed(0)
    x = torch.rand(6, 3, 4, dtype=torch.float64) * (20.0 if kind == "Izhikevich" else 1.5)
    traces = []
    for mode in ("s", "m"):
        node = NEURONS[kind](mode).double()
        mon = MembraneMonitor(node)
        if mode == "m":
            node(x)
        else:
            for x_t in x:
                node(x_t)
        traces.append(mon.trace(""))
        assert torch.equal(traces[-1][-1], node.v)  # the last recorded V is the state carried on
    assert traces[0].shape == x.shape
    assert torch.allclose(traces[0], traces[1], rtol=0, atol=1e-12)
