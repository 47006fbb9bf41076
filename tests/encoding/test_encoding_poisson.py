"""Poisson / Bernoulli rate coding: statistics, seeding, module noise sequence."""

import copy
import pickle

import pytest
import torch

from spikesmith.encoding import PoissonEncoder, poisson_encode


def test_mean_rate_matches_x():
    # 20000 steps: the std of the empirical rate is sqrt(p (1 - p) / T) <= 0.0036; allow 5 sigma.
    x = torch.tensor([0.0, 0.05, 0.25, 0.5, 0.8, 1.0], dtype=torch.float64)
    T = 20_000
    s = poisson_encode(x, T, seed=1234)
    rate = s.mean(0)
    tol = 5 * torch.sqrt(x * (1 - x) / T) + 1e-12
    assert torch.all((rate - x).abs() <= tol), (rate, x)
    assert rate[0] == 0.0 and rate[-1] == 1.0  # exact at the ends


def test_max_rate_scales_probability():
    x = torch.full((4,), 0.5)
    T = 20_000
    rate = poisson_encode(x, T, max_rate=0.2, seed=7).mean(0)  # p = 0.1
    tol = 5 * (0.1 * 0.9 / T) ** 0.5
    assert torch.all((rate - 0.1).abs() <= tol), rate


def test_elements_and_steps_are_independent():
    # Equal inputs must not share one random draw, and successive steps must not repeat.
    s = poisson_encode(torch.full((2, 500), 0.5), 200, seed=0)
    assert not torch.equal(s[:, 0], s[:, 1])
    assert not torch.equal(s[0], s[1])
    # correlation between two neurons with the same rate is ~0
    a, b = s[:, 0].flatten(), s[:, 1].flatten()
    corr = torch.corrcoef(torch.stack((a, b)))[0, 1]
    assert corr.abs() < 0.05


def test_same_seed_same_output_different_seed_differs():
    x = torch.rand(3, 50, generator=torch.Generator().manual_seed(0))
    a = poisson_encode(x, 30, seed=42)
    b = poisson_encode(x, 30, seed=42)
    c = poisson_encode(x, 30, seed=43)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_seed_leaves_global_rng_untouched():
    x = torch.full((10,), 0.5)
    state = torch.get_rng_state()
    poisson_encode(x, 50, seed=3)
    PoissonEncoder(50, seed=3)(x)
    assert torch.equal(torch.get_rng_state(), state)


def test_without_seed_uses_global_rng():
    x = torch.full((100,), 0.5)
    torch.manual_seed(5)
    a = poisson_encode(x, 20)
    torch.manual_seed(5)
    b = poisson_encode(x, 20)
    assert torch.equal(a, b)


def test_generator_is_advanced_and_reproducible():
    x = torch.full((100,), 0.5)
    g = torch.Generator().manual_seed(9)
    a1, a2 = poisson_encode(x, 10, generator=g), poisson_encode(x, 10, generator=g)
    g = torch.Generator().manual_seed(9)
    b1 = poisson_encode(x, 10, generator=g)
    assert torch.equal(a1, b1)
    assert not torch.equal(a1, a2)


def test_module_noise_sequence_is_reproducible_and_fresh_per_call():
    x = torch.full((4, 64), 0.5)
    enc1, enc2 = PoissonEncoder(16, seed=11), PoissonEncoder(16, seed=11)
    first, second = enc1(x), enc1(x)
    assert not torch.equal(first, second)  # new noise for each batch
    assert torch.equal(enc2(x), first) and torch.equal(enc2(x), second)
    enc1.reset_rng()
    assert torch.equal(enc1(x), first)
    assert not torch.equal(PoissonEncoder(16, seed=12)(x), first)


def test_module_pickles_and_copies_with_its_position():
    x = torch.full((64,), 0.5)
    enc = PoissonEncoder(8, max_rate=0.5, seed=1)
    enc(x)
    clone = pickle.loads(pickle.dumps(enc))
    twin = copy.deepcopy(enc)
    expected = enc(x)
    assert torch.equal(clone(x), expected) and torch.equal(twin(x), expected)


def test_failed_call_does_not_advance_module_sequence():
    x = torch.full((64,), 0.5)
    enc, ref = PoissonEncoder(8, seed=2), PoissonEncoder(8, seed=2)
    with pytest.raises(ValueError):
        enc(torch.full((3,), 2.0))
    assert torch.equal(enc(x), ref(x))


def test_clamp_option():
    x = torch.tensor([-0.5, 1.5])
    s = poisson_encode(x, 100, clamp=True, seed=0)
    assert s[:, 0].sum() == 0 and s[:, 1].sum() == 100
    with pytest.raises(ValueError, match=r"\[0, 1\].*clamp=True"):
        poisson_encode(x, 100, seed=0)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_low_precision_rates_are_not_coarsened(dtype):
    # bf16 has 8 mantissa bits; drawing uniforms in bf16 would bias small probabilities.
    x = torch.full((2000,), 0.01, dtype=dtype)
    s = poisson_encode(x, 50, seed=0)
    assert s.dtype == dtype
    p = float(x[0])
    rate = s.float().mean().item()
    assert abs(rate - p) <= 5 * (p * (1 - p) / s.numel()) ** 0.5
