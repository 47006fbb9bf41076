"""Trace STDP: the pair window, weight dependence, bounds, normalisation, online vs batched,
triplet and reward-modulated rules, on Linear and Conv2d synapses."""

import math

import pytest
import torch
from torch import nn

from spikesmith import functional, layer, neuron
from spikesmith.learning import RewardSTDPLearner, STDPLearner, TripletSTDPLearner, exp_trace

A_PLUS, A_MINUS, TAU_PLUS, TAU_MINUS, DT = 0.1, 0.05, 10.0, 5.0, 0.5


def _linear(w0=0.5, n_in=1, n_out=1):
    fc = layer.Linear(n_in, n_out, bias=False, step_mode="m").double()
    nn.init.constant_(fc.weight, w0)
    return fc, neuron.LIFNode(step_mode="m")


def _pair(T, t_pre, t_post, shape=(1, 1)):
    pre, post = torch.zeros(T, *shape, dtype=torch.float64), torch.zeros(T, *shape, dtype=torch.float64)
    pre[t_pre], post[t_post] = 1, 1
    return pre, post


def test_exp_trace_all_to_all_and_nearest():
    s = torch.zeros(6, 1, 1)
    s[1] = s[2] = 1
    a = exp_trace(s, 0.5)[:, 0, 0]
    n = exp_trace(s, 0.5, mode="nearest")[:, 0, 0]
    assert torch.allclose(a, torch.tensor([0, 1, 1.5, 0.75, 0.375, 0.1875]))
    assert torch.allclose(n, torch.tensor([0, 1, 1, 0.5, 0.25, 0.125]))


@pytest.mark.parametrize("trace", ["all_to_all", "nearest"])
@pytest.mark.parametrize("dependence", ["additive", "multiplicative"])
@pytest.mark.parametrize("gap", [0, 1, 6, 13])
def test_single_pair_window(dependence, trace, gap):
    w0, w_min, w_max = 0.3, -0.2, 1.0
    fc, lif = _linear(w0)
    learner = STDPLearner(fc, lif, a_plus=A_PLUS, a_minus=A_MINUS, tau_plus=TAU_PLUS, tau_minus=TAU_MINUS, dt=DT,
                          trace=trace, weight_dependence=dependence, w_min=w_min, w_max=w_max)
    f_plus, f_minus = (1.0, 1.0) if dependence == "additive" else (w_max - w0, w0 - w_min)
    dt_ms = gap * DT
    # pre before post: potentiation A+ exp(-dt/tau+)
    learner.record(*_pair(20, 3, 3 + gap))
    dw = learner.step(apply=False).item()
    expected = A_PLUS * f_plus * math.exp(-dt_ms / TAU_PLUS) - (A_MINUS * f_minus if gap == 0 else 0.0)
    assert dw == pytest.approx(expected, rel=1e-12)
    # post before pre: depression -A- exp(-dt/tau-)
    learner.reset()
    pre, post = _pair(20, 3 + gap, 3)
    learner.record(pre, post)
    dw = learner.step(apply=False).item()
    expected = -A_MINUS * f_minus * math.exp(-dt_ms / TAU_MINUS) + (A_PLUS * f_plus if gap == 0 else 0.0)
    assert dw == pytest.approx(expected, rel=1e-12)


def test_pair_window_conv2d_lands_on_the_right_tap():
    conv = layer.Conv2d(1, 2, 3, bias=False, step_mode="m").double()
    nn.init.constant_(conv.weight, 0.5)
    learner = STDPLearner(conv, neuron.LIFNode(step_mode="m"), a_plus=A_PLUS, a_minus=A_MINUS, tau_plus=TAU_PLUS,
                          tau_minus=TAU_MINUS, dt=DT)
    pre = torch.zeros(10, 1, 1, 5, 5, dtype=torch.float64)
    post = torch.zeros(10, 1, 2, 3, 3, dtype=torch.float64)
    pre[2, 0, 0, 2, 3] = 1          # input pixel (2, 3)
    post[6, 0, 1, 1, 1] = 1         # output (1, 1) of channel 1 sees inputs (1..3, 1..3): tap (1, 2)
    dw = learner.step(apply=False) if learner.record(pre, post) is None else None
    expected = torch.zeros_like(conv.weight)
    expected[1, 0, 1, 2] = A_PLUS * math.exp(-4 * DT / TAU_PLUS)
    assert torch.allclose(dw, expected, atol=1e-15)


