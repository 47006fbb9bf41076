"""State handling, tensor parameters, hooks, pickling and the debug check."""

import pickle

import pytest
import torch
from torch import nn

import spikesmith
from spikesmith import functional, neuron


def test_state_is_not_in_state_dict_and_created_lazily():
    node = neuron.LIFNode()
    assert "v" not in node.state_dict()
    assert node.v == 0.0
    node(torch.rand(3, 4))
    assert isinstance(node.v, torch.Tensor) and node.v.shape == (3, 4)
    assert "v" not in dict(node.named_buffers())


def test_reset_net_clears_state_and_restores_v_init():
    net = nn.Sequential(nn.Linear(4, 4), neuron.LIFNode(v_init=0.3), nn.Linear(4, 2), neuron.IFNode())
    net(torch.rand(2, 4) * 5)
    assert isinstance(net[1].v, torch.Tensor)
    functional.reset_net(net)
    assert net[1].v == 0.3 and net[3].v == 0.0
    # after a reset the first step starts from v_init: H = 0.3 + (0 - 0.3) / 2 = 0.15 for zero input
    net[1](torch.zeros(2, 4))
    assert torch.allclose(net[1].v, torch.full((2, 4), 0.15))


def test_per_channel_v_init_restored_after_reset():
    v_init = torch.tensor([0.0, 0.5]).view(2, 1, 1)
    node = neuron.IFNode(v_reset=None, v_init=v_init, step_mode="m")
    node(torch.zeros(1, 3, 2, 4, 4))
    assert torch.equal(node.v[:, 1], torch.full((3, 4, 4), 0.5))
    node(torch.ones(1, 3, 2, 4, 4))
    functional.reset_net(node)
    node(torch.zeros(1, 3, 2, 4, 4))
    assert torch.equal(node.v[:, 0], torch.zeros(3, 4, 4))
    assert torch.equal(node.v[:, 1], torch.full((3, 4, 4), 0.5))
    assert "v_init" in node.state_dict()


def test_per_channel_threshold_broadcasts():
    thr = torch.tensor([0.5, 1.0, 2.0]).view(3, 1, 1)
    node = neuron.IFNode(v_threshold=thr)
    s = node(torch.full((2, 3, 2, 2), 0.9))
    assert s[:, 0].eq(1).all() and s[:, 1].eq(0).all() and s[:, 2].eq(0).all()
    s = node(torch.full((2, 3, 2, 2), 0.9))  # V = 1.8 on channels 1, 2
    assert s[:, 1].eq(1).all() and s[:, 2].eq(0).all()
    assert "v_threshold" in node.state_dict()


def test_tensor_tau_per_neuron():
    tau = torch.tensor([2.0, 4.0])
    node = neuron.LIFNode(tau=tau)
    node(torch.ones(1, 2))
    assert torch.allclose(node.v, torch.tensor([[0.5, 0.25]]))


def test_tensor_params_move_and_load_with_state_dict():
    node = neuron.IFNode(v_threshold=torch.tensor([1.0, 2.0]), v_reset=None, v_init=torch.tensor([0.1, 0.2]))
    other = neuron.IFNode(v_threshold=torch.tensor([0.0, 0.0]) + 5, v_reset=None, v_init=torch.zeros(2))
    other = other.to(torch.float64)
    other.load_state_dict(node.state_dict())
    functional.reset_net(other)
    other(torch.zeros(1, 2, dtype=torch.float64))
    assert torch.allclose(other.v, torch.tensor([[0.1, 0.2]], dtype=torch.float64))


def test_changed_batch_shape_without_reset_is_an_error():
    node = neuron.LIFNode()
    node(torch.rand(4, 3))
    with pytest.raises(ValueError, match="reset_net"):
        node(torch.rand(5, 3))
    functional.reset_net(node)
    node(torch.rand(5, 3))


def test_detach_net_cuts_the_graph():
    node = neuron.LIFNode()
    x = torch.rand(2, 3, requires_grad=True)
    node(x)
    assert node.v.requires_grad
    functional.detach_net(node)
    assert not node.v.requires_grad
    node(torch.rand(2, 3)).sum()


