"""Delay, DelayedLinear, LearnableDelay: exact shifts of hand-made trains, single step == multi step,
gradients of the delay positions against finite differences, rounding, and every bad input."""

from __future__ import annotations

import pickle

import pytest
import torch

from spikesmith import functional, layer
from spikesmith.dynamics.delay import gaussian_taps, kernel_linear
from spikesmith.layer.learnable_delay import sigma_at

pytestmark = pytest.mark.usefixtures("one_thread")


def spikes_at(T: int, N: int, times: dict[int, list[int]], channels: int) -> torch.Tensor:
    """A [T, N, channels] train with a spike at each (t, channel) listed (the same for every sample)."""
    x = torch.zeros(T, N, channels)
    for c, ts in times.items():
        for t in ts:
            x[t, :, c] = 1.0
    return x


def single_steps(module, x_seq):
    functional.reset_net(module)
    module.step_mode = "s"
    out = torch.stack([module(x) for x in x_seq])
    functional.reset_net(module)
    module.step_mode = "m"
    return out


# ----------------------------------------------------------------------------- Delay (per channel)
def test_delay_shifts_hand_made_trains_exactly():
    x = spikes_at(8, 2, {0: [0, 3], 1: [1], 2: [0, 7]}, 3)
    y = layer.Delay(torch.tensor([0, 2, 5]), step_mode="m")(x)
    expected = spikes_at(8, 2, {0: [0, 3], 1: [3], 2: [5]}, 3)   # channel 2's spike at 7 leaves the window
    assert torch.equal(y, expected)


def test_delay_per_channel_of_a_feature_map():
    x = torch.arange(5 * 1 * 2 * 2 * 2, dtype=torch.float32).reshape(5, 1, 2, 2, 2)
    y = layer.Delay(torch.tensor([1, 3]).reshape(2, 1, 1), step_mode="m")(x)
    assert torch.equal(y[1:, :, 0], x[:-1, :, 0]) and torch.equal(y[:1, :, 0], torch.zeros_like(y[:1, :, 0]))
    assert torch.equal(y[3:, :, 1], x[:-3, :, 1]) and not y[:3, :, 1].any()


def test_delay_single_step_equals_multi_step_and_reset_empties_the_ring():
    torch.manual_seed(0)
    x = (torch.rand(9, 3, 4) < 0.4).float()
    d = layer.Delay(torch.tensor([0, 1, 4, 2]), step_mode="m")
    assert torch.equal(single_steps(d, x), d(x))
    d.step_mode = "s"
    for step in x[:3]:
        d(step)
    functional.reset_net(d)
    assert d.history is None


def test_delay_gradient_is_the_shift_back():
    x = torch.randn(6, 2, 3, requires_grad=True)
    delays = torch.tensor([0, 1, 3])
    g = torch.randn(6, 2, 3)
    (layer.Delay(delays, step_mode="m")(x) * g).sum().backward()
    for c, d in enumerate(delays.tolist()):
        expected = torch.cat([g[d:, :, c], torch.zeros(d, 2)]) if d else g[:, :, c]
        assert torch.equal(x.grad[:, :, c], expected)


def test_delay_pickles_and_keeps_delays_in_state_dict():
    d = layer.Delay(torch.tensor([2, 0]), step_mode="m")
    assert torch.equal(d.state_dict()["delays"], torch.tensor([2, 0]))
    again = pickle.loads(pickle.dumps(d))
    x = torch.rand(4, 1, 2)
    assert torch.equal(again(x), d(x))


# ----------------------------------------------------------------------------- DelayedLinear (per synapse)
def direct_delayed_linear(x, weight, delays, bias):
    """The unoptimised sum over synapses: Y[t, n, o] = sum_i W_oi X[t - d_oi, n, i] + b_o."""
    T, N, n_in = x.shape
    out = torch.zeros(T, N, weight.shape[0], dtype=x.dtype)
    for t in range(T):
        for o in range(weight.shape[0]):
            for i in range(n_in):
                d = int(delays[o, i])
                if t - d >= 0:
                    out[t, :, o] += weight[o, i] * x[t - d, :, i]
    return out + bias


def test_delayed_linear_equals_the_direct_sum():
    torch.manual_seed(1)
    m = layer.DelayedLinear(4, 3, torch.randint(0, 5, (3, 4)), step_mode="m").double()
    x = torch.rand(7, 2, 4, dtype=torch.float64)
    expected = direct_delayed_linear(x, m.weight.detach(), m.delays, m.bias.detach())
    assert torch.allclose(m(x), expected, atol=1e-12)


def test_delayed_linear_single_step_equals_multi_step():
    torch.manual_seed(2)
    m = layer.DelayedLinear(5, 3, torch.randint(0, 4, (3, 5)), step_mode="m").double()
    x = torch.rand(8, 2, 5, dtype=torch.float64)
    assert torch.allclose(single_steps(m, x), m(x), atol=1e-12)


