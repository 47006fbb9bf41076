"""OTTT (online training through time) and weight standardisation in spikesmith.compat.spikingjelly:
``neuron.OTTTLIFNode``, ``layer.OTTTSequential``, ``ReplaceforGrad``, ``WSConv2d``, ``WSLinear``
(the zoo's ``spiking_vggws_ottt`` builds on them)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from spikesmith.compat.spikingjelly.activation_based import functional, layer, neuron

pytestmark = pytest.mark.usefixtures("one_thread")


def test_ottt_neuron_by_hand_spikes_and_trace():
    node = neuron.OTTTLIFNode()          # tau 2, input not decayed, soft reset
    x = torch.tensor([0.6])
    spikes, traces = [], []
    for _ in range(4):
        spike, trace = node(x)
        spikes.append(spike.item())
        traces.append(trace.item())
    # H = V - V/2 + 0.6: 0.6, 0.9, 1.05 (fires, keeps 0.05), 0.625 ; trace = trace/2 + spike
    assert spikes == [0.0, 0.0, 1.0, 0.0]
    assert traces == [0.0, 0.0, 1.0, 0.5]
    assert node.v.item() == pytest.approx(0.625)
    node.eval()
    functional.reset_net(node)
    assert node.trace is None
    assert isinstance(node(x), torch.Tensor)             # eval: the spikes alone


def test_ottt_neuron_cuts_the_gradient_through_time():
    node = neuron.OTTTLIFNode(v_threshold=0.5)
    x1 = torch.tensor([0.4], requires_grad=True)
    x2 = torch.tensor([0.4], requires_grad=True)
    node(x1)
    spike, trace = node(x2)                              # H = 0.4 - 0.2 + 0.4 = 0.6: fires
    assert spike.item() == 1.0 and not trace.requires_grad
    spike.backward()
    assert x1.grad is None and x2.grad.item() > 0        # the membrane entered step 2 detached


def test_ottt_neuron_is_single_step_only():
    with pytest.raises(ValueError, match="single-step only"):
        neuron.OTTTLIFNode(step_mode="m")


def test_replace_for_grad_gives_the_second_value_and_both_gradients():
    a, b = torch.tensor([1.0], requires_grad=True), torch.tensor([5.0], requires_grad=True)
    y = layer.ReplaceforGrad.apply(a, b)
    (3 * y).backward()
    assert y.item() == 5.0 and a.grad.item() == 3.0 and b.grad.item() == 3.0


def test_ottt_sequential_takes_weight_gradients_from_the_trace():
    torch.manual_seed(0)
    first, second = nn.Linear(3, 4), nn.Linear(4, 2)
    node = neuron.OTTTLIFNode(v_threshold=0.3)
    net = layer.OTTTSequential(first, node, second)
    emitted = []
    node.register_forward_hook(lambda module, inputs, out: emitted.append(out))
    x = torch.rand(5, 3) * 2
    net(x)                                               # a first step, so that the trace is not the spikes
    y = net(x)
    spike, trace = emitted[-1]
    assert not torch.equal(spike, trace)
    assert torch.allclose(y, second(spike))              # the value comes from the spikes
    y.sum().backward()
    # the gradient as if the input were the trace: d sum(y) / d W2 = the trace summed over the batch
    assert torch.allclose(second.weight.grad, trace.sum(0).expand(2, 4))


def test_ws_layers_standardise_each_output_weight():
    torch.manual_seed(0)
    conv, linear = layer.WSConv2d(2, 3, 3, padding=1), layer.WSLinear(5, 4)
    assert isinstance(conv, layer.Conv2d) and isinstance(linear, layer.Linear)
    with torch.no_grad():
        conv.gain.fill_(2.0)
    for module, dims in ((conv, (1, 2, 3)), (linear, (1,))):
        w = module.weight.detach().double()
        fan_in = math.prod(w.shape[1:])
        expected = (w - w.mean(dims, keepdim=True)) / (w.var(dims, keepdim=True) * fan_in + 1e-4).sqrt()
        assert torch.allclose(module.get_weight().double(), expected * module.gain.detach().double(), atol=1e-6)
    x = torch.rand(2, 2, 4, 4)
    assert torch.allclose(conv(x), F.conv2d(x, conv.get_weight(), conv.bias, padding=1))
    assert torch.allclose(linear(torch.ones(3, 5)), F.linear(torch.ones(3, 5), linear.get_weight(), linear.bias))
    assert list(dict(conv.named_parameters())) == ["weight", "bias", "gain"]
    assert layer.WSConv2d(2, 3, 3, gain=False).gain is None


def _ottt_net(module):
    return module.layer.OTTTSequential(
        module.layer.WSConv2d(2, 4, 3, padding=1), module.neuron.OTTTLIFNode(),
        module.layer.MaxPool2d(2), module.layer.Flatten(1), module.layer.WSLinear(16, 6),
        module.neuron.OTTTLIFNode(), module.layer.Linear(6, 3))


def test_ottt_net_matches_spikingjelly():
    pytest.importorskip("spikingjelly.activation_based.layer")
    import importlib
    import types

    sj = types.SimpleNamespace(layer=importlib.import_module("spikingjelly.activation_based.layer"),
                               neuron=importlib.import_module("spikingjelly.activation_based.neuron"))
    ours = types.SimpleNamespace(layer=layer, neuron=neuron)
    runs = []
    for module in (sj, ours):
        torch.manual_seed(0)
        net = _ottt_net(module)
        torch.manual_seed(1)
        x = torch.rand(2, 2, 4, 4) * 4
        outputs = []
        for _ in range(3):
            y = net(x)
            y.pow(2).sum().backward()
            outputs.append(y.detach())
        runs.append((net.state_dict(), outputs, [p.grad for p in net.parameters()]))
    (w0, y0, g0), (w1, y1, g1) = runs
    assert list(w0) == list(w1) and all(torch.equal(w0[k], w1[k]) for k in w0)
    assert sum(y.abs().sum() for y in y0) > 0
    assert all(torch.equal(a, b) for a, b in zip(y0, y1))
    assert all(torch.allclose(a, b, rtol=1e-6, atol=1e-7) for a, b in zip(g0, g1))