def test_plif_tau_receives_gradient():
    node = neuron.ParametricLIFNode(init_tau=2.0, step_mode="m")
    out = node(torch.rand(6, 4, 5) * 2)
    out.sum().backward()
    assert node.w.grad is not None and node.w.grad.abs() > 0
    assert float(node.tau) == pytest.approx(2.0)


def test_surrogate_default_is_a_fresh_instance_per_neuron():
    a, b = neuron.LIFNode(), neuron.LIFNode()
    assert a.surrogate_function is not b.surrogate_function
    assert type(a.surrogate_function).__name__ == "Sigmoid" and a.surrogate_function.alpha == 4.0


def test_surrogate_by_name():
    node = neuron.LIFNode(surrogate_function="atan:alpha=3")
    assert type(node.surrogate_function).__name__ == "ATan" and node.surrogate_function.alpha == 3.0


def test_pickled_network_gives_same_output():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 6), neuron.LIFNode(surrogate_function="atan"), nn.Linear(6, 3),
                        neuron.ParametricLIFNode())
    functional.set_step_mode(net, "m")
    x = torch.rand(4, 2, 5) * 3
    net(x)  # leaves state behind: pickling must not carry it
    clone = pickle.loads(pickle.dumps(net))
    functional.reset_net(net)
    assert torch.equal(net(x), clone(x))


def test_step_hook_can_change_spikes_and_be_removed():
    def winner_take_all(node, h, s):
        keep = torch.zeros_like(s)
        keep.scatter_(1, h.argmax(1, keepdim=True), 1.0)
        return h, s * keep

    node = neuron.IFNode(step_mode="m")
    handle = node.register_step_hook(winner_take_all)
    out = node(torch.tensor([[[2.0, 3.0, 1.5]]]))
    assert out.tolist() == [[[0.0, 1.0, 0.0]]]
    # losers were not reset: their potential stays above threshold
    assert node.v.tolist() == [[2.0, 0.0, 1.5]]
    handle.remove()
    functional.reset_net(node)
    assert node(torch.tensor([[[2.0, 3.0, 1.5]]])).tolist() == [[[1.0, 1.0, 1.0]]]


def test_debug_switch_names_the_layer():
    net = nn.Sequential(nn.Linear(3, 3), neuron.LIFNode())
    functional.name_layers(net)
    x = torch.tensor([[float("nan"), 0.0, 0.0]])
    net[1](x)  # off by default: no check
    functional.reset_net(net)
    spikesmith.set_debug(True)
    try:
        with pytest.raises(ValueError, match=r"LIFNode '1' received NaN"):
            net[1](x)
        with pytest.raises(ValueError, match="Inf"):
            functional.reset_net(net)
            net[1](torch.tensor([[float("inf"), 0.0, 0.0]]))
    finally:
        spikesmith.set_debug(False)


def test_two_layer_spiking_mlp_learns_a_tiny_task():
    torch.manual_seed(0)
    x = torch.rand(64, 8)
    y = (x[:, :4].sum(1) > x[:, 4:].sum(1)).long()
    net = nn.Sequential(nn.Linear(8, 32), neuron.LIFNode(surrogate_function="atan"),
                        nn.Linear(32, 2), neuron.LIFNode(surrogate_function="atan"))
    functional.set_step_mode(net, "m")
    opt = torch.optim.Adam(net.parameters(), lr=0.02)
    x_seq = x.unsqueeze(0).repeat(8, 1, 1) * 2
    losses = []
    for _ in range(40):
        rate = net(x_seq).mean(0)
        loss = nn.functional.mse_loss(rate, nn.functional.one_hot(y, 2).float())
        opt.zero_grad()
        loss.backward()
        opt.step()
        functional.reset_net(net)
        losses.append(loss.item())
    assert losses[-1] < 0.6 * losses[0]
    accuracy = (net(x_seq).mean(0).argmax(1) == y).float().mean()
    assert accuracy > 0.8
