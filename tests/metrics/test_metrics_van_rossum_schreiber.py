"""van Rossum distance and Schreiber correlation against their closed forms, binned against spike times,
and bad input."""

import math

import pytest
import torch

from spikesmith.metrics import schreiber_correlation, schreiber_correlation_binned, van_rossum, van_rossum_binned

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("d, tau", [(0.0, 5.0), (1.0, 1.0), (3.0, 5.0), (40.0, 2.0)])
def test_van_rossum_single_spikes_closed_form(d, tau):
    # (2 / tau) * integral (e^{-t/tau} H(t) - e^{-(t-d)/tau} H(t-d))^2 dt = 2 (1 - e^{-d/tau})
    assert van_rossum([10.0], [10.0 + d], tau) == pytest.approx(math.sqrt(2 * (1 - math.exp(-d / tau))))


def test_van_rossum_one_spike_against_none_is_one_and_symmetric():
    assert van_rossum([3.0], [], 4.0) == pytest.approx(1.0)
    assert van_rossum([], [], 4.0) == 0.0
    a, b = [1.0, 4.0, 4.5], [2.0, 9.0]
    assert van_rossum(a, b, 3.0) == pytest.approx(van_rossum(b, a, 3.0))
    assert van_rossum(a, a, 3.0) == 0.0


def test_van_rossum_binned_equals_spike_times_on_the_grid():
    a, b = torch.zeros(200, 3), torch.zeros(200, 3)
    a[[10, 50, 51], 0] = 1
    b[[12, 90], 0] = 1
    b[5, 1] = 1                                                       # column 2 stays empty in both
    got = van_rossum_binned(a, b, tau=5.0, dt=0.25)
    want = [van_rossum([2.5, 12.5, 12.75], [3.0, 22.5], 5.0), 1.0, 0.0]
    torch.testing.assert_close(got, torch.tensor(want, dtype=torch.float64))


def test_schreiber_closed_form_and_identity():
    assert schreiber_correlation([1.0, 5.0], [1.0, 5.0], 1.0) == pytest.approx(1.0)
    assert schreiber_correlation([5.0], [7.0], 1.0) == pytest.approx(math.exp(-4 / 4))
    assert schreiber_correlation([5.0], [500.0], 1.0) == pytest.approx(0.0, abs=1e-12)


def test_schreiber_binned_equals_spike_times():
    a, b = torch.zeros(100, 2), torch.zeros(100, 2)
    a[[10, 40], 0], b[[12, 60], 0] = 1, 1
    a[20, 1], b[20, 1] = 1, 1
    got = schreiber_correlation_binned(a, b, sigma=2.0, dt=0.5)
    want = [schreiber_correlation([5.0, 20.0], [6.0, 30.0], 2.0), 1.0]
    torch.testing.assert_close(got, torch.tensor(want, dtype=torch.float64))


@pytest.mark.parametrize("call, match", [
    (lambda: van_rossum([1.0], [1.0], -2.0), "tau must be a finite number >= 0"),
    (lambda: van_rossum([1.0], [1.0], 0.0), "tau must be > 0"),
    (lambda: van_rossum([3.0, 1.0], [], 1.0), "must be sorted"),
    (lambda: schreiber_correlation([], [1.0], 1.0), "is empty"),
    (lambda: schreiber_correlation_binned(torch.zeros(5, 1), torch.ones(5, 1), 1.0, 1.0), "without spikes"),
    (lambda: van_rossum_binned(torch.zeros(0, 2), torch.zeros(0, 2), 1.0, 1.0), "at least one time step"),
])
def test_bad_input_is_refused_with_the_fix(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_binned_needs_tensors():
    with pytest.raises(TypeError, match="T x ... tensor"):
        van_rossum_binned([0, 1], [0, 1], 1.0, 1.0)


def test_schreiber_binned_on_a_long_run_matches_spike_times():
    a, b = torch.zeros(20_000, 2), torch.zeros(20_000, 2)
    a[[100, 9000], 0], b[[104, 15000], 0] = 1, 1
    a[500, 1], b[19_999, 1] = 1, 1
    got = schreiber_correlation_binned(a, b, sigma=1.0, dt=0.1)
    want = [schreiber_correlation([10.0, 900.0], [10.4, 1500.0], 1.0), 0.0]
    torch.testing.assert_close(got, torch.tensor(want, dtype=torch.float64), atol=1e-9, rtol=1e-7)


def test_extreme_time_constants_reach_their_limits_instead_of_nan():
    a, b = torch.zeros(20, 1), torch.zeros(20, 1)
    a[[2, 5, 9], 0], b[4, 0] = 1, 1
    # tau -> infinity: the traces never decay, D^2 -> (n_a - n_b)^2
    assert float(van_rossum_binned(a, b, tau=1e300, dt=0.5)[0]) == pytest.approx(2.0)
    assert van_rossum([1.0, 2.5, 4.5], [2.0], 1e300) == pytest.approx(2.0)
    # sigma -> 0: only coinciding spikes correlate
    assert schreiber_correlation([1.0, 2.0], [2.0], sigma=1e-300) == pytest.approx(1 / math.sqrt(2))
    assert float(schreiber_correlation_binned(a, b, sigma=1e-300, dt=0.5)[0]) == 0.0
    with pytest.raises(ValueError, match="NaN or infinite values"):
        van_rossum_binned(torch.full((5, 1), float("nan")), b[:5], tau=1.0, dt=1.0)


def test_long_trains_sum_only_the_pairs_within_reach():
    from spikesmith.metrics._checks import pair_sum

    g = torch.Generator().manual_seed(0)
    a = torch.sort(torch.rand(5_000, generator=g, dtype=torch.float64) * 2.5e4).values
    b = torch.sort(torch.rand(5_000, generator=g, dtype=torch.float64) * 2.5e4).values
    evaluated = []

    def kernel(d):
        evaluated.append(d.numel())
        return torch.exp(-d.abs() / 5.0)

    pair_sum(a, b, kernel, reach=200.0)
    assert sum(evaluated) < 0.1 * a.numel() * b.numel()           # not the 2.5e7 pairs of the whole table
    assert max(evaluated) <= 1 << 20                                # one block at a time
    # against all pairs on a slice, where that is cheap
    x, y = a[:1000], b[:1000]
    full = lambda u, v: torch.exp(-(u[:, None] - v[None, :]).abs() / 5.0).sum()
    want = math.sqrt(float(full(x, x) + full(y, y) - 2 * full(x, y)))
    assert van_rossum(x, y, 5.0) == pytest.approx(want, rel=1e-9)
    gauss = lambda u, v: torch.exp(-(u[:, None] - v[None, :]) ** 2 / 16.0).sum()
    assert schreiber_correlation(x, y, 2.0) == pytest.approx(
        float(gauss(x, y) / torch.sqrt(gauss(x, x) * gauss(y, y))), rel=1e-9)
