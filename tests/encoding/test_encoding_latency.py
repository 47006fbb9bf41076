"""Latency coding: spike times by hand, one spike per input, the log code and its threshold."""

import math

import pytest
import torch

from spikesmith.encoding import LatencyEncoder, latency_encode, latency_times, times_to_spikes

INF = math.inf


def _times(x, T, **kw):
    return latency_times(torch.tensor(x, dtype=torch.float64), T, **kw).tolist()


def test_linear_times_by_hand():
    # t = round((1 - x) * 4): 0, 0.5 -> 0 (ties to even), 1.5 -> 2, 2, 3, 4
    x = [1.0, 0.875, 0.625, 0.5, 0.25, 0.0]
    assert _times(x, 5) == [0, 0, 2, 2, 3, 4]


def test_linear_train_by_hand():
    s = latency_encode(torch.tensor([1.0, 0.5, 0.0]), 5)
    expected = torch.tensor(
        [[1, 0, 0], [0, 0, 0], [0, 1, 0], [0, 0, 0], [0, 0, 1]], dtype=torch.float32
    )
    assert torch.equal(s, expected)


def test_clip_drops_zero_inputs_only():
    assert _times([0.0, 0.25, 1.0], 5, clip=True) == [INF, 3, 0]
    s = latency_encode(torch.tensor([0.0, 0.25]), 5, clip=True)
    assert s.sum(0).tolist() == [0.0, 1.0]


def test_exactly_one_spike_per_input_linear():
    x = torch.rand(4, 7, 5, generator=torch.Generator().manual_seed(0))
    s = latency_encode(x, 12)
    assert torch.equal(s.sum(0), torch.ones_like(x))
    # the spike step is the rounded linear time
    assert torch.equal(s.argmax(0).float(), torch.round((1 - x) * 11))


def test_log_times_by_hand():
    # tau = 1, threshold = 0.5: t = ln(x / (x - 0.5))
    #   x = 1 -> ln 2 = 0.69 -> 1;  0.6 -> ln 6 = 1.79 -> 2;  0.51 -> ln 51 = 3.93 -> 4
    #   x = 0.5 (= threshold), 0.3, 0 -> never
    x = [1.0, 0.6, 0.51, 0.5, 0.3, 0.0]
    assert _times(x, 10, code="log", tau=1.0, threshold=0.5) == [1, 2, 4, INF, INF, INF]
    # tau = 5: 1 -> 3.47 -> 3;  0.75 -> 5 ln 3 = 5.49 -> 5;  0.55 -> 5 ln 11 = 11.99 -> 12 > T - 1
    x = [1.0, 0.75, 0.55]
    assert _times(x, 10, code="log", tau=5.0, threshold=0.5) == [3, 5, INF]


def test_log_below_threshold_never_spikes_and_at_most_one_spike():
    x = torch.linspace(0, 1, 101, dtype=torch.float64)
    s = latency_encode(x, 50, code="log", tau=10.0, threshold=0.2)
    counts = s.sum(0)
    assert torch.all(counts[x <= 0.2] == 0)
    assert torch.all(counts <= 1)
    assert counts[x > 0.5].min() == 1  # strong inputs do fire within 50 steps
    # earlier for larger inputs
    first = s.argmax(0)[counts == 1]
    assert torch.all(torch.diff(first) <= 0)


def test_log_normalize_by_hand():
    # threshold 0.5, epsilon 0.25: L(1) = ln 2, L(0.75) = ln 3, t = 10 (L(x) - ln 2) / ln 1.5
    #   x = 1 -> 0;  0.9 -> L = ln 2.25 -> 2.90 -> 3;  0.8 -> L = ln(8/3) -> 7.10 -> 7;
    #   x = 0.75 -> 10 (= T - 1);  0.6 -> 27.1 > T - 1 -> dropped
    x = [1.0, 0.9, 0.8, 0.75, 0.6]
    kw = dict(code="log", threshold=0.5, epsilon=0.25, normalize=True)
    assert _times(x, 11, tau=1.0, **kw) == [0, 3, 7, 10, INF]
    assert _times(x, 11, tau=7.0, **kw) == [0, 3, 7, 10, INF]  # tau cancels


def test_log_normalize_spans_whole_window():
    # x = 1 lands on step 0, x = threshold + epsilon on step T - 1, in between in order.
    thr, eps = 0.01, 1e-7
    x = torch.tensor([1.0, 0.5, 0.02, 0.0101, thr + eps, thr], dtype=torch.float64)
    t = latency_times(x, 25, code="log", threshold=thr, epsilon=eps, normalize=True).tolist()
    assert t[0] == 0 and t[4] == 24 and t[5] == INF
    assert t[0] <= t[1] <= t[2] <= t[3] <= t[4]
    assert 0 < t[2] < t[3] < 24


def test_normalize_does_not_change_linear():
    x = torch.rand(50, generator=torch.Generator().manual_seed(2))
    assert torch.equal(latency_encode(x, 9), latency_encode(x, 9, normalize=True))


def test_times_to_spikes_ignores_out_of_window():
    times = torch.tensor([0.0, 2.0, INF, 3.0, -1.0])
    s = times_to_spikes(times, 3)
    assert s.shape == (3, 5)
    assert s.sum(0).tolist() == [1, 1, 0, 0, 0]
    assert s[2, 1] == 1


def test_T_equal_one_puts_everything_on_step_zero():
    assert _times([0.0, 0.3, 1.0], 1) == [0, 0, 0]


def test_module_matches_function():
    x = torch.rand(3, 4, generator=torch.Generator().manual_seed(3))
    enc = LatencyEncoder(T=15, code="log", tau=4.0, threshold=0.1, clip=True)
    expected = latency_encode(x, 15, code="log", tau=4.0, threshold=0.1, clip=True)
    assert torch.equal(enc(x), expected)
    assert "code='log'" in repr(enc)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_times_exact_for_low_precision_inputs(dtype):
    # T = 3000 > 2048: a half-precision time computation would skip steps.
    x = torch.tensor([0.5, 0.25], dtype=dtype)
    s = latency_encode(x, 3001)
    assert s.dtype == dtype
    assert s.argmax(0).tolist() == [1500, 2250]
