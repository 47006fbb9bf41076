"""SeqToANNContainer, MultiStepContainer and StepModeContainer."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from spikesmith import functional, layer, neuron

T, N = 4, 3


def conv_bn():
    torch.manual_seed(0)
    modules = [nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3)]
    with torch.no_grad():
        modules[1].running_mean.normal_()
    return modules


def test_seq_to_ann_equals_modules_on_each_step():
    modules = conv_bn()
    container = layer.SeqToANNContainer(*modules).eval()
    x_seq = torch.randn(T, N, 2, 5, 5)
    expected = torch.stack([modules[1](modules[0](x)) for x in x_seq.unbind(0)])
    torch.testing.assert_close(container(x_seq), expected)
    assert list(container.state_dict())[:2] == ["0.weight", "0.bias"]


def test_seq_to_ann_with_one_module_and_tuple_output():
    container = layer.SeqToANNContainer(nn.MaxPool2d(2, return_indices=True))
    values, indices = container(torch.randn(T, N, 1, 4, 4))
    assert values.shape == indices.shape == (T, N, 1, 2, 2)


def test_seq_to_ann_refuses_stateful_modules():
    with pytest.raises(TypeError, match=r"stateful LIFNode.*MultiStepContainer"):
        layer.SeqToANNContainer(nn.Linear(2, 2), neuron.LIFNode())


def test_seq_to_ann_needs_time_and_batch_dims():
    expected = r"SeqToANNContainer in step_mode='m' expects input of shape \[T, N, \.\.\.\].*\[5\]"
    with pytest.raises(ValueError, match=expected):
        layer.SeqToANNContainer(nn.Identity())(torch.randn(5))


def test_children_stay_single_step_whatever_set_step_mode_says():
    inner = layer.Conv2d(2, 3, 3)
    net = nn.Sequential(layer.SeqToANNContainer(inner), layer.MultiStepContainer(neuron.IFNode()))
    functional.set_step_mode(net, "m")  # reaches the children too
    assert inner.step_mode == "m"
    out = net(torch.randn(T, N, 2, 5, 5))
    assert out.shape == (T, N, 3, 3, 3)
    assert inner.step_mode == "s" and net[1][0].step_mode == "s"


def test_multi_step_container_equals_neuron_in_multi_step_mode():
    x_seq = torch.rand(T, N, 5, dtype=torch.float64) * 1.5
    container = layer.MultiStepContainer(neuron.LIFNode(tau=2.0))
    reference = neuron.LIFNode(tau=2.0, step_mode="m")
    assert torch.equal(container(x_seq), reference(x_seq))
    torch.testing.assert_close(container[0].v, reference.v)


def test_multi_step_container_keeps_state_across_calls_until_reset():
    x_seq = torch.rand(2 * T, N, 5) * 1.5
    container = layer.MultiStepContainer(nn.Linear(5, 5), neuron.IFNode())
    whole = container(x_seq)
    functional.reset_net(container)
    halves = torch.cat([container(x_seq[:T]), container(x_seq[T:])])
    assert torch.equal(whole, halves)
    functional.reset_net(container)
    assert container[1].v == 0.0


def test_step_mode_container_follows_step_mode():
    torch.manual_seed(0)
    norm = nn.LayerNorm(5)
    container = layer.StepModeContainer(False, norm)
    x_seq = torch.randn(T, N, 5)
    assert torch.equal(container(x_seq[0]), norm(x_seq[0]))
    functional.set_step_mode(container, "m")
    torch.testing.assert_close(container(x_seq), torch.stack([norm(x) for x in x_seq.unbind(0)]))
    assert list(container.state_dict()) == ["0.weight", "0.bias"]


def test_stateful_step_mode_container_loops_in_multi_step_mode():
    torch.manual_seed(0)
    container = layer.StepModeContainer(True, nn.Linear(5, 4), neuron.LIFNode(), step_mode="m")
    x_seq = torch.rand(T, N, 5) * 3
    multi = container(x_seq)
    functional.reset_net(container)
    container.step_mode = "s"
    loop = torch.stack([container(x) for x in x_seq.unbind(0)])
    assert multi.abs().sum() > 0
    assert torch.equal(multi, loop)


def test_step_mode_container_needs_a_bool_first():
    with pytest.raises(TypeError, match="stateful"):
        layer.StepModeContainer(nn.Linear(2, 2))


def test_step_mode_container_checks_multi_step_dims():
    with pytest.raises(ValueError, match=r"StepModeContainer in step_mode='m'"):
        layer.StepModeContainer(False, nn.Identity(), step_mode="m")(torch.randn(4))


def test_seq_to_ann_matches_spikingjelly():
    sj_layer = pytest.importorskip("spikingjelly.activation_based.layer")
    modules = conv_bn()
    ours = layer.SeqToANNContainer(*modules).eval()
    peer = sj_layer.SeqToANNContainer(*conv_bn()).eval()
    peer.load_state_dict(ours.state_dict())
    x_seq = torch.randn(T, N, 2, 5, 5)
    torch.testing.assert_close(ours(x_seq), peer(x_seq))
