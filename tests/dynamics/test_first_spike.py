"""Non-leaky IF neurons that fire once: the first crossing, one spike per neuron, and the stepwise form."""

import math

import torch

from spikesmith.dynamics.first_spike import first_crossing, if_first_spike, if_first_spike_times


def test_if_neuron_integrates_without_leak_and_fires_once():
    currents = torch.tensor([[0.4, 1.0], [0.4, 0.0], [0.4, 5.0], [0.4, 5.0], [0.0, 5.0]])   # [T=5, 2 neurons]
    spikes, v = if_first_spike(currents, threshold=1.0)
    # neuron 0: 0.4, 0.8, 1.2 -> fires at step 2; neuron 1 reaches 1.0 at step 0 (>= fires), then stays silent
    assert spikes[:, 0].tolist() == [0, 0, 1, 0, 0]
    assert spikes[:, 1].tolist() == [1, 0, 0, 0, 0]
    assert torch.allclose(v[:, 0], torch.tensor([0.4, 0.8, 1.2, 1.6, 1.6]))
    assert spikes.sum(0).tolist() == [1.0, 1.0]


def test_one_spike_per_neuron_for_random_currents():
    g = torch.Generator().manual_seed(1)
    spikes, _ = if_first_spike(torch.rand(20, 50, generator=g) * 0.5, threshold=2.0)
    assert bool((spikes.sum(0) <= 1).all()) and spikes.sum() > 0


def test_never_crossing_is_inf_and_the_stepwise_form_agrees():
    g = torch.Generator().manual_seed(2)
    v = torch.rand(6, 3, 4, generator=g).cumsum(0)
    times = first_crossing(v, 2.5)
    stepwise, at = if_first_spike_times(lambda t: v[t], 6, 2.5)
    assert torch.equal(times, stepwise)
    fired = torch.isfinite(times)
    assert bool(fired.any()) and not bool(fired.all())
    assert math.isinf(float(first_crossing(torch.zeros(3, 1), 1.0)[0]))
    idx = times[fired].long()
    assert torch.equal(at[fired], v.permute(1, 2, 0)[fired][torch.arange(idx.numel()), idx])
    assert bool((at[~fired] == 0).all())
