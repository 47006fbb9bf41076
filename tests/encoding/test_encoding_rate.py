"""Deterministic rate coding: hand-computed trains, exact counts, IF-neuron equivalence."""

import math

import pytest
import torch

from spikesmith.encoding import RateEncoder, rate_encode


def _train(x, T, rounding="floor"):
    return rate_encode(torch.tensor([x], dtype=torch.float64), T, rounding=rounding)[:, 0].tolist()


@pytest.mark.parametrize(
    "x, T, rounding, expected",
    [
        (0.5, 4, "floor", [0, 1, 0, 1]),
        (0.5, 4, "round", [1, 0, 1, 0]),
        (0.75, 4, "floor", [0, 1, 1, 1]),  # floor(.75 t) = 0 1 2 3 -> spikes at t = 2, 3, 4
        (0.75, 4, "round", [1, 1, 0, 1]),  # floor(.75 t + .5) = 1 2 2 3
        (0.25, 8, "floor", [0, 0, 0, 1, 0, 0, 0, 1]),
        (0.25, 8, "round", [0, 1, 0, 0, 0, 1, 0, 0]),
        (0.625, 4, "floor", [0, 1, 0, 1]),  # 2.5 spikes -> 2
        (0.625, 4, "round", [1, 0, 1, 1]),  # 2.5 spikes -> 3 (half up)
        (1.0, 3, "floor", [1, 1, 1]),
        (0.0, 3, "round", [0, 0, 0]),
        (0.375, 1, "round", [0]),
        (0.5, 1, "round", [1]),
    ],
)
def test_hand_computed_trains(x, T, rounding, expected):
    assert _train(x, T, rounding) == expected


def test_counts_are_exact_for_many_inputs_and_lengths():
    x = torch.rand(500, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    for T in (1, 7, 10, 33, 100):
        s = rate_encode(x, T)
        assert torch.equal(s.sum(0), torch.floor(x * T))
        r = rate_encode(x, T, rounding="round")
        assert torch.equal(r.sum(0), torch.floor(x * T + 0.5))
        assert set(s.unique().tolist()) <= {0.0, 1.0}


def test_matches_if_neuron_with_soft_reset():
    # Dyadic inputs keep the float64 reference loop exact.
    x = torch.arange(0, 65, dtype=torch.float64) / 64
    T = 50
    for v0, rounding in ((0.0, "floor"), (0.5, "round")):
        v = torch.full_like(x, v0)
        ref = []
        for _ in range(T):
            v = v + x
            s = (v >= 1.0).double()
            v = v - s
            ref.append(s)
        assert torch.equal(rate_encode(x, T, rounding=rounding), torch.stack(ref))


def test_spikes_are_evenly_spaced():
    x = torch.tensor([0.3, 0.37, 0.5, 0.71, 0.9], dtype=torch.float64)
    s = rate_encode(x, 200)
    for i in range(len(x)):
        gaps = torch.diff(torch.nonzero(s[:, i]).flatten())
        period = 1 / x[i].item()
        assert set(gaps.tolist()) <= {math.floor(period), math.ceil(period)}


def test_module_matches_function_and_multidim_shape():
    x = torch.rand(2, 3, 4)
    enc = RateEncoder(T=6, rounding="round")
    out = enc(x)
    assert out.shape == (6, 2, 3, 4) and out.dtype == x.dtype
    assert torch.equal(out, rate_encode(x, 6, rounding="round"))
    assert "rounding='round'" in repr(enc)


def test_clamp_option():
    s = rate_encode(torch.tensor([-1.0, 2.0]), 5, clamp=True)
    assert s.sum(0).tolist() == [0.0, 5.0]
