"""VotingLayer and GroupNorm: SpikingJelly's semantics, in single- and multi-step mode."""

from __future__ import annotations

import pytest
import torch

from spikesmith import layer


def test_voting_averages_each_group_and_drops_the_remainder():
    x = torch.arange(7.0).reshape(1, 7)
    torch.testing.assert_close(layer.VotingLayer(3)(x), torch.tensor([[1.0, 4.0]]))   # 6 is dropped
    x_seq = torch.rand(4, 2, 20)
    seq = layer.VotingLayer(10, step_mode="m")(x_seq)
    torch.testing.assert_close(seq, x_seq.reshape(4, 2, 2, 10).mean(-1))
    assert seq.shape == (4, 2, 2)


def test_voting_bad_input():
    with pytest.raises(ValueError, match="voting_size must be a positive int"):
        layer.VotingLayer(0)
    with pytest.raises(ValueError, match="at least voting_size features"):
        layer.VotingLayer(10)(torch.rand(2, 5))
    with pytest.raises(ValueError, match="looks like a single-step input"):
        layer.VotingLayer(2, step_mode="m")(torch.rand(2, 6))


def test_group_norm_multi_step_equals_a_step_loop():
    torch.manual_seed(0)
    gn = layer.GroupNorm(2, 4, step_mode="m")
    with torch.no_grad():
        gn.weight.uniform_(0.5, 1.5)
        gn.bias.uniform_(-0.5, 0.5)
    x_seq = torch.rand(3, 2, 4, 5, 5) * torch.arange(1.0, 4.0).reshape(3, 1, 1, 1, 1)
    want = torch.stack([torch.nn.functional.group_norm(x, 2, gn.weight, gn.bias, gn.eps) for x in x_seq])
    torch.testing.assert_close(gn(x_seq), want)
    gn.step_mode = "s"
    torch.testing.assert_close(gn(x_seq[1]), want[1])
    assert set(gn.state_dict()) == {"weight", "bias"}
    with pytest.raises(ValueError, match="num_channels=4 at dim 2"):
        layer.GroupNorm(2, 4, step_mode="m")(torch.rand(3, 2, 6, 5))


def test_same_as_spikingjelly():
    sjl = pytest.importorskip("spikingjelly.activation_based.layer")
    x = torch.rand(3, 2, 30, dtype=torch.float64)
    torch.testing.assert_close(layer.VotingLayer(10, step_mode="m")(x),
                               sjl.VotingLayer(10, step_mode="m")(x), rtol=0, atol=0)
    y = torch.rand(3, 2, 6, 4, dtype=torch.float64)
    ours, theirs = layer.GroupNorm(3, 6, step_mode="m").double(), sjl.GroupNorm(3, 6, step_mode="m").double()
    torch.testing.assert_close(ours(y), theirs(y), rtol=0, atol=0)


def test_group_norm_arguments_and_single_step_channels():
    for args in [(3, 4), (0, 4), (2, 0), (2.0, 4), (True, 4)]:
        with pytest.raises(ValueError, match="divisible by num_groups"):
            layer.GroupNorm(*args)
    with pytest.raises(ValueError, match="num_channels=4 at dim 1"):
        layer.GroupNorm(2, 4)(torch.rand(2, 6, 3))
