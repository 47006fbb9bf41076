"""OutputMonitor, InputMonitor and AttributeMonitor record what the modules really saw and gave."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from spikesmith import functional, neuron
from spikesmith.monitor import AttributeMonitor, InputMonitor, OutputMonitor

from monitor_net import IF_SPIKES, IF_V, LIF_SPIKES, T, build_net, run


def test_names_match_named_modules(net):
    mon = OutputMonitor(net)
    expected = [n for n, m in net.named_modules() if isinstance(m, neuron.BaseNode)]
    assert mon.monitored_layers == expected == ["1", "3"]
    assert list(mon) == expected and "1" in mon and "0" not in mon
    both = OutputMonitor(net, instance=(nn.Linear, neuron.LIFNode))
    assert both.monitored_layers == ["0", "2", "3"]


def test_nested_names_are_qualified():
    net = nn.Sequential(nn.Linear(1, 1))
    net.add_module("block", nn.Sequential(nn.Identity(), neuron.IFNode()))
    mon = OutputMonitor(net)
    assert mon.monitored_layers == ["block.1"]
    net(torch.ones(3, 1))
    assert len(mon["block.1"]) == 1


def test_recorded_spikes_equal_outputs(net, x_seq, step_mode):
    mon = OutputMonitor(net)
    out = run(net, x_seq, step_mode)
    n_calls = 1 if step_mode == "m" else T
    assert len(mon["1"]) == len(mon["3"]) == n_calls
    assert len(mon.records) == 2 * n_calls
    assert torch.equal(mon.sequence("1"), IF_SPIKES)
    assert torch.equal(mon.sequence("3"), LIF_SPIKES)
    last = mon["3"][-1]
    assert torch.equal(last, out if step_mode == "m" else out[-1])
    assert mon.record_step_modes("1") == [step_mode] * n_calls


def test_single_and_multi_step_record_the_same(x_seq):
    seqs = {}
    for mode in ("s", "m"):
        net = build_net(mode)
        mon = OutputMonitor(net, instance=(nn.Linear, neuron.BaseNode))
        run(net, x_seq, mode)
        # plain Linear modules have no step mode of their own: say it
        seqs[mode] = {n: mon.sequence(n, step_mode=mode) for n in mon.monitored_layers}
    assert seqs["s"].keys() == seqs["m"].keys()
    for name in seqs["s"]:
        assert torch.equal(seqs["s"][name], seqs["m"][name]), name


def test_records_are_detached_copies():
    node = neuron.IFNode(step_mode="m")
    mon = OutputMonitor(node)
    x = torch.full((3, 2), 0.6, requires_grad=True)
    out = node(x)
    rec = mon[""][0]
    assert not rec.requires_grad and rec.data_ptr() != out.data_ptr()
    out.detach().mul_(0)  # an in-place change downstream must not reach the record
    assert torch.equal(rec, torch.tensor([[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]]))


def test_function_on_output_and_to_cpu(net, x_seq, step_mode):
    mon = OutputMonitor(net, function_on_output=lambda s: s.sum(), to_cpu=True)
    run(net, x_seq, step_mode)
    total = sum(float(r) for r in mon["1"])
    assert total == IF_SPIKES.sum().item() == 7.0
    assert all(r.device.type == "cpu" and r.dim() == 0 for r in mon["1"])


def test_input_monitor_sees_the_linear_output(net, x_seq, step_mode):
    mon = InputMonitor(net)
    run(net, x_seq, step_mode)
    currents = torch.tensor([[0.4, 0.5], [0.6, 0.75]], dtype=torch.float64).expand(T, 2, 2)
    assert torch.allclose(mon.sequence("1"), currents)
    assert torch.equal(mon.sequence("3"), IF_SPIKES.sum(-1, keepdim=True))


def test_attribute_monitor_v(net, x_seq, step_mode):
    mon = AttributeMonitor("v", net)
    run(net, x_seq, step_mode)
    if step_mode == "s":
        assert torch.allclose(mon.sequence("1"), IF_V)
    else:  # one call: v after the last step
        assert len(mon["1"]) == 1 and torch.allclose(mon["1"][0], IF_V[-1])


def test_attribute_monitor_v_seq(x_seq):
    net = build_net("m")
    net[1].store_v_seq = True
    mon = AttributeMonitor("v_seq", net, instance=neuron.IFNode)
    net(x_seq)
    assert torch.allclose(mon["1"][0], IF_V)
    functional.reset_net(net)
    missing = AttributeMonitor("v_seq", net, instance=neuron.LIFNode)
    with pytest.raises(ValueError, match="store_v_seq=True"):
        net(x_seq)
    missing.remove_hooks()


def test_attribute_monitor_unknown_attribute(net):
    with pytest.raises(ValueError, match="no attribute 'membrane'"):
        AttributeMonitor("membrane", net)
    with pytest.raises(TypeError, match="attribute_name"):
        AttributeMonitor(None, net)


def test_bad_arguments(net):
    with pytest.raises(TypeError, match="net must be a torch.nn.Module"):
        OutputMonitor([net])
    with pytest.raises(TypeError, match="instance must be an nn.Module subclass"):
        OutputMonitor(net, instance="IFNode")
    with pytest.raises(TypeError, match="instance must be"):
        OutputMonitor(net, instance=(neuron.IFNode, int))
    with pytest.raises(ValueError, match="no submodule that is an instance of \\(Conv2d\\)"):
        OutputMonitor(net, instance=nn.Conv2d)
    with pytest.raises(TypeError, match="function_on_output must be callable"):
        OutputMonitor(net, function_on_output=3)
    mon = OutputMonitor(net)
    with pytest.raises(KeyError, match="monitored layers"):
        mon["0"]


def test_sequence_errors(x_seq):
    net = build_net("m")
    mon = OutputMonitor(net, instance=(nn.Linear, neuron.IFNode))
    with pytest.raises(ValueError, match="has no records"):
        mon.sequence("1")
    net(x_seq)
    with pytest.raises(ValueError, match="pass step_mode="):
        mon.sequence("0")
    functional.reset_net(net)
    net(x_seq[:, :1])  # a second batch of another size
    with pytest.raises(ValueError, match="clear_recorded_data"):
        mon.sequence("1")
    mon.clear_recorded_data()
    assert mon.records == [] and mon["1"] == []
    functional.reset_net(net)
    net(x_seq[:, :1])
    assert mon.sequence("1").shape == (T, 1, 2)
