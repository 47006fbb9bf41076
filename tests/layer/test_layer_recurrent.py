"""Recurrent: I(t) = layer_in(X(t)) + W_rec S(t-1), S(t) = neuron(I(t)), S(0) = 0."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.func import functional_call

from spikesmith import functional, layer, neuron, reset_check

DT = torch.float64
# Three steps for two IF neurons (V_th = 1, V_reset = 0), identity input layer.
X = torch.tensor([[[1.0, 0.6]], [[0.6, 0.6]], [[0.3, 0.3]]], dtype=DT)  # [T=3, N=1, 2]


def if_recurrent(weight, self_connections=True, step_mode="m"):
    rnn = layer.Recurrent(None, neuron.IFNode(), hidden_size=2, self_connections=self_connections,
                          step_mode=step_mode).to(DT)
    with torch.no_grad():
        rnn.layer_rec.weight.copy_(torch.as_tensor(weight, dtype=DT))
    return rnn


def test_hand_computed_feedback_with_half_identity():
    # neuron 0: H = 1.0 -> S; H = 0.6 + 0.5*1 = 1.1 -> S; H = 0.3 + 0.5 = 0.8, V = 0.8
    # neuron 1: H = 0.6, V = 0.6; H = 0.6 + 0.6 = 1.2 -> S; H = 0.3 + 0.5 = 0.8, V = 0.8
    rnn = if_recurrent(torch.eye(2) / 2)
    s = rnn(X)
    assert torch.equal(s[:, 0], torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]], dtype=DT))
    torch.testing.assert_close(rnn.neuron.v, torch.tensor([[0.8, 0.8]], dtype=DT))


def test_without_feedback_the_second_spike_of_neuron_0_is_missing():
    # neuron 0: H = 1.0 -> S; H = 0.6; H = 0.9 (no spike): the recurrence is what made t=2 fire
    rnn = if_recurrent(torch.zeros(2, 2))
    s = rnn(X)
    assert torch.equal(s[:, 0], torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]], dtype=DT))
    torch.testing.assert_close(rnn.neuron.v, torch.tensor([[0.9, 0.3]], dtype=DT))


def test_self_connections_false_masks_the_diagonal():
    full = torch.full((2, 2), 0.5)
    # with self connections: t=2 both get 0.5 + 0.5*S_0(1) = 0.5 extra -> both fire; t=3 both 0.3 + 1.0
    with_self = if_recurrent(full)(X)
    assert torch.equal(with_self[:, 0], torch.tensor([[1.0, 0.0], [1.0, 1.0], [1.0, 1.0]], dtype=DT))
    # without: neuron 0 gets only 0.5 S_1(t-1): t=2 H = 0.6; t=3 H = 0.6 + 0.3 + 0.5 = 1.4 -> S
    #          neuron 1 gets only 0.5 S_0(t-1): t=2 H = 0.6 + 1.1 -> S; t=3 H = 0.3
    rnn = if_recurrent(full, self_connections=False)
    no_self = rnn(X)
    assert torch.equal(no_self[:, 0], torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]], dtype=DT))
    assert torch.equal(rnn.layer_rec.weight, full.to(DT))  # masked in the forward, not in the data
    assert "rec_mask" not in rnn.state_dict()


def test_single_step_loop_equals_multi_step_outputs_and_gradients():
    torch.manual_seed(0)
    multi = layer.Recurrent(nn.Linear(3, 4), neuron.LIFNode(tau=2.0), step_mode="m", bias=True).to(DT)
    single = layer.Recurrent(nn.Linear(3, 4), neuron.LIFNode(tau=2.0), bias=True).to(DT)
    with torch.no_grad():
        multi.layer_in.weight.uniform_(0.2, 1.0)  # positive drive so that the layer spikes
    single.load_state_dict(multi.state_dict())
    x_seq = torch.rand(6, 2, 3, dtype=DT) * 2
    s_multi = multi(x_seq)
    s_loop = torch.stack([single(x) for x in x_seq.unbind(0)])
    assert s_multi.sum() > 0
    assert torch.equal(s_multi, s_loop)
    s_multi.sum().backward()
    s_loop.sum().backward()
    for name, p in multi.named_parameters():
        torch.testing.assert_close(p.grad, dict(single.named_parameters())[name].grad, msg=name)


def test_reset_clears_the_previous_spikes():
    rnn = if_recurrent(torch.eye(2) / 2)
    with reset_check.continuing():  # the second call carries the state on purpose
        first = rnn(X)
        assert torch.equal(rnn.s_prev, first[-1])
        carried = rnn(X)  # no reset: S(0) is the last spikes and V carries over
    assert not torch.equal(carried, first)
    functional.reset_net(rnn)
    assert rnn.s_prev is None
    assert torch.equal(rnn(X), first)


def test_batch_size_change_without_reset_is_an_error():
    rnn = if_recurrent(torch.eye(2) / 2)
    rnn(X)
    with pytest.raises(ValueError, match="reset_net"):
        rnn(X.expand(3, 2, 2))


def test_gradients_reach_the_recurrent_weight_only_through_time():
    torch.manual_seed(0)
    rnn = layer.Recurrent(nn.Linear(3, 4), neuron.LIFNode(tau=2.0), step_mode="m")
    with torch.no_grad():
        rnn.layer_in.weight.uniform_(0.2, 1.0)
    x_seq = torch.rand(5, 8, 3) * 3
    rnn(x_seq[:1]).sum().backward()  # one step: S(0) = 0, W_rec plays no part
    assert torch.count_nonzero(rnn.layer_rec.weight.grad) == 0
    functional.reset_net(rnn)
    rnn.zero_grad()
    rnn(x_seq).sum().backward()
    assert torch.count_nonzero(rnn.layer_rec.weight.grad) > 0


def test_bptt_gradient_matches_finite_differences():
    # A smooth neuron (non-spiking leaky integrator) makes the whole recurrence differentiable.
    torch.manual_seed(0)
    rnn = layer.Recurrent(None, neuron.NonSpikingLIFNode(tau=2.0), hidden_size=3, step_mode="m",
                          self_connections=False).to(DT)
    x_seq = torch.randn(4, 2, 3, dtype=DT)
    w = rnn.layer_rec.weight.detach().clone().requires_grad_()

    def run(weight):
        functional.reset_net(rnn)
        return functional_call(rnn, {"layer_rec.weight": weight}, (x_seq,))

    assert torch.autograd.gradcheck(run, (w,))


def test_diagonal_gets_no_gradient_without_self_connections():
    rnn = if_recurrent(torch.full((2, 2), 0.5), self_connections=False)
    rnn(X).sum().backward()
    assert torch.count_nonzero(torch.diagonal(rnn.layer_rec.weight.grad)) == 0


def test_neuron_runs_single_step_after_set_step_mode():
    rnn = layer.Recurrent(nn.Linear(3, 4), neuron.LIFNode())
    net = nn.Sequential(rnn)
    functional.set_step_mode(net, "m")
    assert rnn.neuron.step_mode == "m"
    assert rnn(torch.rand(5, 2, 3)).shape == (5, 2, 4)
    assert rnn.neuron.step_mode == "s" and rnn.step_mode == "m"


def test_convolutional_recurrence():
    torch.manual_seed(0)
    make = lambda mode: layer.Recurrent(  # noqa: E731
        layer.Conv2d(1, 2, 3, padding=1), neuron.IFNode(), layer_rec=nn.Conv2d(2, 2, 3, padding=1), step_mode=mode
    )
    multi, single = make("m"), make("s")
    single.load_state_dict(multi.state_dict())
    x_seq = torch.rand(4, 2, 1, 5, 5) * 3
    s_multi = multi(x_seq)
    assert s_multi.shape == (4, 2, 2, 5, 5) and s_multi.sum() > 0
    assert torch.equal(s_multi, torch.stack([single(x) for x in x_seq.unbind(0)]))


def test_stateful_input_layer_runs_step_by_step():
    # Dropout in layer_in keeps one mask over time, so 'm' and the 's' loop agree with the same seed.
    make = lambda mode: layer.Recurrent(  # noqa: E731
        nn.Sequential(nn.Linear(3, 4), layer.Dropout(0.5)), neuron.IFNode(), hidden_size=4, step_mode=mode
    )
    torch.manual_seed(0)
    multi = make("m")
    single = make("s")
    single.load_state_dict(multi.state_dict())
    x_seq = torch.rand(5, 2, 3) * 3
    torch.manual_seed(1)
    s_multi = multi(x_seq)
    assert s_multi.sum() > 0
    torch.manual_seed(1)
    assert torch.equal(s_multi, torch.stack([single(x) for x in x_seq.unbind(0)]))


def test_state_dict_keys_and_detach():
    rnn = layer.Recurrent(nn.Linear(3, 4), neuron.LIFNode(), step_mode="m")
    assert list(rnn.state_dict()) == ["layer_in.weight", "layer_in.bias", "layer_rec.weight"]
    rnn(torch.rand(3, 2, 3) * 3)
    functional.detach_net(rnn)
    assert not rnn.s_prev.requires_grad


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(layer_in=nn.Identity(), neuron=neuron.IFNode()), ValueError, "hidden_size"),
        (dict(layer_in=nn.Linear(3, 4), neuron=neuron.IFNode(), hidden_size=5), ValueError, "disagree"),
        (dict(layer_in=nn.Linear(3, 4), neuron=neuron.IFNode(), layer_rec=nn.Conv2d(4, 4, 1),
              self_connections=False), ValueError, "square nn.Linear"),
        (dict(layer_in=nn.Linear(3, 4), neuron="lif"), TypeError, "neuron must be an nn.Module"),
        (dict(layer_in=nn.Linear(3, 4), neuron=neuron.IFNode(), hidden_size=0), ValueError, "positive int"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        layer.Recurrent(**kwargs)


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"Recurrent in step_mode='m' expects input of shape \[T, N, \.\.\.\]"):
        layer.Recurrent(nn.Linear(3, 4), neuron.IFNode(), step_mode="m")(torch.rand(3))
    with pytest.raises(ValueError, match="hidden_size=5"):
        layer.Recurrent(nn.Identity(), neuron.IFNode(), hidden_size=5)(torch.rand(2, 4))
