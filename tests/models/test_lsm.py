"""The liquid state machine: wiring statistics against the distance kernel, Dale's law, delays,
readouts, memory capacity on a hand-checkable reservoir, seeding, scale and bad input."""

from __future__ import annotations

import math
import time

import pytest
import torch

from spikesmith.analysis import memory_capacity, memory_curve, separation, separation_curve
from spikesmith.models import LiquidStateMachine, LogisticReadout, RidgeReadout
from spikesmith.models import lsm_connectivity as wiring
from spikesmith.models.lsm_connectivity import PairValues

PAIRS = {"ee": (0, 0), "ei": (0, 1), "ie": (1, 0), "ii": (1, 1)}


def _dense_kernel(grid, lam):
    pos = wiring.grid_positions(grid)
    d2 = ((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1)
    k = torch.exp(-d2 / lam**2)
    k.fill_diagonal_(0.0)
    return d2, k                                   # [pre, post]


def _pre_post(lsm):
    w = lsm.recurrent_weight.to_sparse_coo().coalesce()
    post, pre = w.indices()
    return pre, post, w.values()


@pytest.fixture(scope="module")
def liquid():
    return LiquidStateMachine(n_inputs=3, grid=(12, 6, 6), seed=3)


def test_pair_type_counts_match_the_distance_kernel(liquid):
    """Expected count per pair type = C_ab * sum of exp(-(D/lambda)^2) over (a, b) pairs, computed
    densely on the grid for the drawn types; the sampled counts lie within 4 sigma of it."""
    _, k = _dense_kernel(liquid.grid, 2.0)
    types = liquid.neuron_type
    pre, post, _ = _pre_post(liquid)
    c = wiring.CONNECTION_PROBABILITY
    total_expected = 0.0
    for name, (a, b) in PAIRS.items():
        p = getattr(c, name) * k[types == a][:, types == b]
        mean, sd = float(p.sum()), float((p * (1 - p)).sum()) ** 0.5
        got = int(((types[pre] == a) & (types[post] == b)).sum())
        assert abs(got - mean) < 4 * sd, f"{name}: {got} connections, expected {mean:.1f} +- {sd:.1f}"
        total_expected += mean
    # the analytic grid formula (types averaged) agrees with the dense sum
    analytic = wiring.expected_connections(liquid.grid, 2.0, c, int(liquid.is_excitatory.sum()))
    assert analytic == pytest.approx(total_expected, rel=0.03)
    assert liquid.expected_connections == analytic


def test_connection_probability_falls_with_distance_as_the_kernel(liquid):
    d2, k = _dense_kernel(liquid.grid, 2.0)
    types = liquid.neuron_type
    pre, post, _ = _pre_post(liquid)
    connected = torch.zeros_like(k, dtype=torch.bool)
    connected[pre, post] = True
    ee = (types[:, None] == 0) & (types[None, :] == 0)
    rates = []
    for dist2 in (1.0, 2.0, 4.0, 5.0, 9.0):
        pairs = ee & (d2 == dist2)
        rate = float(connected[pairs].double().mean())
        expected = 0.3 * math.exp(-dist2 / 4.0)
        n = int(pairs.sum())
        assert abs(rate - expected) < 4 * (expected * (1 - expected) / n) ** 0.5 + 1e-3, (dist2, rate, expected)
        rates.append(rate)
    assert rates == sorted(rates, reverse=True)
    assert not bool(connected.diagonal().any()), "no self connections"


def test_dales_law_and_mean_weight_proportions():
    lsm = LiquidStateMachine(n_inputs=2, grid=(12, 6, 6), seed=1, weight_cv=0.0, weight_scale=0.5)
    pre, post, w = _pre_post(lsm)
    types = lsm.neuron_type
    assert bool((w[types[pre] == 0] > 0).all()) and bool((w[types[pre] == 1] < 0).all())
    for name, (a, b) in PAIRS.items():
        pick = (types[pre] == a) & (types[post] == b)
        assert torch.allclose(w[pick], torch.tensor(0.5 * getattr(wiring.MEAN_WEIGHT_NA, name)))
    # with gamma-distributed weights the means keep the paper's proportions 30 : 60 : -19 : -19
    lsm = LiquidStateMachine(n_inputs=2, grid=(12, 6, 6), seed=1, weight_scale=1.0)
    pre, post, w = _pre_post(lsm)
    means = {name: float(w[(types[pre] == a) & (types[post] == b)].mean()) for name, (a, b) in PAIRS.items()}
    assert means["ee"] == pytest.approx(30.0, rel=0.15) and means["ie"] == pytest.approx(-19.0, rel=0.15)
    assert means["ei"] / means["ee"] == pytest.approx(2.0, rel=0.3)
    assert bool((lsm.input_weight >= 0).all())


def _two_neuron_chain(**kwargs):
    """Neuron 0 -> neuron 1 (both excitatory, connected with certainty, a weight that fires at once)."""
    lsm = LiquidStateMachine(n_inputs=1, grid=(2, 1, 1), lam=1e3, excitatory_fraction=1.0,
                             connection_probability=PairValues(1.0, 1.0, 1.0, 1.0), weight_cv=0.0,
                             weight_scale=100.0, background=0.0, v_reset=0.0, input_fraction=1.0, **kwargs)
    lsm.input_weight.copy_(torch.tensor([[1e3], [0.0]]))
    x = torch.zeros(12, 1, 1)
    x[3] = 1.0
    return lsm(x).spikes[:, 0]


def test_delays_in_steps_of_dt_or_off():
    spikes = _two_neuron_chain()                            # E->E 1.5 ms at dt 1 ms: 2 steps
    assert spikes[:, 0].nonzero().flatten().tolist()[0] == 3
    assert spikes[:, 1].nonzero().flatten().tolist()[0] == 5
    assert _two_neuron_chain(dt=0.5)[:, 1].nonzero().flatten().tolist()[0] == 6          # 3 steps
    assert _two_neuron_chain(delays_ms=None)[:, 1].nonzero().flatten().tolist()[0] == 4  # off: 1 step
    assert wiring.delay_steps(wiring.DELAY_MS, 1.0) == PairValues(2, 1, 1, 1)


def test_shapes_read_times_and_no_gradient(liquid):
    x = (torch.rand(20, 4, 3, generator=torch.Generator().manual_seed(0)) < 0.3).float()
    out = liquid(x)
    assert out.spikes.shape == (20, 4, liquid.n_neurons) and out.states.shape == (1, 4, liquid.n_neurons)
    assert out.read_times == (19,)
    three = liquid(x, read_times=(4, 9, -1), record_spikes=False)
    assert three.spikes is None and three.states.shape == (3, 4, liquid.n_neurons)
    assert torch.equal(three.states[2], out.states[0])
    # the state is the filtered spike train: recompute it from the spikes
    trace = torch.zeros(4, liquid.n_neurons)
    for t in range(20):
        trace = trace * math.exp(-1 / 30) + out.spikes[t]
    assert torch.allclose(trace, out.states[0], atol=1e-5)
    assert out.spikes.sum() > 0
    assert not any(p.requires_grad for p in liquid.parameters()) and liquid.recurrent_weight.is_sparse_csr


def test_seeded_reproducibility_without_touching_the_global_rng():
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    a = LiquidStateMachine(n_inputs=2, seed=7)
    assert torch.equal(torch.rand(3), before), "building a reservoir must not draw from the global RNG"
    b, c = LiquidStateMachine(n_inputs=2, seed=7), LiquidStateMachine(n_inputs=2, seed=8)
    assert torch.equal(a.recurrent_weight.to_dense(), b.recurrent_weight.to_dense())
    assert not torch.equal(a.recurrent_weight.to_dense(), c.recurrent_weight.to_dense())
    x = (torch.rand(30, 2, 2) < 0.2).float()
    assert torch.equal(a(x).spikes, b(x).spikes)


def test_ten_thousand_neurons_build_and_step_quickly():
    start = time.perf_counter()
    lsm = LiquidStateMachine(n_inputs=4, grid=(40, 25, 10))
    built = time.perf_counter() - start
    x = (torch.rand(10, 2, 4) < 0.1).float()
    start = time.perf_counter()
    out = lsm(x, record_spikes=False)
    stepped = time.perf_counter() - start
    per_thousand_ms = stepped / 10 / 10 * 1e3
    print(f"10,000 neurons, {lsm.n_connections} connections: built in {built:.2f} s, "
          f"{per_thousand_ms:.3f} ms per 1,000 neurons per step (batch 2)")
    assert lsm.n_neurons == 10_000 and out.states.shape == (1, 2, 10_000)
    assert lsm.n_connections == pytest.approx(lsm.expected_connections, rel=0.05)
    assert built < 30 and stepped < 10


def test_memory_capacity_of_a_delay_line_is_its_length():
    """An echo-state reservoir that is a shift register (linear units, x_1(t) = u(t),
    x_i(t) = x_{i-1}(t-1)) holds u(t) ... u(t - L + 1) exactly: capacity L."""
    g = torch.Generator().manual_seed(0)
    steps = 1500
    u = torch.rand(steps, generator=g) * 2 - 1
    for length in (4, 9):
        shift = torch.diag(torch.ones(length - 1), -1)
        x = torch.zeros(length)
        states = []
        for t in range(steps):
            x = shift @ x
            x[0] = u[t]
            states.append(x.clone())
        curve = memory_curve(torch.stack(states), u, max_delay=2 * length)
        assert curve.capacity == pytest.approx(length, abs=0.15)
        assert bool((curve.r2[:length] > 0.999).all()) and bool((curve.r2[length:] < 0.02).all())
    # a reservoir without memory: only delay 0
    assert memory_capacity(u[:, None].clone(), u, max_delay=10) == pytest.approx(1.0, abs=0.1)


def test_ridge_readout_recovers_a_known_linear_map():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(400, 6, generator=g) * torch.tensor([1.0, 5.0, 0.1, 2.0, 1.0, 3.0]) + 2.0
    true_w, true_b = torch.randn(3, 6, generator=g), torch.randn(3, generator=g)
    readout = RidgeReadout(alpha=1e-9).fit(x, x @ true_w.T + true_b)
    new = torch.randn(50, 6, generator=g)
    assert torch.allclose(readout(new), (new @ true_w.T + true_b).double(), atol=1e-5)
    assert torch.allclose(readout.weight / readout.std, true_w.double(), atol=1e-5)


def test_logistic_readout_learns_separable_classes():
    g = torch.Generator().manual_seed(0)
    centres = torch.randn(3, 10, generator=g) * 3
    labels = torch.randint(0, 3, (300,), generator=g)
    x = centres[labels] + torch.randn(300, 10, generator=g)
    readout = LogisticReadout(10, 3)
    losses = readout.fit(x, labels, epochs=30, lr=0.1)
    assert losses[-1] < 0.3 * losses[0]
    assert float((readout.predict(x) == labels).float().mean()) > 0.95


def test_separation_grows_with_input_distance(liquid):
    g = torch.Generator().manual_seed(0)
    base = (torch.rand(25, 12, 3, generator=g) < 0.3).float()
    flip = torch.rand(25, 12, 3, generator=g) < torch.linspace(0, 0.5, 12)[None, :, None]
    other = torch.where(flip, 1 - base, base)
    d_in, d_state = separation(lambda x: liquid(x, record_spikes=False).states[-1], base, other)
    assert float(d_in[0]) == 0 and float(d_state[0]) == 0
    centres, means = separation_curve(d_in, d_state, bins=3)
    assert means[-1] > means[0]


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(grid=(1, 1, 1)), ValueError, "no recurrent connection"),
    (dict(connection_probability=PairValues(0.0, 0.0, 0.0, 0.0)), ValueError, "no recurrent connection"),
    (dict(lam=0.0), ValueError, "no recurrent connection"),
    (dict(lam=-1.0), ValueError, "lam"),
    (dict(grid=(15, 3)), ValueError, "three positive ints"),
    (dict(connection_probability=PairValues(1.5, 0.2, 0.4, 0.1)), ValueError, "connection_probability.ee"),
    (dict(grid=(2000, 1000, 100)), MemoryError, "GiB"),
    (dict(lam=1e4, grid=(100, 100, 10), max_memory_gb=1.0), MemoryError, "expected connections"),
    (dict(grid=(10**12, 1, 1)), MemoryError, "GiB"),
    (dict(weight_scale=float("nan")), ValueError, "weight_scale must be a finite"),
    (dict(tau_m=float("inf")), ValueError, "tau_m must be a finite"),
    (dict(delays_ms=PairValues(float("inf"), 0.8, 0.8, 0.8)), ValueError, "delays_ms.ee"),
    (dict(refractory_ms=(-1.0, 2.0)), ValueError, "refractory_ms"),
    (dict(v_reset=1.0), ValueError, "below v_threshold"),
])
def test_bad_reservoirs_get_a_clear_error(kwargs, error, words):
    start = time.perf_counter()
    with pytest.raises(error, match=words):
        LiquidStateMachine(n_inputs=2, **kwargs)
    assert time.perf_counter() - start < 2, "the estimate must come before any sampling"


