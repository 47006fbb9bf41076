"""Batch augmentation: flips mirror whole samples, shifts translate them with zero fill, the same
draw for every time step and channel of a sample, repeatable from a seed; and training uses it."""

import pytest
import torch

from spikesmith.training.augment import augment, random_flip, random_shift

from training_helpers import assert_same_weights, resume_run, tiny_run, weights


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_shift_by_hand():
    x = torch.arange(16.0).view(1, 1, 4, 4)
    # with max_shift 1 the offsets are drawn in [0, 2]; offset 1 is no shift
    for seed in range(20):
        g = _gen(seed)
        dy, dx = (torch.randint(0, 3, (2, 1), generator=_gen(seed)) - 1).view(2).tolist()
        y = random_shift(x, 1, g)[0, 0]
        expect = torch.zeros(4, 4)
        for i in range(4):
            for j in range(4):
                si, sj = i + dy, j + dx
                if 0 <= si < 4 and 0 <= sj < 4:
                    expect[i, j] = x[0, 0, si, sj]
        assert torch.equal(y, expect), (seed, dy, dx)


def test_every_time_step_and_channel_moves_together():
    base = torch.rand(6, 1, 1, 9, 9)
    x = base.expand(6, 4, 2, 9, 9).contiguous()          # N x T x P x H x W, all frames equal
    y = augment(x, flip=True, shift=2, generator=_gen(3))
    assert y.shape == x.shape
    assert torch.equal(y, y[:, :1, :1].expand_as(y))
    assert not torch.equal(y, x)


def test_flip_mirrors_or_keeps_each_sample():
    x = torch.rand(64, 2, 5, 7)
    y = random_flip(x, _gen(1))
    mirrored = torch.tensor([torch.equal(y[n], x[n].flip(-1)) for n in range(64)])
    kept = torch.tensor([torch.equal(y[n], x[n]) for n in range(64)])
    assert bool((mirrored | kept).all())
    assert 10 < int(mirrored.sum()) < 54


def test_shift_keeps_mass_or_loses_it_at_the_border_only():
    x = torch.zeros(32, 1, 12, 12)
    x[:, :, 4:8, 4:8] = 1.0                               # an object 4 px from every border
    y = random_shift(x, 3, _gen(2))
    assert torch.equal(y.sum((1, 2, 3)), x.sum((1, 2, 3)))
    assert (y != x).any()


def test_same_seed_same_batch_and_zero_shift_is_identity():
    x = torch.rand(8, 1, 6, 6)
    assert torch.equal(augment(x, True, 2, _gen(5)), augment(x, True, 2, _gen(5)))
    assert random_shift(x, 0) is x


@pytest.mark.parametrize("bad", [torch.rand(4, 28), torch.rand(5)])
def test_sequences_are_refused(bad):
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        random_flip(bad)


def test_negative_shift_is_refused():
    with pytest.raises(ValueError, match="max_shift"):
        random_shift(torch.rand(2, 1, 4, 4), -1)


def test_config_refuses_negative_shift(tmp_path):
    with pytest.raises(ValueError, match="random_shift"):
        tiny_run(tmp_path / "a", model="csnn", channels=4, epochs=1, random_shift=-1)


def test_training_with_augmentation_differs_and_resumes_the_same(tmp_path):
    opts = dict(model="csnn", channels=4, epochs=2, random_flip=True, random_shift=1)
    tiny_run(tmp_path / "plain", model="csnn", channels=4, epochs=2)
    tiny_run(tmp_path / "aug", **opts)
    plain, aug = weights(tmp_path / "plain"), weights(tmp_path / "aug")
    assert any(not torch.equal(plain[k], aug[k]) for k in plain)
    tiny_run(tmp_path / "cut", **opts, time_limit=1e-7)                # stopped after epoch 1
    resume_run(tmp_path / "cut" / "checkpoint.pt", time_limit=None)
    assert_same_weights(weights(tmp_path / "cut"), aug)
