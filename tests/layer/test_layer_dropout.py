"""Dropout over time: one mask per sequence, scaled, identity in eval, the mask is state."""

from __future__ import annotations

import copy
import pickle

import pytest
import torch

from spikesmith import functional, layer

T, N = 5, 4


def positive(*shape):
    torch.manual_seed(123)
    return torch.rand(*shape) + 0.5  # never 0, so a 0 in the output means "dropped"


def test_multi_step_uses_one_mask_for_all_steps_and_scales():
    p = 0.3
    x_seq = positive(T, N, 50)
    y_seq = layer.Dropout(p, step_mode="m")(x_seq)
    dropped = y_seq == 0
    assert dropped.any() and (~dropped).any()
    for t in range(1, T):
        assert torch.equal(dropped[t], dropped[0])
    torch.testing.assert_close(y_seq[~dropped], x_seq[~dropped] / (1 - p))


def test_drop_fraction_is_close_to_p():
    y = layer.Dropout(0.25, step_mode="m")(positive(2, 100, 200))
    assert abs((y[0] == 0).float().mean().item() - 0.25) < 0.02


def test_eval_is_identity_and_draws_no_mask():
    drop = layer.Dropout(0.5, step_mode="m").eval()
    x_seq = positive(T, N, 10)
    assert drop(x_seq) is x_seq
    assert drop.mask is None


@pytest.mark.parametrize("cls, shape", [(layer.Dropout, (T, N, 6, 7)), (layer.Dropout2d, (T, N, 6, 3, 3))])
def test_single_step_loop_equals_multi_step_with_the_same_seed(cls, shape):
    x_seq = positive(*shape)
    torch.manual_seed(7)
    multi = cls(0.5, step_mode="m")(x_seq)
    torch.manual_seed(7)
    drop = cls(0.5)
    loop = torch.stack([drop(x) for x in x_seq.unbind(0)])
    assert torch.equal(loop, multi)


def test_single_step_keeps_the_mask_until_reset():
    drop = layer.Dropout(0.5)
    x = positive(N, 200)
    first, second = drop(x), drop(x)
    assert torch.equal(first == 0, second == 0)
    mask = drop.mask
    functional.reset_net(drop)
    assert drop.mask is None
    third = drop(x)
    assert not torch.equal(drop.mask, mask)  # a new mask (400 coin flips)
    assert not torch.equal(third == 0, first == 0)


def test_mask_shape_change_without_reset_is_an_error():
    drop = layer.Dropout(0.5, step_mode="m")
    drop(positive(T, N, 8))
    with pytest.raises(ValueError, match="reset_net"):
        drop(positive(T, N + 1, 8))
    functional.reset_net(drop)
    assert drop(positive(T, N + 1, 8)).shape == (T, N + 1, 8)


def test_dropout2d_drops_whole_channels_shared_over_time():
    x_seq = positive(T, N, 16, 3, 3)
    y_seq = layer.Dropout2d(0.5, step_mode="m")(x_seq)
    dropped = y_seq == 0
    per_channel = dropped.all(dim=(-1, -2))
    assert torch.equal(per_channel, dropped.any(dim=(-1, -2)))  # a channel is dropped whole or not at all
    assert per_channel.any() and (~per_channel).any()
    assert torch.equal(per_channel, per_channel[:1].expand_as(per_channel))  # same over time
    torch.testing.assert_close(y_seq[~dropped], x_seq[~dropped] * 2)


def test_gradient_is_the_mask():
    x_seq = positive(T, N, 10).requires_grad_()
    drop = layer.Dropout(0.4, step_mode="m")
    drop(x_seq).sum().backward()
    torch.testing.assert_close(x_seq.grad, drop.mask.expand_as(x_seq))


def test_p_zero_and_one():
    x_seq = positive(T, N, 10)
    assert torch.equal(layer.Dropout(0.0, step_mode="m")(x_seq), x_seq)
    assert torch.equal(layer.Dropout(1.0, step_mode="m")(x_seq), torch.zeros_like(x_seq))


@pytest.mark.parametrize("p, error", [(-0.1, ValueError), (1.5, ValueError), ("0.5", TypeError), (True, TypeError)])
def test_bad_p(p, error):
    with pytest.raises(error, match="p must"):
        layer.Dropout(p)


def test_bad_shapes():
    with pytest.raises(ValueError, match=r"Dropout2d in step_mode='m' expects input of shape \[T, N, C, H, W\]"):
        layer.Dropout2d(step_mode="m")(positive(N, 3, 4, 4))
    with pytest.raises(ValueError, match=r"Dropout2d in step_mode='s' expects input of shape \[N, C, H, W\]"):
        layer.Dropout2d()(positive(N, 3, 4))
    with pytest.raises(ValueError, match=r"Dropout in step_mode='m' expects input of shape \[T, N, \.\.\.\]"):
        layer.Dropout(step_mode="m")(positive(7))


def test_copies_start_from_the_initial_state():
    drop = layer.Dropout(0.5)
    drop(positive(N, 10))
    assert drop.mask is not None
    for clone in (copy.deepcopy(drop), pickle.loads(pickle.dumps(drop))):
        assert clone.mask is None and clone.p == 0.5
