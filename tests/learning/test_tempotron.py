"""The tempotron's potential and rule on hand-checkable cases, and its errors."""

from __future__ import annotations

import math

import pytest
import torch

from spikesmith.learning.tempotron import Tempotron, TempotronParams, potential, psp_kernel, tempotron_update

P = TempotronParams()          # tau 15 ms, tau_s 3.75 ms, 500 ms, dt 1 ms, threshold 1


def hand_kernel(s: float) -> float:
    """K(s) = V0 (exp(-s/tau) - exp(-s/tau_s)), V0 making the peak (at tau tau_s ln(tau/tau_s)/(tau - tau_s)) 1."""
    tau, tau_s = 15.0, 3.75
    peak = tau * tau_s * math.log(tau / tau_s) / (tau - tau_s)
    v0 = 1 / (math.exp(-peak / tau) - math.exp(-peak / tau_s))
    return v0 * (math.exp(-s / tau) - math.exp(-s / tau_s)) if s > 0 else 0.0


def test_potential_is_the_weighted_sum_of_kernels_at_every_grid_time():
    times = torch.tensor([[[10.0], [30.4]]], dtype=torch.float64)
    w = torch.tensor([0.5, 0.2], dtype=torch.float64)
    v = potential(times, w, P)[0]
    for t in (5, 11, 17, 31, 37, 200):
        assert v[t - 1].item() == pytest.approx(0.5 * hand_kernel(t - 10.0) + 0.2 * hand_kernel(t - 30.4), abs=1e-12)


def test_a_missed_target_pattern_moves_each_weight_by_lr_times_its_psp_at_t_max():
    # one spike per afferent, at 10 and 30 ms; V peaks at 0.5 near 17 ms (the first PSP's peak, 6.93 ms after 10)
    times = torch.tensor([[10.0, 30.0]], dtype=torch.float64)
    w = torch.tensor([0.5, 0.2], dtype=torch.float64)
    new_w, _, fired = tempotron_update(times, w, torch.tensor([True]), P)
    assert not fired.item()
    expected = [0.5 + P.lr * hand_kernel(17 - 10.0), 0.2 + P.lr * hand_kernel(17 - 30.0)]   # t_max = 17 ms
    assert new_w.tolist() == pytest.approx(expected, abs=1e-15)
    assert new_w[1].item() == 0.2                        # the later spike came after t_max: no change


def test_a_false_alarm_moves_the_weights_down_and_a_right_answer_not_at_all():
    times = torch.tensor([[10.0, 14.0]], dtype=torch.float64)
    w = torch.tensor([0.8, 0.8], dtype=torch.float64)
    new_w, _, fired = tempotron_update(times, w, torch.tensor([False]), P)
    assert fired.item()
    v = potential(times.unsqueeze(-1), w, P)[0]
    t_max = float(v.argmax() + 1)
    assert new_w.tolist() == pytest.approx([0.8 - P.lr * hand_kernel(t_max - 10), 0.8 - P.lr * hand_kernel(t_max - 14)])
    same, _, _ = tempotron_update(times, w, torch.tensor([True]), P)
    assert torch.equal(same, w)


def test_psp_kernel_peaks_at_one():
    s = torch.linspace(0, 60, 60001, dtype=torch.float64)
    assert psp_kernel(s, P).max().item() == pytest.approx(1.0, abs=1e-8)
    assert psp_kernel(torch.tensor([-1.0, 0.0, math.inf], dtype=torch.float64), P).tolist() == [0.0, 0.0, 0.0]


def test_learns_a_small_random_task():
    gen = torch.Generator().manual_seed(0)
    times = torch.rand(40, 100, generator=gen, dtype=torch.float64) * 500
    labels = torch.rand(40, generator=gen) < 0.5
    neuron = Tempotron(100, TempotronParams(lr=3e-3, momentum=0.9), generator=gen)
    for _ in range(60):
        neuron.learn(times, labels)
    assert torch.equal(neuron(times), labels)


@pytest.mark.parametrize("params, message", [
    ({"tau": -15.0}, "tau must be a number > 0, got -15.0"),
    ({"tau_s": 20.0}, "tau_s must be below tau"),
    ({"momentum": 1.0}, r"momentum must lie in \[0, 1\)"),
    ({"lr": 0}, "lr must be a number > 0"),
])
def test_bad_parameters_name_the_fix(params, message):
    with pytest.raises(ValueError, match=message):
        TempotronParams(**params)


def test_bad_patterns_name_the_fix():
    neuron = Tempotron(2)
    with pytest.raises(ValueError, match="non-empty"):
        neuron(torch.zeros(0, 2))
    with pytest.raises(ValueError, match="ascending"):
        neuron(torch.tensor([[[5.0, 1.0], [2.0, math.inf]]]))
    with pytest.raises(ValueError, match=r"must lie in \[0, duration=500.0\)"):
        neuron(torch.tensor([[600.0, 1.0]]))
    with pytest.raises(ValueError, match="must lie in"):
        neuron(torch.tensor([[-1.0, 1.0]]))
    with pytest.raises(ValueError, match="the patterns have 3 afferents but the neuron 2"):
        neuron(torch.rand(1, 3))
    with pytest.raises(ValueError, match="one bool per pattern"):
        neuron.learn(torch.rand(2, 2), torch.tensor([True]))


def test_labels_may_be_a_list():
    new_w, _, fired = tempotron_update(torch.tensor([[10.0, 30.0]], dtype=torch.float64),
                                       torch.tensor([0.5, 0.2], dtype=torch.float64), [True], P)
    assert not fired.item() and new_w[0].item() > 0.5
