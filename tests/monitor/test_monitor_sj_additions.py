"""GradInputMonitor, mon[i] indexing and AttributeMonitor(pre_forward=True)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from spikesmith import functional, layer, monitor, neuron, surrogate

pytestmark = pytest.mark.usefixtures("one_thread")


def _net():
    torch.manual_seed(0)
    net = nn.Sequential(layer.Linear(3, 4), neuron.LIFNode(surrogate_function=surrogate.ATan()),
                        layer.Linear(4, 2), neuron.LIFNode(surrogate_function=surrogate.ATan()))
    functional.set_step_mode(net, "m")
    return net


def test_grad_input_monitor_records_the_gradient_reaching_each_input():
    net = _net()
    mon = monitor.GradInputMonitor(net)
    x = torch.rand(5, 2, 3) * 3
    h = net[0](x).detach().requires_grad_(True)              # the first neuron's input, made a leaf
    (net[3](net[2](net[1](h)))).sum().backward()
    assert mon.monitored_layers == ["1", "3"]
    torch.testing.assert_close(mon["1"][0], h.grad)
    assert mon["3"][0].shape == (5, 2, 2)
    functional.reset_net(net)
    with torch.no_grad():
        net(x)                                                # no graph: nothing recorded
    assert len(mon["1"]) == 1
    mon.remove_hooks()


def test_records_index_by_position_and_by_name():
    net = _net()
    mon = monitor.OutputMonitor(net)
    net(torch.rand(5, 2, 3) * 3)
    assert torch.equal(mon[0], mon["1"][0]) and torch.equal(mon[1], mon["3"][0]) and torch.equal(mon[-1], mon[1])
    with pytest.raises(ValueError, match="record index 2 is out of range, 2 records"):
        mon[2]


def test_attribute_monitor_pre_forward_reads_the_state_a_call_starts_from():
    node = neuron.IFNode()
    before = monitor.AttributeMonitor("v", node, pre_forward=True)
    after = monitor.AttributeMonitor("v", node)
    for _ in range(3):
        node(torch.full((1,), 0.4))
    assert before[""][0] == 0.0                               # V before the first call: the reset value
    torch.testing.assert_close(before[""][1], after[""][0])
    torch.testing.assert_close(before[""][2], after[""][1])
    with pytest.raises(TypeError, match="pre_forward must be a bool"):
        monitor.AttributeMonitor("v", node, pre_forward="yes")