def test_bad_inputs_get_a_clear_error(liquid):
    with pytest.raises(ValueError, match=r"\[T, N, n_inputs=3\]"):
        liquid(torch.zeros(10, 3))
    with pytest.raises(ValueError, match=r"\[T, N, n_inputs=3\]"):
        liquid(torch.zeros(10, 2, 4))
    with pytest.raises(ValueError, match="read_times"):
        liquid(torch.zeros(10, 2, 3), read_times=(10,))
    with pytest.raises(ValueError, match="read_times is empty"):
        liquid(torch.zeros(10, 2, 3), read_times=())
    with pytest.raises(ValueError, match="T = 0"):
        liquid(torch.zeros(0, 2, 3))
    with pytest.raises(ValueError, match="NaN"):
        liquid(torch.full((4, 2, 3), float("nan")))
    with pytest.raises(ValueError, match="finite"):
        RidgeReadout().fit(torch.full((5, 2), float("nan")), torch.zeros(5))
    with pytest.raises(ValueError, match="n_inputs"):
        LiquidStateMachine(n_inputs=0)


def test_a_loaded_state_dict_replaces_the_wiring_and_its_delay_groups(tmp_path):
    a, b = LiquidStateMachine(n_inputs=2, seed=7), LiquidStateMachine(n_inputs=2, seed=8)
    assert a.n_connections != b.n_connections
    torch.save(b.state_dict(), tmp_path / "liquid.pt")
    a.load_state_dict(torch.load(tmp_path / "liquid.pt"))
    x = (torch.rand(40, 2, 2, generator=torch.Generator().manual_seed(0)) < 0.2).float()
    assert a.n_connections == b.n_connections
    assert torch.equal(a(x).spikes, b(x).spikes)
    with pytest.raises(RuntimeError, match="same grid"):
        a.load_state_dict(LiquidStateMachine(n_inputs=2, grid=(5, 3, 3)).state_dict())