def test_conv_matches_linear_on_unfolded_patches():
    torch.manual_seed(0)
    conv = layer.Conv2d(2, 3, 3, padding=1, stride=2, bias=False, step_mode="m").double()
    nn.init.uniform_(conv.weight, 0, 1)
    pre = (torch.rand(6, 2, 2, 7, 7) < 0.3).double()
    post = (torch.rand(6, 2, 3, 4, 4) < 0.3).double()
    lc = STDPLearner(conv, neuron.LIFNode(step_mode="m"), a_plus=0.1, a_minus=0.07)
    lc.record(pre, post)
    dw = lc.step(apply=False)
    # the same rule by hand: Linear over each patch
    x = exp_trace(pre, math.exp(-1 / 20))
    y = exp_trace(post, math.exp(-1 / 20))
    unf = nn.functional.unfold
    ltp = ltd = 0
    for t in range(6):
        px, ps = unf(x[t], 3, padding=1, stride=2), unf(pre[t], 3, padding=1, stride=2)  # N, C*9, L
        ltp = ltp + torch.einsum("nol,nkl->ok", post[t].flatten(2), px)
        ltd = ltd + torch.einsum("nol,nkl->ok", y[t].flatten(2), ps)
    expected = ((0.1 * ltp - 0.07 * ltd) / 2).view_as(conv.weight)
    assert torch.allclose(dw, expected, atol=1e-12)


@pytest.mark.parametrize("dependence", ["additive", "multiplicative"])
def test_bounds_hold(dependence):
    torch.manual_seed(1)
    fc, lif = _linear(0.0, 30, 10)
    nn.init.uniform_(fc.weight, 0.0, 0.5)
    learner = STDPLearner(fc, lif, a_plus=0.5, a_minus=0.3, weight_dependence=dependence, w_min=0.0, w_max=0.5)
    hit_high = hit_low = False
    for _ in range(30):
        learner.record((torch.rand(20, 4, 30) < 0.4).float(), (torch.rand(20, 4, 10) < 0.4).float())
        learner.step()
        learner.reset()
        w = fc.weight
        assert float(w.min()) >= 0.0 and float(w.max()) <= 0.5
        hit_high |= bool((w > 0.49).any())
        hit_low |= bool((w < 0.01).any())
    assert hit_high and hit_low  # the bounds were actually pressed against


def test_normalisation_keeps_input_sums():
    torch.manual_seed(2)
    fc, lif = _linear(0.0, 25, 6)
    nn.init.uniform_(fc.weight, 0.0, 0.3)
    learner = STDPLearner(fc, lif, a_plus=0.05, a_minus=0.01, w_min=0.0, w_max=1.0, norm=2.5)
    for _ in range(5):
        learner.record((torch.rand(15, 3, 25) < 0.3).float(), (torch.rand(15, 3, 6) < 0.3).float())
        before = fc.weight.clone()
        learner.step()
        learner.reset()
        assert torch.allclose(fc.weight.sum(1), torch.full((6,), 2.5, dtype=torch.float64), atol=1e-9)
        assert not torch.allclose(fc.weight, before)
    conv = layer.Conv2d(2, 4, 3, bias=False, step_mode="m")
    nn.init.uniform_(conv.weight, 0, 0.2)
    lc = STDPLearner(conv, neuron.LIFNode(step_mode="m"), w_min=0.0, norm=1.5)
    lc.record((torch.rand(5, 2, 2, 6, 6) < 0.3).float(), (torch.rand(5, 2, 4, 4, 4) < 0.3).float())
    lc.step()
    assert torch.allclose(conv.weight.sum((1, 2, 3)), torch.full((4,), 1.5), atol=1e-5)


