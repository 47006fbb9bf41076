"""ReSuMe, Chronotron (E and I) and SPAN: each rule's weight change on one afferent and one output neuron,
computed by hand; the shared LIF; the trainer; and the errors for bad input."""

import math

import pytest
import torch

from spikesmith.learning import (SPAN, ChronotronE, ChronotronI, ReSuMe, SpikeTimingNeuron, TimingLIF,
                                 membrane_response, simulate, synaptic_current, target_train)

pytestmark = pytest.mark.usefixtures("one_thread")

NEURON = TimingLIF(tau_m=10.0, tau_s=5.0, v_threshold=1.0, dt=1.0)
T = 40


def one_afferent(step: int = 0) -> torch.Tensor:
    x = torch.zeros(T, 1, dtype=torch.float64)
    x[step, 0] = 1.0
    return x


def train_at(*steps: int) -> torch.Tensor:
    s = torch.zeros(T, dtype=torch.float64)
    s[list(steps)] = 1.0
    return s


def psp(k: int) -> float:
    """The PSP k ms after one input spike, by hand: V[k] = m sum_j (1 - m)^(k - j) d_s^j."""
    m, ds = 1 - math.exp(-1 / 10), math.exp(-1 / 5)
    return m * sum((1 - m) ** (k - j) * ds ** j for j in range(k + 1))


def update(rule, inputs, actual, desired):
    return float(rule.update(rule.features(inputs, NEURON), actual, desired, NEURON)[0])


def test_resume_potentiates_at_a_desired_spike_and_depresses_at_an_actual_one():
    rule = ReSuMe(lr=0.5, a=0.1, amplitude=1.0, tau=5.0)
    x = one_afferent(2)
    assert update(rule, x, train_at(), train_at(6)) == pytest.approx(0.5 * (0.1 + math.exp(-4 / 5)))
    assert update(rule, x, train_at(8), train_at(6)) == pytest.approx(
        0.5 * (0.1 + math.exp(-4 / 5)) - 0.5 * (0.1 + math.exp(-6 / 5)))
    assert update(rule, x, train_at(6), train_at(6)) == 0.0                # a hit changes nothing
    assert update(rule, x, train_at(1), train_at()) == pytest.approx(-0.5 * 0.1)   # before the input: a alone


def test_chronotron_e_inserts_deletes_and_shifts_by_the_victor_purpura_edit():
    rule = ChronotronE(lr=0.3, q=0.2, shift_gain=0.25)
    x = one_afferent(0)
    assert update(rule, x, train_at(), train_at(5)) == pytest.approx(0.3 * psp(5))            # insert
    assert update(rule, x, train_at(9), train_at()) == pytest.approx(-0.3 * psp(9))           # delete
    # 2 ms late: moving costs 0.4 < 2, so the spike is shifted earlier (weights up, by the lag)
    assert update(rule, x, train_at(7), train_at(5)) == pytest.approx(0.3 * 0.25 * 2 * psp(7))
    assert update(rule, x, train_at(3), train_at(5)) == pytest.approx(-0.3 * 0.25 * 2 * psp(3))
    # 25 ms apart: moving would cost 5 > 2, so delete the actual and insert the desired spike
    assert update(rule, x, train_at(30), train_at(5)) == pytest.approx(0.3 * (psp(5) - psp(30)))


def test_chronotron_i_uses_the_synaptic_current_at_both_spikes():
    rule = ChronotronI(lr=0.2)
    x = one_afferent(0)
    assert update(rule, x, train_at(7), train_at(5)) == pytest.approx(0.2 * (math.exp(-5 / 5) - math.exp(-7 / 5)))
    assert update(rule, x, train_at(5), train_at(5)) == 0.0


def test_span_is_the_overlap_of_the_alpha_kernels():
    neuron = TimingLIF(dt=0.05)
    x = torch.zeros(2000, 1, dtype=torch.float64)
    x[0, 0] = 1.0
    desired = torch.zeros(2000, dtype=torch.float64)
    desired[80] = 1.0                                                     # d = 4 ms
    rule = SPAN(lr=0.1, tau=5.0)
    got = float(rule.update(rule.features(x, neuron), torch.zeros_like(desired), desired, neuron)[0])
    d, tau = 4.0, 5.0
    want = 0.1 * math.e ** 2 * math.exp(-d / tau) * (tau + d) / 4        # integral of alpha(t) alpha(t - d)
    assert got == pytest.approx(want, rel=2e-3)
    assert float(rule.update(rule.features(x, neuron), desired, desired, neuron)[0]) == 0.0


def test_the_lif_follows_its_equations_and_psp_is_linear_below_threshold():
    x = one_afferent(0)
    current = synaptic_current(x, NEURON)
    spikes, v = simulate(current, torch.tensor([0.5], dtype=torch.float64), NEURON)
    assert spikes.sum() == 0
    torch.testing.assert_close(v, 0.5 * membrane_response(current, NEURON)[:, 0])
    assert float(v[5]) == pytest.approx(0.5 * psp(5))
    spikes, v = simulate(current, torch.tensor([20.0], dtype=torch.float64), NEURON)
    first = int(spikes.nonzero()[0, 0])
    assert 20 * psp(first) >= 1.0 > 20 * psp(first - 1)                    # fires at the first crossing


def test_one_neuron_and_a_batch_of_neurons_give_the_same_spikes():
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(300, 50, generator=g) < 0.02).double()
    current = synaptic_current(x, NEURON)
    w = 0.3 + 0.2 * torch.randn(3, 50, generator=g, dtype=torch.float64)
    batch_spikes, batch_v = simulate(current, w, NEURON)
    assert batch_spikes.sum() > 0
    for i in range(3):
        spikes, v = simulate(current, w[i], NEURON)
        assert torch.equal(spikes, batch_spikes[:, i])
        torch.testing.assert_close(v, batch_v[:, i])


