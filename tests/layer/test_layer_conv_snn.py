"""A small convolutional SNN built from spikesmith.layer, switched to multi-step by set_step_mode."""

from __future__ import annotations

import io

import torch
from torch import nn

from spikesmith import functional, layer, neuron

T, N = 4, 3


def conv_snn() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        layer.Conv2d(1, 4, 3, padding=1, bias=False),
        layer.BatchNorm2d(4),
        neuron.LIFNode(tau=2.0),
        layer.MaxPool2d(2),
        layer.Flatten(),
        layer.Linear(4 * 4 * 4, 5),
        neuron.LIFNode(tau=2.0),
    )


def test_forward_and_backward_in_multi_step_mode():
    net = conv_snn()
    functional.set_step_mode(net, "m")
    x_seq = torch.rand(T, N, 1, 8, 8) * 4
    out = net(x_seq)
    assert out.shape == (T, N, 5)
    assert set(out.unique().tolist()) <= {0.0, 1.0}
    out.mean().backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert net[0].weight.grad.abs().sum() > 0  # the surrogate gradient reached the first layer


def test_multi_step_equals_single_step_loop_in_eval():
    net = conv_snn()
    with torch.no_grad():
        net[1].running_mean.uniform_(-0.2, 0.2)
        net[5].weight.uniform_(0.0, 0.3)  # enough drive for the output layer to spike
    net.eval()
    x_seq = torch.rand(T, N, 1, 8, 8) * 4
    functional.set_step_mode(net, "m")
    multi = net(x_seq)
    functional.reset_net(net)
    functional.set_step_mode(net, "s")
    loop = torch.stack([net(x) for x in x_seq.unbind(0)])
    assert multi.sum() > 0
    assert torch.equal(multi, loop)


def test_whole_network_round_trips_through_torch_save():
    net = conv_snn().eval()
    functional.set_step_mode(net, "m")
    x_seq = torch.rand(T, N, 1, 8, 8) * 4
    expected = net(x_seq)
    functional.reset_net(net)
    buffer = io.BytesIO()
    torch.save(net, buffer)
    buffer.seek(0)
    clone = torch.load(buffer, weights_only=False)
    assert torch.equal(clone(x_seq), expected)
    plain = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.Identity(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 5), nn.Identity())
    plain.load_state_dict(net.state_dict())  # the same keys as the plain torch network