def test_delayed_linear_moves_one_spike_by_its_synapse_delay():
    m = layer.DelayedLinear(2, 2, torch.tensor([[3, 0], [1, 2]]), bias=False, step_mode="m")
    with torch.no_grad():
        m.weight.copy_(torch.tensor([[1.0, 10.0], [100.0, 1000.0]]))
    y = m(spikes_at(6, 1, {0: [0], 1: [1]}, 2))[:, 0]
    expected = torch.zeros(6, 2)
    expected[3, 0] += 1.0       # input 0 -> output 0 after 3 steps
    expected[1, 0] += 10.0      # input 1 (at t=1) -> output 0 at once
    expected[1, 1] += 100.0     # input 0 -> output 1 after 1 step
    expected[3, 1] += 1000.0    # input 1 (at t=1) -> output 1 after 2 steps
    assert torch.equal(y, expected)


# ----------------------------------------------------------------------------- LearnableDelay
def direct_taps(p: float, sigma: float, D: int) -> torch.Tensor:
    g = torch.tensor([torch.exp(torch.tensor(-((k - p) ** 2) / (2 * sigma ** 2), dtype=torch.float64)).item()
                      for k in range(D + 1)], dtype=torch.float64)
    return g / g.sum()


def test_gaussian_taps_hand_computed():
    taps = gaussian_taps(torch.tensor([2.0], dtype=torch.float64), 0.5, 4)[0]
    e2, e8 = torch.exp(torch.tensor(-2.0, dtype=torch.float64)), torch.exp(torch.tensor(-8.0, dtype=torch.float64))
    z = 1 + 2 * e2 + 2 * e8
    assert torch.allclose(taps, torch.stack([e8, e2, torch.tensor(1.0, dtype=torch.float64), e2, e8]) / z)
    assert torch.allclose(gaussian_taps(torch.tensor([1.3], dtype=torch.float64), 2.0, 5)[0], direct_taps(1.3, 2.0, 5))


def test_kernel_linear_is_a_causal_convolution():
    torch.manual_seed(3)
    x = torch.rand(6, 2, 3, dtype=torch.float64)
    kernel = torch.randn(4, 3, 3, dtype=torch.float64)
    y = kernel_linear(x, kernel)
    expected = torch.zeros(6, 2, 4, dtype=torch.float64)
    for t in range(6):
        for k in range(3):
            if t - k >= 0:
                expected[t] += x[t - k] @ kernel[:, :, k].T
    assert torch.allclose(y, expected, atol=1e-12)


def test_learnable_delay_position_gradients_match_finite_differences():
    torch.manual_seed(4)
    m = layer.LearnableDelay(3, 2, max_delay=5, step_mode="m").double()
    m.set_sigma(1.0)
    x = torch.rand(9, 2, 3, dtype=torch.float64)
    g = torch.randn(9, 2, 2, dtype=torch.float64)
    with torch.no_grad():
        m.positions.copy_(torch.tensor([[0.7, 2.2, 4.1], [1.5, 3.3, 2.9]]))
    (m(x) * g).sum().backward()
    grad = m.positions.grad.clone()
    assert grad.abs().sum() > 0
    eps = 1e-6
    for o in range(2):
        for i in range(3):
            with torch.no_grad():
                m.positions[o, i] += eps
                up = (m(x) * g).sum()
                m.positions[o, i] -= 2 * eps
                down = (m(x) * g).sum()
                m.positions[o, i] += eps
            assert abs(float((up - down) / (2 * eps)) - float(grad[o, i])) < 1e-6


def test_learnable_delay_gradcheck():
    torch.manual_seed(5)
    m = layer.LearnableDelay(2, 2, max_delay=3, step_mode="m").double()
    x = torch.rand(5, 1, 2, dtype=torch.float64)

    def f(positions, weight):
        return kernel_linear(x, weight.unsqueeze(-1) * gaussian_taps(positions, 0.8, 3))

    assert torch.autograd.gradcheck(f, (m.positions.detach().clone().requires_grad_(),
                                        m.weight.detach().clone().requires_grad_()))


def test_learnable_delay_single_step_equals_multi_step_in_training_and_eval():
    torch.manual_seed(6)
    m = layer.LearnableDelay(4, 3, max_delay=4, step_mode="m").double()
    m.set_sigma(1.2)
    x = torch.rand(8, 2, 4, dtype=torch.float64)
    assert torch.allclose(single_steps(m, x), m(x), atol=1e-12)
    m.eval()
    assert torch.allclose(single_steps(m, x), m(x), atol=1e-12)


def test_eval_uses_the_rounded_delays_exactly():
    torch.manual_seed(7)
    m = layer.LearnableDelay(4, 3, max_delay=6, step_mode="m").double().eval()
    x = (torch.rand(10, 2, 4) < 0.3).double()
    delays = m.positions.detach().clamp(0, 6).round().long()
    expected = direct_delayed_linear(x, m.weight.detach(), delays, m.bias.detach())
    assert torch.allclose(m(x), expected, atol=1e-12)
    fixed = m.to_fixed()
    assert torch.equal(fixed.delays, delays) and torch.allclose(fixed(x), expected, atol=1e-12)


