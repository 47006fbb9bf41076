"""The closed-form first-spike times of ``learning.ttfs`` against a simulated potential, their
gradient against finite differences, and the latency-level path against the general one."""

from __future__ import annotations

import math

import pytest
import torch

from spikesmith.learning.ttfs import first_spike_times, first_spike_times_levels, latency_levels


def simulated_first_spike(t_in, w, bias, step=1e-3, horizon=12.0):
    """The first time the potential sum w_i (1 - exp(-(t - t_i))) reaches 1, on a fine grid."""
    grid = torch.arange(0, horizon, step, dtype=torch.float64)
    times = torch.cat([torch.zeros(1, dtype=torch.float64), t_in.nan_to_num(posinf=2 * horizon)])
    weights = torch.cat([torch.tensor([bias], dtype=torch.float64), w])
    lag = grid.unsqueeze(1) - times
    v = (weights * (1 - torch.exp(-lag.clamp_min(0)))).sum(1)
    above = (v >= 1).nonzero()
    return grid[above[0, 0]].item() if len(above) else math.inf


def test_closed_form_matches_the_simulated_potential():
    gen = torch.Generator().manual_seed(3)
    t_in = torch.rand(3, 6, generator=gen, dtype=torch.float64) * 2
    t_in[0, 2] = math.inf                                              # a silent input
    w = torch.randn(6, 4, generator=gen, dtype=torch.float64) * 0.5 + 0.2
    bias = torch.tensor([0.0, 0.3, -0.2, 0.1], dtype=torch.float64)
    t_out, fired, _ = first_spike_times(t_in, w, bias)
    for n in range(3):
        for k in range(4):
            expected = simulated_first_spike(t_in[n], w[:, k], float(bias[k]))
            if math.isinf(expected):
                assert not fired[n, k] and math.isinf(t_out[n, k])
            else:
                assert fired[n, k] and t_out[n, k].item() == pytest.approx(expected, abs=2e-3)
    assert fired.any() and not fired.all()                             # both cases were checked


def test_one_input_above_threshold_fires_at_log_w_over_w_minus_1():
    # hand-checkable: one spike at 0 with weight 2 crosses 1 where 2 (1 - e^-t) = 1, t = log 2
    t_out, fired, _ = first_spike_times(torch.zeros(1, 1, dtype=torch.float64), torch.full((1, 1), 2.0,
                                                                                            dtype=torch.float64))
    assert fired.item() and t_out.item() == pytest.approx(math.log(2))


def test_gradient_matches_finite_differences():
    gen = torch.Generator().manual_seed(0)
    t_in = (torch.rand(2, 4, generator=gen, dtype=torch.float64) * 1.5).requires_grad_()
    w = (torch.rand(4, 2, generator=gen, dtype=torch.float64) * 0.6 + 0.2).requires_grad_()
    bias = torch.zeros(2, dtype=torch.float64, requires_grad=True)

    def loss(t, weight, b):
        out, fired, _ = first_spike_times(t, weight, b)
        return torch.where(fired, out, torch.zeros_like(out)).sum()

    assert torch.autograd.gradcheck(loss, (t_in, w, bias), eps=1e-7, atol=1e-5)


def test_latency_levels_give_the_same_times_as_the_sorted_path():
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(4, 10, generator=gen, dtype=torch.float64)
    x[x < 0.25] = 0                                                    # black pixels stay silent
    w = torch.rand(10, 6, generator=gen, dtype=torch.float64) * 0.5
    bias = torch.full((6,), 0.1, dtype=torch.float64)
    onehot, times = latency_levels(x, 17, 2.0)
    level = torch.round((1 - x) * 16).long()
    t_in = torch.where(x > 0, times[level], torch.full_like(x, math.inf))
    fast, fast_fired, _ = first_spike_times_levels(onehot, times, w, bias)
    ref, ref_fired, _ = first_spike_times(t_in, w, bias)
    assert torch.equal(fast_fired, ref_fired) and fast_fired.any()
    assert torch.allclose(fast[fast_fired], ref[ref_fired], atol=1e-12)


def test_bad_inputs_name_the_fix():
    with pytest.raises(ValueError, match="give inf for an input that does not fire"):
        first_spike_times(torch.tensor([[float("nan")]]), torch.ones(1, 1))
    with pytest.raises(ValueError, match="input times N x M and weights M x K"):
        first_spike_times(torch.zeros(2, 3), torch.ones(4, 1))
    with pytest.raises(ValueError, match="levels must be an int >= 2"):
        latency_levels(torch.rand(1, 3), 1, 1.0)


def test_nan_pixels_are_refused_not_coded_as_bright():
    with pytest.raises(ValueError, match="pixel intensities hold NaN; give values in"):
        latency_levels(torch.tensor([[math.nan, 0.5]]), 17, 1.0)
