"""SpikeProp: spike times of the SRM neuron, the spike-time gradient against finite differences
(one spike per neuron and the multi-spike option), and its errors."""

from __future__ import annotations

import math

import pytest
import torch

from spikesmith.learning.spikeprop import SpikeProp, SpikePropParams, layer_spikes, srm_kernel, time_error

XOR_IN = torch.tensor([[0, 0, 0], [0, 0, 6], [0, 6, 0], [0, 6, 6]], dtype=torch.float64)
XOR_TARGET = torch.tensor([16, 10, 10, 16], dtype=torch.float64).view(4, 1)


def test_one_terminal_fires_where_its_kernel_reaches_threshold():
    # w eps(t - d) = 1 with w = 2, d = 1, tau = 7: (s/7) e^(1 - s/7) = 1/2 on the rising side
    params = SpikePropParams(delays=(1.0,))
    t = layer_spikes(torch.zeros(1, 1, 1, dtype=torch.float64), torch.full((1, 1, 1), 2.0, dtype=torch.float64),
                     params)[0, 0, 0].item()
    eps, _ = srm_kernel(torch.tensor([t - 1.0], dtype=torch.float64), 7.0)
    assert 1.0 < t < 8.0 and 2 * eps.item() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("multi_spike", [False, True])
def test_gradient_matches_finite_differences(multi_spike):
    # min_slope tiny: the gradient is the exact one (the floor only guards spikes that barely reach threshold)
    params = SpikePropParams(delays=(1.0, 4.0, 7.0, 10.0), window=30.0, dt=0.5, multi_spike=multi_spike, max_spikes=2,
                             min_slope=1e-9)
    net = SpikeProp([3, 3, 1], params, inhibitory=[0, 1], init=(0.0, 0.6), generator=torch.Generator().manual_seed(0))
    out = net(XOR_IN)
    if multi_spike:
        assert (torch.isfinite(out[1]).sum(-1) > 1).any()          # some hidden neuron fired more than once
    time_error(out[-1], XOR_TARGET, net.params).backward()
    moved = set()
    for layer, weight in enumerate(net.weights):
        top = weight.grad.abs().flatten().topk(2).indices          # the two terminals that matter most
        for index in [tuple(int(i) for i in torch.unravel_index(k, weight.shape)) for k in top] + [(0, 0, 3)]:
            eps = 1e-6
            with torch.no_grad():
                weight[index] += eps
                up = time_error(net(XOR_IN)[-1], XOR_TARGET, net.params).item()
                weight[index] -= 2 * eps
                down = time_error(net(XOR_IN)[-1], XOR_TARGET, net.params).item()
                weight[index] += eps
            assert weight.grad[index].item() == pytest.approx((up - down) / (2 * eps), rel=1e-4, abs=1e-7), index
            if weight.grad[index].item() != 0:
                moved.add(layer)
    assert moved == {0, 1}                                            # hidden and output weights both checked


@pytest.mark.parametrize("params, message", [
    ({"tau": -7.0}, "tau must be a number > 0, got -7.0"),
    ({"delays": ()}, "delays must be a non-empty list"),
    ({"max_spikes": 0}, "max_spikes must be an int >= 1"),
])
def test_bad_parameters_name_the_fix(params, message):
    with pytest.raises(ValueError, match=message):
        SpikePropParams(**params)


def test_bad_inputs_name_the_fix():
    net = SpikeProp([2, 1])
    with pytest.raises(ValueError, match="non-empty"):
        net(torch.zeros(0, 2))
    with pytest.raises(ValueError, match="ascending"):
        net(torch.tensor([[[4.0, 1.0], [0.0, math.inf]]]))
    with pytest.raises(ValueError, match=r"must lie in \[0, window=40.0\)"):
        net(torch.tensor([[50.0, 1.0]]))
    with pytest.raises(ValueError, match="the inputs have 3 neurons but the network 2"):
        net(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="at least two positive layer widths"):
        SpikeProp([3])


def test_the_multi_spike_option_solves_xor():
    # the paper's XOR, made quick: 6 terminals per connection (delays 1, 4, ..., 16 ms), a 1 ms search grid,
    # at most two spikes per neuron; measured: E < 1 ms^2 after 61 epochs (seeds 1, 2: 67, 70)
    params = SpikePropParams(delays=(1.0, 4.0, 7.0, 10.0, 13.0, 16.0), multi_spike=True, max_spikes=2, dt=1.0,
                             window=30.0)
    net = SpikeProp([3, 5, 1], params, inhibitory=[0, 1], init=(0.0, 0.6), generator=torch.Generator().manual_seed(0))
    opt = torch.optim.Adam(net.parameters(), lr=0.03)
    for _ in range(120):
        out = net(XOR_IN)
        error = time_error(out[-1], XOR_TARGET, params)
        if error.item() < 1.0:
            break
        opt.zero_grad()
        error.backward()
        opt.step()
        net.keep_signs()
    first = out[-1][:, 0, 0].detach()
    assert error.item() < 1.0
    assert ((first < 13) == (XOR_TARGET[:, 0] < 13)).all()              # 4/4: early for 01 and 10, late else
    assert (torch.isfinite(out[1]).sum(-1) == 2).any()                   # hidden neurons did fire twice