def test_online_and_batched_agree_for_a_batch_of_one():
    torch.manual_seed(3)
    T = 25
    pre = (torch.rand(T, 1, 12) < 0.3).double()
    post = (torch.rand(T, 1, 5) < 0.3).double()
    results = {}
    for mode in ("online", "batched"):
        fc, lif = _linear(0.4, 12, 5)
        learner = STDPLearner(fc, lif, a_plus=0.01, a_minus=0.012, tau_plus=7.0, tau_minus=9.0)
        if mode == "online":
            for t in range(T):
                learner.record(pre[t:t + 1], post[t:t + 1])
                learner.step()
        else:
            learner.record(pre, post)
            learner.step()
        results[mode] = fc.weight.detach().clone()
    assert torch.allclose(results["online"], results["batched"], atol=1e-13)
    assert not torch.allclose(results["online"], torch.full_like(results["online"], 0.4))


def test_online_network_and_batched_network_record_the_same():
    """A network run step by step (single-step mode) and as one sequence give the same total change."""
    torch.manual_seed(4)
    x = (torch.rand(30, 1, 16) < 0.4).float()
    changes = {}
    for mode in ("s", "m"):
        torch.manual_seed(5)
        fc = layer.Linear(16, 6, bias=False)
        nn.init.uniform_(fc.weight, 0, 0.6)
        lif = neuron.LIFNode(tau=5.0)
        net = nn.Sequential(fc, lif)
        functional.set_step_mode(net, mode)
        learner = STDPLearner(fc, lif, a_plus=1e-3, a_minus=1e-3)
        if mode == "s":
            total = sum(learner.step(apply=False) for xt in x if net(xt) is not None)
        else:
            net(x)
            total = learner.step(apply=False)
        changes[mode] = total
    assert changes["s"].abs().sum() > 0
    assert torch.allclose(changes["s"], changes["m"], atol=1e-6)


def test_online_multiplicative_close_to_batched_for_small_amplitudes():
    torch.manual_seed(6)
    pre = (torch.rand(40, 1, 8) < 0.3).double()
    post = (torch.rand(40, 1, 4) < 0.3).double()
    out = {}
    for mode in ("online", "batched"):
        fc, lif = _linear(0.5, 8, 4)
        learner = STDPLearner(fc, lif, a_plus=1e-4, a_minus=1e-4, weight_dependence="multiplicative", w_min=0, w_max=1)
        steps = [(pre[t:t + 1], post[t:t + 1]) for t in range(40)] if mode == "online" else [(pre, post)]
        for p, q in steps:
            learner.record(p, q)
            learner.step()
        out[mode] = fc.weight.detach() - 0.5
    # the weight factors drift by O(A) within the sequence online: agreement to a few % of the change
    scale = out["batched"].abs().max()
    assert scale > 5e-4
    assert (out["online"] - out["batched"]).abs().max() < 0.03 * scale


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_batch_change_is_the_mean_or_sum_of_single_sample_changes(reduction):
    torch.manual_seed(7)
    pre = (torch.rand(10, 3, 6) < 0.4).double()
    post = (torch.rand(10, 3, 2) < 0.4).double()
    fc, lif = _linear(0.0, 6, 2)
    learner = STDPLearner(fc, lif, a_plus=0.2, a_minus=0.1, reduction=reduction)
    learner.record(pre, post)
    batched = learner.step(apply=False)
    singles = []
    for n in range(3):
        learner.reset()
        learner.record(pre[:, n:n + 1], post[:, n:n + 1])
        singles.append(learner.step(apply=False))
    singles = torch.stack(singles)
    assert torch.allclose(batched, singles.mean(0) if reduction == "mean" else singles.sum(0))
    assert not torch.allclose(singles.mean(0), singles.sum(0))