def test_rounded_delays_reproduce_the_trained_output_once_sigma_is_small():
    torch.manual_seed(8)
    m = layer.LearnableDelay(6, 4, max_delay=8, step_mode="m")
    with torch.no_grad():            # keep positions away from the half steps, where rounding is ambiguous
        m.positions.copy_(torch.randint(0, 9, (4, 6)).float() + 0.3 * (torch.rand(4, 6) - 0.5))
    x = (torch.rand(20, 3, 6) < 0.3).float()
    opt = torch.optim.Adam(m.parameters(), lr=0.02)
    for epoch in range(6):           # a short "training" along the schedule, down to a small sigma
        m.epoch_start(epoch, 6)
        loss = m(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    m.set_sigma(0.15)
    trained = m(x).detach()
    m.eval()
    rounded = m(x).detach()
    assert (trained - rounded).abs().max() < 1e-3 * max(1.0, float(rounded.abs().max()))
    m.train()
    m.set_sigma(2.0)
    assert (m(x) - rounded).abs().max() > 1e-2     # a wide Gaussian is not the rounded model


def test_round_delays_switches_training_to_shifts():
    torch.manual_seed(9)
    m = layer.LearnableDelay(3, 2, max_delay=4, step_mode="m")
    x = torch.rand(6, 2, 3)
    m.round_delays()
    assert bool(m.rounded) and torch.equal(m.positions, m.positions.round())
    assert m.uses_shifts() and m.training
    assert torch.allclose(m(x), m.to_fixed()(x))
    state = m.state_dict()
    assert {"weight", "positions", "bias", "sigma", "rounded"} <= set(state)


def test_sigma_schedule_goes_from_sigma0_to_the_end():
    assert sigma_at(0, 10, 12.5) == pytest.approx(12.5)
    assert sigma_at(9, 10, 12.5) == pytest.approx(0.5)
    assert sigma_at(0, 1, 12.5) == pytest.approx(0.5)
    mids = [sigma_at(e, 10, 12.5) for e in range(10)]
    assert all(a > b for a, b in zip(mids, mids[1:]))
    m = layer.LearnableDelay(2, 2, max_delay=10)
    assert float(m.sigma) == pytest.approx(5.0)
    m.epoch_start(4, 5)
    assert float(m.sigma) == pytest.approx(0.5)


# ----------------------------------------------------------------------------- bad input
def test_negative_delays_are_refused():
    with pytest.raises(ValueError, match=r"delays must be >= 0"):
        layer.Delay(torch.tensor([1, -1]))
    with pytest.raises(ValueError, match=r"delays must be >= 0"):
        layer.DelayedLinear(2, 2, torch.tensor([[0, -2], [1, 1]]))


def test_fractional_and_non_numeric_delays_are_refused():
    with pytest.raises(ValueError, match=r"whole numbers"):
        layer.Delay(torch.tensor([0.5, 1.0]))
    with pytest.raises(TypeError, match=r"whole numbers"):
        layer.Delay("three")
    with pytest.raises(TypeError, match=r"bool"):
        layer.Delay(True)
    with pytest.raises(ValueError, match=r"empty"):
        layer.Delay([])


def test_a_delay_longer_than_the_sequence_is_refused():
    with pytest.raises(ValueError, match=r"delay of 5 steps does not fit a sequence of T=4"):
        layer.Delay(torch.tensor([0, 5]), step_mode="m")(torch.rand(4, 1, 2))
    with pytest.raises(ValueError, match=r"does not fit a sequence of T=3"):
        layer.DelayedLinear(2, 2, 3, step_mode="m")(torch.rand(3, 1, 2))
    with pytest.raises(ValueError, match=r"lower max_delay"):
        layer.LearnableDelay(2, 2, max_delay=25, step_mode="m")(torch.rand(20, 1, 2))


def test_bad_max_delay_and_shapes_are_refused():
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match=r"max_delay must be a positive int"):
            layer.LearnableDelay(2, 2, max_delay=bad)
    with pytest.raises(ValueError, match=r"do not broadcast"):
        layer.Delay(torch.tensor([1, 2, 3]), step_mode="m")(torch.rand(5, 1, 2))
    with pytest.raises(ValueError, match=r"do not broadcast to the synapses"):
        layer.DelayedLinear(2, 3, torch.zeros(2, 2, dtype=torch.long))
    with pytest.raises(ValueError, match=r"expects 3 input features"):
        layer.LearnableDelay(3, 2, max_delay=2, step_mode="m")(torch.rand(5, 1, 4))
    with pytest.raises(ValueError, match=r"sigma must be a positive"):
        layer.LearnableDelay(3, 2, max_delay=2).set_sigma(0.0)


def test_a_changed_batch_without_reset_is_an_error_in_single_step():
    d = layer.Delay(torch.tensor([1, 0]))
    d(torch.rand(2, 2))
    with pytest.raises(ValueError, match=r"reset_net"):
        d(torch.rand(3, 2))
