"""spikesmith.compat.snntorch: snnTorch's neurons, spikegen, surrogates and from_snntorch.

The hand-computed traces run everywhere; the cross-checks against snnTorch itself (same inputs, same
parameters, same RNG state) are skipped where snnTorch is not installed.
"""

from __future__ import annotations

import math
import pickle
import warnings

import pytest
import torch
from torch import nn

import spikesmith.compat.snntorch as ss
from spikesmith import functional
from spikesmith.compat import from_snntorch
from spikesmith.compat.snntorch import spikegen, surrogate, utils
from spikesmith.compat.snntorch import functional as SF

pytestmark = pytest.mark.usefixtures("one_thread")
D = torch.float64


def _run(neuron, xs, *state, recurrent=False):
    """Call ``neuron`` step by step (init_hidden=False style); stack spikes and every returned state.
    A ``recurrent`` neuron takes its spikes back too: ``spk, mem = rlif(x, spk, mem)``."""
    outs = []
    for x in xs:
        out = neuron(x, *state)
        state = out if recurrent else out[1:]
        outs.append(out)
    return [torch.stack(parts) for parts in zip(*outs)]


def _t(*values):
    return torch.tensor(values, dtype=D)


# ---------------------------------------------------------------------------------------------------
# hand-computed traces (no snnTorch needed)
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mechanism, delay, spikes, mem", [
    # U(t) = 0.5 U(t-1) + X(t) - R(t): the reset lands at the next step, undecayed
    ("subtract", True, (1, 0, 1, 0), (1.5, 0.75, 1.375, -0.3125)),
    # zero: the old membrane is zeroed before the charge; U = 1 does not fire (strict >)
    ("zero", True, (1, 0, 1, 0), (1.5, 1.0, 1.5, 0.0)),
    ("none", True, (1, 1, 1, 0), (1.5, 1.75, 1.875, 0.9375)),
    # reset_delay=False: the spike's reset is applied at once as well
    ("subtract", False, (1, 1, 1, 0), (0.5, 0.25, 0.125, 0.0625)),
    ("zero", False, (1, 0, 1, 0), (0.0, 1.0, 0.0, 0.0)),
])
def test_leaky_hand_trace(mechanism, delay, spikes, mem):
    lif = ss.Leaky(beta=0.5, reset_mechanism=mechanism, reset_delay=delay)
    x = _t(1.5, 1.0, 1.0, 0.0).reshape(4, 1)
    spk, u = _run(lif, x, lif.init_leaky())
    assert spk.flatten().tolist() == list(spikes)
    torch.testing.assert_close(u.flatten(), _t(*mem), rtol=0, atol=1e-15)


def test_synaptic_hand_trace():
    # I = 0.5 I + X, U = 0.5 U + I - R: I = 1, 1.5, 0.75; U = 1 (no spike: strict >), 2 (spike), 0.75
    syn_neuron = ss.Synaptic(alpha=0.5, beta=0.5)
    spk, syn, mem = _run(syn_neuron, _t(1.0, 1.0, 0.0).reshape(3, 1))
    assert spk.flatten().tolist() == [0, 1, 0]
    torch.testing.assert_close(syn.flatten(), _t(1.0, 1.5, 0.75), rtol=0, atol=0)
    torch.testing.assert_close(mem.flatten(), _t(1.0, 2.0, 0.75), rtol=0, atol=0)


def test_rleaky_one_to_one_hand_trace():
    # U = 0.5 U + X + 0.5 S(t-1) - R: X = 1.2, 0, 0 -> U = 1.2 (spike), 0.6 + 0.5 - 1 = 0.1, 0.05
    neuron = ss.RLeaky(beta=0.5, all_to_all=False, V=0.5)
    spk, mem = _run(neuron, _t(1.2, 0.0, 0.0).reshape(3, 1), recurrent=True)
    assert spk.flatten().tolist() == [1, 0, 0]
    torch.testing.assert_close(mem.flatten(), _t(1.2, 0.1, 0.05), rtol=0, atol=1e-15)