def test_triplet_pair_and_triplet_terms():
    fc, lif = _linear(0.0)
    kw = dict(a2_plus=0.1, a3_plus=0.2, a2_minus=0.05, a3_minus=0.03, tau_plus=10.0, tau_minus=8.0, tau_x=50.0,
              tau_y=40.0)
    learner = TripletSTDPLearner(fc, lif, **kw)
    # an isolated pair: the pair rule with A2
    learner.record(*_pair(20, 2, 6))
    assert learner.step(apply=False).item() == pytest.approx(0.1 * math.exp(-4 / 10.0))
    learner.reset()
    learner.record(*_pair(20, 6, 2))
    assert learner.step(apply=False).item() == pytest.approx(-0.05 * math.exp(-4 / 8.0))
    # post (t=2), pre (t=5), post (t=9): the second post spike sees o2 = exp(-7/40)
    learner.reset()
    pre, post = torch.zeros(20, 1, 1, dtype=torch.float64), torch.zeros(20, 1, 1, dtype=torch.float64)
    post[2] = post[9] = 1
    pre[5] = 1
    learner.record(pre, post)
    expected = (-math.exp(-3 / 8.0) * (0.05 + 0.03 * 0.0)           # pre at 5 after post at 2 (r2 before = 0)
                + math.exp(-4 / 10.0) * (0.1 + 0.2 * math.exp(-7 / 40.0)))
    assert learner.step(apply=False).item() == pytest.approx(expected)


def test_reward_modulated_stdp():
    fc, lif = _linear(0.5)
    learner = RewardSTDPLearner(fc, lif, a_plus=0.1, a_minus=0.05, tau_plus=10.0, tau_minus=5.0, tau_e=30.0)
    learner.record(*_pair(20, 3, 7))
    assert learner.step(reward=None).item() == 0.0 and fc.weight.item() == 0.5   # no reward, no learning
    e = 0.1 * math.exp(-4 / 10.0) * math.exp(-(19 - 7) / 30.0)                   # decayed to the last step
    assert learner.eligibility.item() == pytest.approx(e)
    learner.record(torch.zeros(5, 1, 1, dtype=torch.float64), torch.zeros(5, 1, 1, dtype=torch.float64))
    dw = learner.step(reward=-2.0)
    assert dw.item() == pytest.approx(-2.0 * e * math.exp(-5 / 30.0))
    assert fc.weight.item() == pytest.approx(0.5 - 2.0 * e * math.exp(-5 / 30.0))
    # online: one step at a time gives the same eligibility
    fc2, lif2 = _linear(0.5)
    fc2.double()
    online = RewardSTDPLearner(fc2, lif2, a_plus=0.1, a_minus=0.05, tau_plus=10.0, tau_minus=5.0, tau_e=30.0)
    pre, post = _pair(20, 3, 7)
    for t in range(20):
        online.record(pre[t:t + 1], post[t:t + 1])
        online.step()
    assert online.eligibility.item() == pytest.approx(e)


def test_reward_per_sample():
    fc, lif = _linear(0.5)
    learner = RewardSTDPLearner(fc, lif, a_plus=0.1, a_minus=0.0, tau_e=1e9, per_sample=True)
    pre, post = torch.zeros(10, 2, 1, dtype=torch.float64), torch.zeros(10, 2, 1, dtype=torch.float64)
    pre[1], post[3] = 1, 1      # both samples see the same pair
    learner.record(pre, post)
    dw = learner.step(reward=torch.tensor([1.0, -1.0]))
    assert dw.item() == pytest.approx(0.0, abs=1e-12)   # opposite rewards cancel in the mean
    learner.reset()
    learner.record(pre, post)
    assert learner.step(reward=torch.tensor([1.0, 1.0])).item() == pytest.approx(0.1 * math.exp(-2 / 20.0))
    with pytest.raises(ValueError, match="one per sample"):
        learner.record(pre, post)
        learner.step(reward=torch.ones(3))
