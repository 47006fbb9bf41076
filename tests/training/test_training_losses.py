"""Losses on T x N x classes outputs, against hand computations."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from spikesmith.training.losses import (
    LOSSES,
    ce_mean_loss,
    firing_rate_regularizer,
    get_loss,
    mse_rate_loss,
    tet_loss,
)

# T = 2, N = 2, classes = 3
OUT = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]],
                    [[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]], dtype=torch.float64)
TARGET = torch.tensor([0, 2])


def test_mse_rate_loss_by_hand():
    # rates: sample 0 = [1, .5, 0] vs onehot [1, 0, 0] -> errors 0, .25, 0
    #        sample 1 = [0, .5, 1] vs onehot [0, 0, 1] -> errors 0, .25, 0
    # mean over the 6 entries: 0.5 / 6
    assert mse_rate_loss(OUT, TARGET).item() == pytest.approx(0.5 / 6, abs=1e-15)


def test_mse_rate_loss_is_zero_for_a_perfect_rate_code():
    out = F.one_hot(TARGET, 3).to(torch.float64).expand(4, 2, 3)
    assert mse_rate_loss(out, TARGET).item() == 0.0


def test_ce_mean_loss_is_cross_entropy_of_the_time_mean():
    out = torch.randn(5, 7, 4, dtype=torch.float64)
    target = torch.randint(0, 4, (7,))
    assert torch.allclose(ce_mean_loss(out, target), F.cross_entropy(out.mean(0), target), rtol=0, atol=1e-14)
    # not the mean of per-step cross-entropies (which is TET's CE term)
    per_step = torch.stack([F.cross_entropy(o, target) for o in out]).mean()
    assert not torch.allclose(ce_mean_loss(out, target), per_step)


def test_ce_mean_loss_by_hand():
    # mean logits: sample 0 = [1, .5, 0], target 0; sample 1 = [0, .5, 1], target 2 -> the same loss
    lse = math.log(math.e**1 + math.e**0.5 + 1)
    assert ce_mean_loss(OUT, TARGET).item() == pytest.approx(lse - 1.0, abs=1e-14)


def test_tet_with_lambda_zero_is_the_mean_per_step_cross_entropy():
    out = torch.randn(3, 5, 4, dtype=torch.float64)
    target = torch.randint(0, 4, (5,))
    per_step = torch.stack([F.cross_entropy(out[t], target) for t in range(3)]).mean()
    assert torch.allclose(tet_loss(out, target, lam=0.0), per_step, rtol=0, atol=1e-14)


@pytest.mark.parametrize("lam, phi", [(0.05, 1.0), (0.5, 0.0), (1.0, 2.0)])
def test_tet_with_lambda_adds_the_mse_term(lam, phi):
    out = torch.randn(3, 5, 4, dtype=torch.float64)
    target = torch.randint(0, 4, (5,))
    ce = torch.stack([F.cross_entropy(out[t], target) for t in range(3)]).mean()
    mse = ((out - phi) ** 2).mean()
    expected = (1 - lam) * ce + lam * mse
    assert torch.allclose(tet_loss(out, target, lam=lam, phi=phi), expected, rtol=0, atol=1e-13)


def test_losses_backpropagate():
    for name, fn in LOSSES.items():
        out = torch.randn(2, 3, 4, requires_grad=True)
        fn(out, torch.tensor([0, 1, 3])).backward()
        assert out.grad is not None and torch.isfinite(out.grad).all() and out.grad.abs().sum() > 0, name


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_shape_errors(name):
    fn = get_loss(name)
    with pytest.raises(ValueError, match=r"\[T, N, classes\], got \[4, 3\]"):
        fn(torch.zeros(4, 3), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"targets of shape \[N=3\], got \[4\]"):
        fn(torch.zeros(2, 3, 5), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"targets of shape \[N=3\], got \[3, 1\]"):
        fn(torch.zeros(2, 3, 5), torch.zeros(3, 1, dtype=torch.long))


def test_get_loss():
    assert get_loss("ce") is ce_mean_loss and get_loss("mse") is mse_rate_loss and get_loss("tet") is tet_loss
    with pytest.raises(ValueError, match="unknown loss 'nll'; known losses: ce, mse, tet"):
        get_loss("nll")


def test_firing_rate_regularizer_by_hand():
    a = torch.tensor([[0.0, 1.0], [0.0, 0.0]])          # mean 0.25
    b = torch.tensor([1.0, 1.0, 1.0, 0.0, 0.0])         # mean 0.6
    # weight * ((0.25 - 0.1)^2 + (0.6 - 0.1)^2) = 2 * (0.0225 + 0.25)
    got = firing_rate_regularizer([a, b], target=0.1, weight=2.0)
    assert got.item() == pytest.approx(2 * (0.0225 + 0.25), abs=1e-6)
    assert firing_rate_regularizer([a], target=0.25, weight=5.0).item() == 0.0
    empty = firing_rate_regularizer([])
    assert empty.shape == () and empty.item() == 0.0


def test_firing_rate_regularizer_gradient():
    r = torch.tensor([0.5, 0.3], requires_grad=True)    # mean 0.4; d/dr_i of w (mean - t)^2 = w 2 (0.4 - t) / 2
    firing_rate_regularizer([r], target=0.1, weight=3.0).backward()
    assert torch.allclose(r.grad, torch.full((2,), 3.0 * 2 * 0.3 / 2))