def test_lapicque_from_beta_hand_trace():
    # beta only: R = 1, C = dt / (R log(1/beta)) = 1 for beta = 1/e, so U = X + (1 - 1/C) U - R(t) thr = X - R(t):
    # X = 2, 0.5 -> U = 2 (spike), 0.5 - 1
    neuron = ss.Lapicque(beta=math.exp(-1.0))
    torch.testing.assert_close(neuron.C.double(), torch.tensor(1.0, dtype=D), rtol=1e-6, atol=0)
    spk, mem = _run(neuron, _t(2.0, 0.5).reshape(2, 1))
    assert spk.flatten().tolist() == [1, 0]
    torch.testing.assert_close(mem.flatten(), _t(2.0, 0.5 - 1.0), rtol=1e-6, atol=1e-6)


def test_init_hidden_and_output_return_rules():
    x = _t(1.5, 0.2).reshape(2, 1)
    hidden = ss.Leaky(beta=0.5, init_hidden=True)
    spikes = [hidden(step) for step in x]
    assert all(isinstance(s, torch.Tensor) for s in spikes)
    assert [float(s) for s in spikes] == [1.0, 0.0]
    torch.testing.assert_close(hidden.mem, _t(0.5 * 1.5 + 0.2 - 1.0), rtol=0, atol=1e-15)
    with_output = ss.Leaky(beta=0.5, init_hidden=True, output=True)
    spk, mem = with_output(x[0])
    assert float(spk) == 1.0 and float(mem) == 1.5
    with pytest.raises(TypeError, match="init_hidden=True"):
        hidden(x[0], torch.zeros(1, dtype=D))


def test_state_continues_when_not_passed_and_zeroes_on_shape_change():
    lif = ss.Leaky(beta=0.5)
    lif(_t(0.8))
    _, mem = lif(_t(0.0))                     # no mem passed: continues from the stored one
    assert float(mem) == pytest.approx(0.4)
    _, mem = lif(_t(0.0, 0.0))                # another shape: starts from zeros, as snnTorch does
    assert mem.tolist() == [0.0, 0.0]


def test_multi_step_mode_runs_the_same_steps_and_reset_net_resets():
    torch.manual_seed(0)
    x = torch.randn(6, 3, 4, dtype=D)
    loop = ss.Synaptic(alpha=0.6, beta=0.8, threshold=0.5)
    want = _run(loop, x)
    seq = ss.Synaptic(alpha=0.6, beta=0.8, threshold=0.5)
    functional.set_step_mode(seq, "m")
    got = seq(x)
    for g, w in zip(got, want):
        assert torch.equal(g, w)
    functional.reset_net(seq)
    assert seq.mem.numel() == 0
    for g, w in zip(seq(x), want):
        assert torch.equal(g, w)


def test_utils_reset_zeroes_and_detaches_every_neuron():
    net = nn.Sequential(nn.Linear(3, 3), ss.Leaky(beta=0.9, init_hidden=True),
                        nn.Sequential(ss.Synaptic(alpha=0.5, beta=0.9, init_hidden=True)))
    net(torch.randn(2, 3, requires_grad=True))
    utils.reset(net)
    for neuron in (net[1], net[2][0]):
        assert not neuron.mem.requires_grad and not neuron.mem.any()
    assert net[2][0].syn.shape == (2, 3) and not net[2][0].syn.any()


def test_learnable_parameters_and_state_dict_names():
    lif = ss.Leaky(beta=0.9, learn_beta=True, learn_threshold=True)
    assert {n for n, _ in lif.named_parameters()} == {"beta", "threshold"}
    assert set(lif.state_dict()) == {"beta", "threshold", "graded_spikes_factor", "reset_mechanism_val"}
    spk, mem = lif(torch.full((2,), 1.2))
    (mem.sum() + spk.sum()).backward()
    assert lif.threshold.grad is not None and float(lif.threshold.grad) != 0.0
    rec = ss.RLeaky(beta=0.9, all_to_all=False, V=0.5, learn_recurrent=False)
    assert not any(p.requires_grad for p in rec.parameters())