@pytest.mark.parametrize("rule", [ReSuMe(lr=0.05), ChronotronE(lr=0.05), ChronotronI(lr=0.05), SPAN(lr=0.01)],
                         ids=lambda r: type(r).__name__)
def test_each_rule_learns_a_small_target(rule):
    g = torch.Generator().manual_seed(1)
    x = (torch.rand(200, 40, generator=g) < 0.02).double()
    cell = SpikeTimingNeuron(40, NEURON, init_mean=0.05, init_std=0.05, seed=0)
    history = cell.fit(x, [60.0, 140.0], rule, epochs=60)
    assert history.victor_purpura[0] > 1.0
    assert history.victor_purpura[-1] < 0.5 * history.victor_purpura[0]
    assert len(history.van_rossum) == 61


@pytest.mark.parametrize("call, error, match", [
    (lambda: target_train([10.0, 600.0], 1000, 0.5), ValueError, "lies outside the simulated 0..499.5 ms"),
    (lambda: target_train([30.0, 10.0], 1000, 0.5), ValueError, "must be sorted"),
    (lambda: target_train([10.0, 10.2], 1000, 0.5), ValueError, "same 0.5 ms step"),
    (lambda: SpikeTimingNeuron(3).fit(torch.zeros(10, 4), [1.0], ReSuMe(), 1), ValueError, "n_in = 4"),
    (lambda: SpikeTimingNeuron(3).fit(torch.zeros(10), [1.0], ReSuMe(), 1), ValueError, "T x n_in"),
    (lambda: SpikeTimingNeuron(3).fit(torch.zeros(10, 3), [1.0], "resume", 1), TypeError, "ReSuMe, ChronotronE"),
    (lambda: SpikeTimingNeuron(3).fit(torch.zeros(10, 3), [1.0], ReSuMe(), -1), ValueError, "epochs"),
    (lambda: ReSuMe(a=-1.0), ValueError, "pass a=0"),
    (lambda: ChronotronE(q=-0.2), ValueError, "q must be a positive"),
    (lambda: SPAN(tau=0.0), ValueError, "tau must be a positive"),
    (lambda: TimingLIF(dt=-1.0), ValueError, "dt must be a positive"),
    (lambda: SpikeTimingNeuron(0), ValueError, "n_in must be a positive int"),
])
def test_bad_input_is_refused_with_the_fix(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_i_learning_is_resume_without_a_when_the_window_is_the_synaptic_current():
    # Florian (2012) notes the kinship: with a = 0 and tau = tau_s both rules make the same change
    g = torch.Generator().manual_seed(2)
    x = (torch.rand(T, 5, generator=g) < 0.2).double()
    actual, desired = train_at(9, 20), train_at(12, 33)
    resume, i_rule = ReSuMe(lr=0.1, a=0.0, tau=NEURON.tau_s), ChronotronI(lr=0.1)
    torch.testing.assert_close(resume.update(resume.features(x, NEURON), actual, desired, NEURON),
                               i_rule.update(i_rule.features(x, NEURON), actual, desired, NEURON))


def test_alpha_convolve_is_the_sampled_kernel_and_fits_long_runs():
    from spikesmith.learning import alpha_convolve

    s = torch.zeros(60, 1, dtype=torch.float64)
    s[3, 0] = 1.0
    t = torch.arange(57, dtype=torch.float64) * 0.5
    torch.testing.assert_close(alpha_convolve(s, 5.0, 0.5)[3:, 0], t / 5.0 * torch.exp(1 - t / 5.0))
    long = torch.zeros(10_000, 400, dtype=torch.float64)                 # 500 ms at 0.05 ms, 400 afferents
    assert alpha_convolve(long, 5.0, 0.05).shape == long.shape            # (a conv1d here once asked for 43 GB)


def test_span_error_kernel_of_few_spikes_equals_the_recursion():
    from spikesmith.learning import alpha_convolve
    from spikesmith.learning.span import _alpha_of_sparse

    error = train_at(3, 17) - train_at(9)
    torch.testing.assert_close(_alpha_of_sparse(error, 5.0, 1.0), alpha_convolve(error[:, None], 5.0, 1.0)[:, 0])
    dense = (torch.rand(300, generator=torch.Generator().manual_seed(3)) < 0.5).double()   # > 64 spikes: recursion
    torch.testing.assert_close(_alpha_of_sparse(dense, 5.0, 1.0), alpha_convolve(dense[:, None], 5.0, 1.0)[:, 0])


@pytest.mark.parametrize("call, match", [
    (lambda: SpikeTimingNeuron(2).fit(torch.full((10, 2), float("nan")), [1.0], ReSuMe(), 1), "NaN or infinite"),
    (lambda: SpikeTimingNeuron(2, init_mean=float("nan")), "init_mean must be a finite number"),
    (lambda: SpikeTimingNeuron(2, init_std=-0.1), "init_std must be >= 0"),
    (lambda: SpikeTimingNeuron(2, seed="0"), "seed must be an int"),
])
def test_non_finite_values_are_refused_before_they_spread(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_a_diverging_learning_rate_stops_with_the_fix():
    x = torch.zeros(T, 1, dtype=torch.float64)
    x[0, 0] = 1.0
    cell = SpikeTimingNeuron(1, NEURON, init_mean=0.0, init_std=0.0)
    with pytest.raises(ValueError, match="lower its lr"):
        cell.fit(x, [5.0], ReSuMe(lr=1e308, amplitude=1e10), epochs=5)
