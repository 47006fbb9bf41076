"""Population coding: centres and width by hand, responses, latency spikes."""

import math

import pytest
import torch

from spikesmith.encoding import (
    PopulationEncoder,
    gaussian_receptive_fields,
    population_centres,
    population_encode,
)


def test_linspace_centres_and_width_by_hand():
    mu, sigma = population_centres(5, 0.0, 1.0, dtype=torch.float64)
    assert mu.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert sigma == pytest.approx(0.25 / 1.5)
    mu, sigma = population_centres(3, -2.0, 2.0, beta=2.0, dtype=torch.float64)
    assert mu.tolist() == [-2.0, 0.0, 2.0] and sigma == pytest.approx(1.0)
    _, sigma = population_centres(3, sigma=0.3)
    assert sigma == 0.3


def test_bohte_centres_by_hand():
    # d = 1 / (5 - 2) = 1/3;  mu_i = (2i - 1) / 2 * d = -1/6, 1/6, 1/2, 5/6, 7/6;  sigma = d / 1.5
    mu, sigma = population_centres(5, 0.0, 1.0, spread="bohte", dtype=torch.float64)
    expected = torch.tensor([-1, 1, 3, 5, 7], dtype=torch.float64) / 6
    assert torch.allclose(mu, expected, rtol=0, atol=1e-15)
    assert sigma == pytest.approx(2 / 9)


def test_responses_by_hand_for_one_value():
    # centres 0, .25, .5, .75, 1 and sigma = 1/6: r = exp(-18 d^2)
    r = population_encode(torch.tensor([0.5], dtype=torch.float64), None, 5, output="current")
    assert r.shape == (1, 5)
    expected = [math.exp(-4.5), math.exp(-1.125), 1.0, math.exp(-1.125), math.exp(-4.5)]
    assert r[0].tolist() == pytest.approx(expected, rel=1e-12)


def test_spikes_by_hand_for_one_value():
    # T = 11: t = round((1 - r) * 10):  r = 1 -> 0;  r = e^-1.125 = 0.325 -> 6.75 -> 7;
    # r = e^-4.5 = 0.011 < min_response 0.1 -> no spike
    s = population_encode(torch.tensor([0.5]), 11, 5)
    assert s.shape == (11, 1, 5)
    assert s.sum(0)[0].tolist() == [0, 1, 1, 1, 0]
    assert s[0, 0].tolist() == [0, 0, 1, 0, 0]
    assert s[7, 0].tolist() == [0, 1, 0, 1, 0]
    # with min_response 0 the weak edge neurons fire late: round(0.989 * 10) = 10
    s = population_encode(torch.tensor([0.5]), 11, 5, min_response=0.0)
    assert s[10, 0].tolist() == [1, 0, 0, 0, 1]


def test_current_output_over_time_and_shapes():
    x = torch.rand(4, 3, generator=torch.Generator().manual_seed(0))
    r = population_encode(x, None, 6, output="current")
    assert r.shape == (4, 3, 6)
    rt = population_encode(x, 5, 6, output="current")
    assert rt.shape == (5, 4, 3, 6) and torch.equal(rt[3], r)
    mu, sigma = population_centres(6)
    assert torch.allclose(r, gaussian_receptive_fields(x, mu, sigma))
    assert torch.all((r > 0) & (r <= 1))


def test_each_neuron_spikes_at_most_once_and_peak_neuron_first():
    x = torch.rand(50, generator=torch.Generator().manual_seed(1))
    s = population_encode(x, 20, 8)
    assert torch.all(s.sum(0) <= 1)
    first = torch.where(s.sum(0) > 0, s.argmax(0).float(), torch.tensor(math.inf))
    mu, _ = population_centres(8)
    nearest = (x.unsqueeze(-1) - mu).abs().argmin(-1)
    # the neuron whose centre is nearest fires first (ties with a neighbour allowed)
    at_nearest = first.gather(-1, nearest.unsqueeze(-1)).squeeze(-1)
    assert torch.equal(at_nearest, first.min(-1).values)


def test_outside_range_allowed():
    r = population_encode(torch.tensor([5.0]), None, 4, output="current")
    assert torch.all(r < 1e-6)


def test_module_matches_function():
    x = torch.rand(2, 3, generator=torch.Generator().manual_seed(2))
    kw = dict(x_min=-1.0, x_max=2.0, spread="bohte", beta=1.0, min_response=0.2)
    enc = PopulationEncoder(12, 7, **kw)
    assert torch.equal(enc(x), population_encode(x, 12, 7, **kw))
    assert PopulationEncoder(None, 4, output="current")(x).shape == (2, 3, 4)
    assert "n_neurons=7" in repr(enc)