def test_dynamic_synapse_step_reproduces_the_tsodyks_markram_recursion():
    """Spikes at steps 0, 10 and 13 (dt 1 ms) of an E->E synapse (U 0.5, D 1100 ms, F 50 ms)."""
    from spikesmith.models.lsm_synapses import tsodyks_markram_step

    use, depression, facilitation = 0.5, 1100.0, 50.0
    spikes = {0, 10, 13}
    u, r, last, expected = use, 1.0, None, []
    for t in sorted(spikes):                          # the recursion, spike to spike
        if last is not None:
            gap = t - last
            u, r = use + u * (1 - use) * math.exp(-gap / facilitation), \
                1 + (r - u * r - 1) * math.exp(-gap / depression)      # both from the old u, r
        expected.append(u * r)
        last = t
    excess, recovered, got = torch.zeros(1, 1, dtype=torch.float64), torch.ones(1, 1, dtype=torch.float64), []
    for t in range(14):
        spiked = torch.full((1, 1), float(t in spikes), dtype=torch.float64)
        efficacy, excess, recovered = tsodyks_markram_step(
            spiked, excess, recovered, torch.tensor(use, dtype=torch.float64),
            torch.tensor(math.exp(-1 / depression), dtype=torch.float64),
            torch.tensor(math.exp(-1 / facilitation), dtype=torch.float64))
        if t in spikes:
            got.append(float(efficacy))
        else:
            assert float(efficacy) == 0.0
    assert got == pytest.approx(expected, rel=1e-12)
    assert got[0] == 0.5 and got[1] < got[0], "this synapse depresses"


