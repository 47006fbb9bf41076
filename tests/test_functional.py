"""Network helpers: step mode switching, reset/detach over a network, layouts."""

import pytest
import torch
from torch import nn

from spikesmith import functional, neuron


def test_set_step_mode_switches_every_neuron_and_names_layers():
    net = nn.Sequential(nn.Linear(3, 3), neuron.LIFNode(), nn.Sequential(neuron.IFNode()))
    functional.set_step_mode(net, "m")
    assert net[1].step_mode == "m" and net[2][0].step_mode == "m"
    assert net[2][0].layer_name() == "IFNode '2.0'"
    with pytest.raises(ValueError, match="step_mode must be"):
        functional.set_step_mode(net, "multi")


def test_set_backend():
    net = nn.Sequential(neuron.LIFNode(), neuron.IFNode())
    functional.set_backend(net, "torch")
    with pytest.raises(ValueError, match="unknown backend"):
        functional.set_backend(net, "nope")


def test_loihi_layout_round_trip():
    x = torch.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    y = functional.to_loihi_layout(x)
    assert y.shape == (3, 4, 5, 2)
    assert y[1, 2, 3, 0] == x[0, 1, 2, 3] and y[1, 2, 3, 1] == x[1, 1, 2, 3]
    assert torch.equal(functional.from_loihi_layout(y), x)
    with pytest.raises(ValueError, match="to_loihi_layout expects"):
        functional.to_loihi_layout(torch.zeros(3))
    with pytest.raises(ValueError, match="from_loihi_layout expects"):
        functional.from_loihi_layout(torch.zeros(3))


def test_seq_batch_folding():
    x = torch.rand(4, 3, 2)
    assert torch.equal(functional.batch_to_seq(functional.seq_to_batch(x), 4), x)
    with pytest.raises(ValueError, match="not a multiple"):
        functional.batch_to_seq(torch.zeros(7, 2), 4)


def test_truncated_bptt_with_detach_net():
    node = neuron.LIFNode(step_mode="m")
    x = torch.rand(4, 2, 3, requires_grad=True)
    node(x[:2]).sum().backward()
    functional.detach_net(node)
    node(x[2:]).sum().backward()  # would fail ("backward through the graph a second time") without detach


@pytest.mark.parametrize("call", [
    lambda: functional.reset_net(None),
    lambda: functional.detach_net(None),
    lambda: functional.set_step_mode(None, "m"),
    lambda: functional.set_backend(None, "torch"),
    lambda: functional.name_layers(None),
])
def test_helpers_given_no_network_name_the_problem_and_the_fix(call):
    # reset_net(None) was an AttributeError ('NoneType' object has no attribute 'modules')
    with pytest.raises(TypeError, match=r"expects the network \(a torch.nn.Module\), got NoneType; pass the model"):
        call()


def test_reset_net_of_a_list_of_modules_says_once_per_network():
    with pytest.raises(TypeError, match="got list.*once per network"):
        functional.reset_net([neuron.LIFNode()])


def test_multi_step_forward_steps_stateful_modules_in_order():
    x = torch.full((3, 2, 1), 0.6)
    node = neuron.IFNode()
    s = functional.multi_step_forward(x, [nn.Identity(), node])      # V: 0.6, 1.2 -> spike, 0.6
    torch.testing.assert_close(s[:, 0, 0], torch.tensor([0.0, 1.0, 0.0]))
    assert node.step_mode == "s" and node.v.shape == (2, 1)
    with pytest.raises(ValueError, match=r"x_seq of shape \[T, N, ...\] with T >= 1"):
        functional.multi_step_forward(torch.zeros(0, 2), node)


def test_seq_to_ann_forward_folds_time_and_takes_a_tuple_of_inputs():
    lin = nn.Linear(3, 2)
    x = torch.rand(4, 5, 3)
    y = functional.seq_to_ann_forward(x, [lin, nn.ReLU()])
    torch.testing.assert_close(y, torch.relu(lin(x)))
    pool = nn.MaxPool1d(2, return_indices=True)
    values, index = functional.seq_to_ann_forward(torch.rand(4, 5, 1, 6), pool)
    assert values.shape == index.shape == (4, 5, 1, 3)
    back = functional.seq_to_ann_forward((values, index), nn.MaxUnpool1d(2))
    assert back.shape == (4, 5, 1, 6)
    with pytest.raises(ValueError, match=r"must share \[T, N\]"):
        functional.seq_to_ann_forward((values, index[:, :2]), nn.MaxUnpool1d(2))