def test_inhibition_fires_only_the_winner_but_resets_every_neuron_above_threshold():
    lif = ss.Leaky(beta=1.0, inhibition=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spk, mem = lif(_t(1.5, 2.0, 0.5).reshape(1, 3))
    assert spk.tolist() == [[0.0, 1.0, 0.0]]
    _, mem = lif(_t(0.0, 0.0, 0.0).reshape(1, 3))
    assert mem.tolist() == [[0.5, 1.0, 0.5]]        # both neurons above threshold lost 1
    with pytest.raises(ValueError, match=r"\[batch, features\]"):
        ss.Leaky(beta=0.5, inhibition=True)(torch.ones(1, 2, 2))


def test_state_quant_callable_is_applied_to_the_membrane():
    lif = ss.Leaky(beta=0.5, state_quant=lambda u: torch.round(u * 4) / 4)
    _, mem = lif(_t(0.3))
    assert float(mem) == 0.25
    with pytest.raises(TypeError, match="state_quant"):
        ss.Leaky(beta=0.5, state_quant="8bit")


def test_bad_arguments_name_the_fix():
    with pytest.raises(ValueError, match="'subtract', 'zero' or 'none'"):
        ss.Leaky(beta=0.5, reset_mechanism="hard")
    with pytest.raises(ValueError, match="alpha must be greater than beta"):
        ss.Alpha(alpha=0.5, beta=0.8)
    with pytest.raises(ValueError, match="give beta, or both R and C"):
        ss.Lapicque(R=2.0)
    with pytest.raises(TypeError, match="linear_features"):
        ss.RLeaky(beta=0.5)
    with pytest.raises(TypeError, match="spike_grad"):
        ss.Leaky(beta=0.5, spike_grad=3)
    with pytest.raises(TypeError, match="utils.reset"):
        ss.Leaky.reset_hidden()
    with pytest.raises(ValueError, match="beta is NaN"):
        ss.Leaky(beta=float("nan"))
    with pytest.raises(TypeError, match="mem must be a tensor"):
        ss.Leaky(beta=0.5)(torch.ones(2), 1.0)
    with pytest.warns(UserWarning, match="reset_delay=False"):
        ss.RSynaptic(alpha=0.5, beta=0.4, linear_features=2, reset_delay=False)


def test_surrogates_fire_strictly_and_carry_their_gradient():
    x = _t(-0.5, 0.0, 0.5).requires_grad_()
    spk = surrogate.atan(alpha=2.0)(x)
    assert spk.tolist() == [0.0, 0.0, 1.0]
    spk.sum().backward()
    want = 1.0 / (1.0 + (math.pi / 2 * 2.0 * x.detach()) ** 2)
    torch.testing.assert_close(x.grad, want, rtol=1e-12, atol=0)
    y = _t(-0.5, 0.5).requires_grad_()
    surrogate.triangular(threshold=2.0)(y).sum().backward()
    assert y.grad.tolist() == [2.0, -2.0]
    assert not surrogate.NoGradient()(x).requires_grad
    assert pickle.loads(pickle.dumps(ss.Leaky(beta=0.5, spike_grad=surrogate.fast_sigmoid(slope=10)))) is not None


def test_spikegen_hand_traces():
    assert torch.equal(spikegen.rate(torch.tensor([0.0, 1.0, 2.0]), num_steps=3),
                       torch.tensor([[0.0, 1.0, 1.0]] * 3))
    torch.manual_seed(3)
    got = spikegen.rate(torch.full((2, 5), 0.4), num_steps=4)
    torch.manual_seed(3)
    assert torch.equal(got, torch.bernoulli(torch.full((4, 2, 5), 0.4)))
    # linear latency, tau = 4: t = 4 (1 - x), capped at 4 (1 - threshold) = 3.96 -> steps 0, 2, 4
    lat = spikegen.latency(torch.tensor([1.0, 0.5, 0.0]), num_steps=5, tau=4, linear=True)
    assert lat.argmax(0).tolist() == [0, 2, 4] and lat.sum().item() == 3
    d = spikegen.delta(torch.tensor([0.0, 0.5, 0.45, 0.0]), threshold=0.1, off_spike=True)
    assert d.tolist() == [0.0, 1.0, 0.0, -1.0]
    with pytest.raises(ValueError, match="num_steps"):
        spikegen.rate(torch.ones(2))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        spikegen.latency(torch.tensor([2.0]), num_steps=3)
    with pytest.raises(ValueError, match="positive int"):
        spikegen.rate(torch.ones(2), num_steps=2.5)
    with pytest.raises(ValueError, match="NaN"):
        spikegen.latency(torch.tensor([float("nan"), 0.5]), num_steps=3)


def test_losses_and_accuracy_by_hand():
    spk = torch.zeros(2, 2, 3)
    spk[:, 0, 1] = 1                              # sample 0: output 1 fires twice
    spk[0, 1, 2] = 1                              # sample 1: output 2 fires once
    targets = torch.tensor([1, 0])
    assert SF.accuracy_rate(spk, targets) == 0.5
    counts = spk.sum(0)
    torch.testing.assert_close(SF.ce_count_loss()(spk, targets), nn.functional.cross_entropy(counts, targets))
    want_rate = sum(nn.functional.cross_entropy(spk[t], targets) for t in range(2)) / 2
    torch.testing.assert_close(SF.ce_rate_loss()(spk, targets), want_rate.reshape(1))
    wanted = torch.tensor([[0.0, 2.0, 0.0], [2.0, 0.0, 0.0]])
    torch.testing.assert_close(SF.mse_count_loss()(spk, targets), nn.functional.mse_loss(counts, wanted) / 2)
    with pytest.raises(ValueError, match=r"class indices in \[0, 3\)"):
        SF.ce_count_loss()(spk, torch.tensor([1, 3]))
    with pytest.raises(ValueError, match="num_classes"):
        SF.ce_count_loss(population_code=True)


def test_from_snntorch_without_snntorch_modules_changes_nothing():
    net = nn.Sequential(nn.Linear(2, 2), ss.Leaky(beta=0.5))
    assert from_snntorch(net) is net and isinstance(net[1], ss.Leaky)
    with pytest.raises(TypeError, match="nn.Module"):
        from_snntorch("net")


# ---------------------------------------------------------------------------------------------------
# against snnTorch itself
# ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def snn():
    snn = pytest.importorskip("snntorch")
    import snntorch.functional  # noqa: F401 - the submodules the tests use
    import snntorch.spikegen  # noqa: F401
    import snntorch.surrogate  # noqa: F401
    import snntorch.utils  # noqa: F401

    return snn


def _neuron_cases():
    cases = []
    for mechanism in ("subtract", "zero", "none"):
        for delay in (True, False):
            cases += [
                ("Leaky", dict(beta=0.8, threshold=0.7, reset_mechanism=mechanism, reset_delay=delay,
                               graded_spikes_factor=1.5 if delay else 1.0)),
                ("Synaptic", dict(alpha=0.7, beta=0.8, reset_mechanism=mechanism, reset_delay=delay)),
                ("RLeaky", dict(beta=0.8, linear_features=6, reset_mechanism=mechanism, reset_delay=delay)),
                ("RLeaky", dict(beta=0.8, all_to_all=False, V=0.3, reset_mechanism=mechanism, reset_delay=delay)),
            ]
        cases += [
            ("RSynaptic", dict(alpha=0.7, beta=0.8, linear_features=6, reset_mechanism=mechanism)),
            ("Alpha", dict(alpha=0.9, beta=0.8, reset_mechanism=mechanism)),
            ("Lapicque", dict(beta=0.9, reset_mechanism=mechanism)),
            ("Lapicque", dict(R=5.0, C=0.5, time_step=0.5, reset_mechanism=mechanism)),
            ("Leaky", dict(beta=0.8, inhibition=True, reset_mechanism=mechanism)),
            ("Leaky", dict(beta=0.8, spike_grad="fast_sigmoid", learn_beta=True, learn_threshold=True,
                           reset_mechanism=mechanism)),
            ("Leaky", dict(beta=0.8, surrogate_disable=True, reset_mechanism=mechanism)),
        ]
    return cases


def _build_pair(snn, name, kw):
    kw = dict(kw)
    theirs_kw, ours_kw = dict(kw), dict(kw)
    if kw.get("spike_grad") == "fast_sigmoid":
        theirs_kw["spike_grad"] = snn.surrogate.fast_sigmoid(slope=10)
        ours_kw["spike_grad"] = surrogate.fast_sigmoid(slope=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")         # snnTorch warns about inhibition
        torch.manual_seed(0)
        theirs = getattr(snn, name)(**theirs_kw)
        torch.manual_seed(0)                    # the same recurrent weights
        ours = getattr(ss, name)(**ours_kw)
    return theirs, ours


@pytest.mark.parametrize("init_hidden", [False, True])
@pytest.mark.parametrize("name, kw", _neuron_cases(), ids=lambda v: v if isinstance(v, str) else "-".join(
    f"{k}={v}" for k, v in v.items() if k in ("reset_mechanism", "reset_delay", "all_to_all", "R", "inhibition",
                                              "learn_beta")))
def test_neurons_equal_snntorch_spike_for_spike(snn, name, kw, init_hidden):
    kw = dict(kw, init_hidden=init_hidden, output=init_hidden and name != "Lapicque")
    theirs, ours = _build_pair(snn, name, kw)
    assert theirs.state_dict().keys() == ours.state_dict().keys()
    ours.load_state_dict(theirs.state_dict())
    dtype = torch.float32 if "linear_features" in kw else D      # snnTorch's recurrent layers need float32 spikes
    theirs, ours = theirs.to(dtype), ours.to(dtype)
    converted = from_snntorch(_build_pair(snn, name, kw)[0].to(dtype))   # the same neuron, converted
    assert type(converted) is type(ours)
    x = (torch.randn(20, 4, 6, generator=torch.Generator().manual_seed(1)) * 0.9 + 0.3).to(dtype)
    x.requires_grad_()
    x_ours = x.detach().clone().requires_grad_()
    total_theirs, total_ours = 0, 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for step in range(x.shape[0]):
            a, b, c = theirs(x[step]), ours(x_ours[step]), converted(x[step].detach())
            a, b, c = ((r if isinstance(r, tuple) else (r,)) for r in (a, b, c))
            assert len(a) == len(b) == len(c)
            for u, v, w in zip(a, b, c):
                assert torch.equal(u.to(v.dtype), v) and torch.equal(w, v), (name, step)
            total_theirs = total_theirs + a[0].sum() + a[-1].sum()
            total_ours = total_ours + b[0].sum() + b[-1].sum()
    total_theirs.backward()
    total_ours.backward()
    torch.testing.assert_close(x_ours.grad, x.grad.to(x_ours.dtype), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("factory, kw", [("atan", {"alpha": 3.0}), ("fast_sigmoid", {"slope": 10}),
                                         ("sigmoid", {"slope": 5}), ("triangular", {"threshold": 0.5}),
                                         ("straight_through_estimator", {}), ("heaviside", {}),
                                         ("spike_rate_escape", {"beta": 2, "slope": 3}), ("SFS", {"slope": 4, "B": -0.2})])
def test_surrogates_equal_snntorch(snn, factory, kw):
    x = torch.linspace(-1, 1, 21, dtype=torch.float32).requires_grad_()
    y = x.detach().clone().requires_grad_()
    theirs, ours = getattr(snn.surrogate, factory)(**kw)(x), getattr(surrogate, factory)(**kw)(y)
    assert torch.equal(theirs, ours)
    (theirs * torch.arange(21.0)).sum().backward()
    (ours * torch.arange(21.0)).sum().backward()
    torch.testing.assert_close(y.grad, x.grad, rtol=1e-5, atol=1e-7)   # sigmoid: another formula


def test_spikegen_equals_snntorch_for_the_same_rng_state(snn):
    data = torch.rand(3, 7, generator=torch.Generator().manual_seed(2)) * 0.8 + 0.2
    calls = [("rate", dict(num_steps=9)), ("rate", dict(num_steps=9, gain=0.5, offset=0.1, first_spike_time=2)),
             ("latency", dict(num_steps=12, tau=3, threshold=0.15)),
             ("latency", dict(num_steps=12, normalize=True, linear=True)),
             ("latency", dict(num_steps=12, normalize=True, first_spike_time=2)),
             ("latency", dict(num_steps=12, tau=3, clip=True, threshold=0.5, bypass=True)),
             ("latency", dict(tau=3, threshold=0.15, bypass=True)),
             ("latency", dict(num_steps=12, tau=3, threshold=0.15, interpolate=True))]
    for fn, kw in calls:
        torch.manual_seed(5)
        want = getattr(snn.spikegen, fn)(data, **kw)
        torch.manual_seed(5)
        got = getattr(spikegen, fn)(data, **kw)
        assert torch.equal(got, want), (fn, kw)
    seq = torch.rand(8, 5, generator=torch.Generator().manual_seed(4))
    for kw in (dict(threshold=0.2), dict(threshold=0.2, padding=True, off_spike=True)):
        assert torch.equal(spikegen.delta(seq, **kw), snn.spikegen.delta(seq, **kw))
    torch.manual_seed(6)
    want = snn.spikegen.rate(seq, time_var_input=True)
    torch.manual_seed(6)
    assert torch.equal(spikegen.rate(seq, time_var_input=True), want)


def test_losses_equal_snntorch(snn):
    import snntorch.functional as snn_sf

    spk = (torch.rand(6, 5, 4, generator=torch.Generator().manual_seed(7)) > 0.6).float()
    targets = torch.tensor([0, 3, 2, 1, 3])
    for ours, theirs in ((SF.ce_rate_loss(), snn_sf.ce_rate_loss()), (SF.ce_count_loss(), snn_sf.ce_count_loss()),
                         (SF.mse_count_loss(correct_rate=0.8, incorrect_rate=0.1),
                          snn_sf.mse_count_loss(correct_rate=0.8, incorrect_rate=0.1)),
                         (SF.ce_count_loss(population_code=True, num_classes=2),
                          snn_sf.ce_count_loss(population_code=True, num_classes=2))):
        torch.testing.assert_close(ours(spk, targets % 2 if ours.population_code else targets),
                                   theirs(spk, targets % 2 if ours.population_code else targets))
    assert SF.accuracy_rate(spk, targets) == pytest.approx(snn_sf.accuracy_rate(spk, targets))


class Tutorial5Net(nn.Module):
    """snnTorch tutorial 5's network, in our words: Linear-Leaky-Linear-Leaky, fed a rate-coded input."""

    def __init__(self, leaky, inputs=784, hidden=1000, outputs=10, beta=0.95):
        super().__init__()
        self.fc1, self.lif1 = nn.Linear(inputs, hidden), leaky(beta=beta)
        self.fc2, self.lif2 = nn.Linear(hidden, outputs), leaky(beta=beta)

    def forward(self, x_seq):
        mem1, mem2 = self.lif1.init_leaky(), self.lif2.init_leaky()
        spikes, hidden, membranes = [], [], []
        for x in x_seq:
            spk1, mem1 = self.lif1(self.fc1(x), mem1)
            spk2, mem2 = self.lif2(self.fc2(spk1), mem2)
            spikes.append(spk2)
            hidden.append(spk1)
            membranes.append(mem2)
        return torch.stack(spikes), torch.stack(membranes), torch.stack(hidden)


def test_tutorial5_network_spike_for_spike(snn):
    """784-1000-10 Leaky, beta 0.95, 25 steps, batch 128, spikegen.rate input: every spike equal."""
    torch.manual_seed(0)
    theirs = Tutorial5Net(snn.Leaky)
    ours = from_snntorch(Tutorial5Net(snn.Leaky))
    ours.load_state_dict(theirs.state_dict())
    assert type(ours) is Tutorial5Net and isinstance(ours.lif1, ss.Leaky)
    images = torch.rand(128, 784, generator=torch.Generator().manual_seed(1)) ** 2   # image-like in [0, 1]
    targets = torch.randint(0, 10, (128,), generator=torch.Generator().manual_seed(2))
    torch.manual_seed(3)
    x_theirs = snn.spikegen.rate(images, num_steps=25)
    torch.manual_seed(3)
    x_ours = spikegen.rate(images, num_steps=25)
    assert torch.equal(x_ours, x_theirs)
    want, got = theirs(x_theirs), ours(x_ours)
    assert want[0].sum() > 0 and want[2].sum() > 1000                 # the test means something: spikes happen
    for g, w in zip(got, want):
        assert torch.equal(g, w)
    # one training step of the tutorial (cross entropy on the membrane at every step, Adam)
    for net, (_, mem, _) in ((theirs, want), (ours, got)):
        loss = sum(nn.functional.cross_entropy(mem[t], targets) for t in range(25))
        loss.backward()
    for (name, p), q in zip(theirs.named_parameters(), ours.parameters()):
        torch.testing.assert_close(q.grad, p.grad, rtol=1e-4, atol=1e-6, msg=name)


def test_from_snntorch_keeps_class_forward_and_refuses_unknown_modules(snn):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(5, 4)
            self.syn = snn.Synaptic(alpha=0.8, beta=0.7, spike_grad=snn.surrogate.fast_sigmoid(slope=7),
                                    learn_alpha=True, init_hidden=True)
            self.rec = nn.Sequential(snn.RLeaky(beta=0.6, linear_features=4, init_hidden=True, output=True))

        def forward(self, x_seq):
            utils.reset(self) if isinstance(self.syn, ss.Synaptic) else snn.utils.reset(self)
            return torch.stack([self.rec(self.syn(self.fc(x)))[0] for x in x_seq])

    torch.manual_seed(0)
    theirs = Net()
    torch.manual_seed(0)
    ours = Net()
    rng = torch.get_rng_state()
    assert from_snntorch(ours) is ours
    assert torch.equal(torch.get_rng_state(), rng)                       # converting draws no random numbers
    assert isinstance(ours.syn, ss.Synaptic) and isinstance(ours.rec[0], ss.RLeaky)
    assert isinstance(ours.syn.alpha, nn.Parameter) and ours.syn.spike_grad.smooth.slope == 7
    x = torch.randn(10, 3, 5, generator=torch.Generator().manual_seed(1)) * 2
    assert torch.equal(ours(x), theirs(x)) and theirs(x).sum() > 0
    bad = nn.Sequential(nn.Linear(2, 2), snn.SLSTM(2, 2), snn.Leaky(beta=0.5))
    with pytest.raises(TypeError, match=r"'1': snntorch SLSTM .*SpikingLSTMCell"):
        from_snntorch(bad)
    assert not isinstance(bad[2], ss.Leaky)                              # refused before changing anything


def test_snntorch_state_dict_loads_strict(snn):
    theirs = snn.Alpha(alpha=0.9, beta=0.85, threshold=0.6, learn_beta=True)
    ours = ss.Alpha(alpha=0.5, beta=0.4, learn_beta=True)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.rand(8, 3, generator=torch.Generator().manual_seed(0)) * 3
    for u, v in zip(_run(theirs, x), _run(ours, x)):
        assert torch.equal(u.to(v.dtype), v)


def _worked_example() -> str:
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "migration.md").read_text(encoding="utf-8")
    section = page.split("## Worked example: tutorial 5", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def _run_example(code: str, monkeypatch) -> dict:
    import spikesmith.data

    images = torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(0))   # a small batch: fast
    labels = torch.randint(0, 10, (16,), generator=torch.Generator().manual_seed(1))
    fake = type("Data", (), {"tensors": (images, labels)})()
    monkeypatch.setattr(spikesmith.data, "get_dataset", lambda *args, **kwargs: fake)
    scope: dict = {}
    torch.manual_seed(0)
    exec(compile(code, "migration.md", "exec"), scope)
    return scope


def test_migration_worked_example_runs(monkeypatch):
    ours = _run_example(_worked_example(), monkeypatch)
    assert isinstance(ours["net"].lif1, ss.Leaky) and ours["spk"].shape == (25, 16, 10)
    assert all(torch.isfinite(p).all() for p in ours["net"].parameters())


def test_migration_worked_example_equals_snntorch(snn, monkeypatch):
    code = _worked_example()
    ours = _run_example(code, monkeypatch)
    theirs_code = _snntorch_imports(code)
    assert theirs_code != code
    theirs = _run_example(theirs_code, monkeypatch)
    assert type(theirs["net"].lif1).__module__.startswith("snntorch")
    assert torch.equal(ours["spk"], theirs["spk"]) and torch.equal(ours["mem"], theirs["mem"])
    for p, q in zip(theirs["net"].parameters(), ours["net"].parameters()):
        assert torch.equal(p, q)


def _snntorch_imports(code: str) -> str:
    return (code.replace("import spikesmith.compat.snntorch as snn", "import snntorch as snn")
            .replace("from spikesmith.compat.snntorch import spikegen", "from snntorch import spikegen"))


def test_alias_runs_unmodified_snntorch_code_on_spikesmith(monkeypatch):
    import sys

    from spikesmith.compat import install_snntorch_alias, uninstall_snntorch_alias

    real = sys.modules.get("snntorch")
    code = _worked_example()
    ours = _run_example(code, monkeypatch)
    install_snntorch_alias()
    try:
        import snntorch
        import snntorch.functional as alias_sf

        assert snntorch is ss and alias_sf is SF
        aliased = _run_example(_snntorch_imports(code), monkeypatch)
        if real is not None:                      # a real snnTorch network still converts past the alias
            assert isinstance(from_snntorch(nn.Sequential(real.Leaky(beta=0.5)))[0], ss.Leaky)
    finally:
        uninstall_snntorch_alias()
    assert sys.modules.get("snntorch") is real
    assert isinstance(aliased["net"].lif1, ss.Leaky)
    assert torch.equal(aliased["spk"], ours["spk"])