def test_dynamic_liquid_first_spike_has_efficacy_u_and_the_run_is_seeded():
    static = _two_neuron_chain()
    dynamic = _two_neuron_chain(synapses="dynamic")
    assert torch.equal(static, dynamic), "U * A = 50 still fires neuron 1 at the same step"
    a = LiquidStateMachine(n_inputs=2, synapses="dynamic", seed=4)
    x = (torch.rand(60, 2, 2, generator=torch.Generator().manual_seed(0)) < 0.2).float()
    out = a(x)
    assert out.spikes.sum() > 0
    assert torch.equal(out.spikes, LiquidStateMachine(n_inputs=2, synapses="dynamic", seed=4)(x).spikes)
    assert not torch.equal(out.spikes, LiquidStateMachine(n_inputs=2, seed=4, weight_scale=1 / 15)(x).spikes)
    with pytest.raises(ValueError, match="synapses must be one of"):
        LiquidStateMachine(n_inputs=2, synapses="markram")


def test_the_block_summed_ridge_fit_equals_the_direct_formula():
    # the fit sums z^T z block by block (4096 rows) in float64 around the first row instead of forming the
    # standardised features: same weights as the textbook solve, for float32 input with a large offset
    # (cancellation) and a constant feature (std 1, weight 0), over more rows than one block
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(5000, 6, generator=g, dtype=torch.float64) * torch.tensor([1, 2, 0.5, 3, 1, 0.0])
         + torch.tensor([100.0, -3, 0, 7, 1e3, 5])).float()
    y = torch.randn(5000, 3, generator=g, dtype=torch.float64)
    fit = RidgeReadout(alpha=0.5).fit(x, y)
    xd = x.double()
    mean, std = xd.mean(0), xd.std(0, unbiased=False)
    std = torch.where(std > 0, std, torch.ones_like(std))
    z = (xd - mean) / std
    direct = torch.linalg.solve(z.T @ z + 0.5 * torch.eye(6, dtype=torch.float64), z.T @ (y - y.mean(0))).T
    torch.testing.assert_close(fit.weight, direct, rtol=1e-7, atol=1e-9)
    assert float(fit.std[5]) == 1.0 and torch.equal(fit.weight[:, 5], torch.zeros(3, dtype=torch.float64))
    torch.testing.assert_close(fit(x), z @ direct.T + y.mean(0), rtol=1e-7, atol=1e-8)
