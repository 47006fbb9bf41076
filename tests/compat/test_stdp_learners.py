"""SpikingJelly-semantics STDP learners: hand-computed updates, and the same delta_w as SpikingJelly's own
learners on the same synapse, neuron and spikes (those cross-checks skip where SpikingJelly is missing)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from spikesmith import functional
from spikesmith.compat.spikingjelly import MSTDPETLearner, MSTDPLearner, STDPLearner


class Replay(nn.Module):
    """A stand-in neuron that emits planned post spikes, one tensor per call."""

    def __init__(self, spikes):
        super().__init__()
        self.spikes = list(spikes)

    def forward(self, x):
        return self.spikes.pop(0).to(x)


def _run(synapse, sn, pre):
    with torch.no_grad():
        return sn(synapse(pre))


def test_pair_rule_by_hand_with_linear_traces_and_grad_accumulation():
    fc = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        fc.weight.fill_(0.25)
    post = [torch.tensor([[0.0]]), torch.tensor([[1.0]]), torch.tensor([[0.0]])]
    # pre fires at t0, post at t1: tr_pre(t1) = 1 - 1/2 = 0.5, potentiation (1 - w) * 0.5 = 0.375
    sn_module = Replay(post)
    learner = STDPLearner("s", fc, sn_module, tau_pre=2.0, tau_post=4.0, f_post=lambda w: 1 - w)
    _run(fc, sn_module, torch.tensor([[1.0]]))
    assert learner.step(on_grad=False).item() == 0.0            # tr_post is 0 when pre fires
    _run(fc, sn_module, torch.tensor([[0.0]]))
    assert learner.step(on_grad=True) is None
    assert fc.weight.grad.item() == pytest.approx(-0.375)        # -delta_w goes into .grad
    assert learner.trace_pre.item() == 0.5 and learner.trace_post.item() == 1.0
    # t2: pre fires while tr_post = 1 - 1/4 = 0.75: depression f_pre(w) * 0.75 = 0.25 * 0.75
    _run(fc, sn_module, torch.tensor([[1.0]]))
    assert learner.step(on_grad=False, scale=2.0).item() == pytest.approx(-2 * 0.1875)
    assert fc.weight.grad.item() == pytest.approx(-0.375)        # on_grad=False left .grad alone
    assert learner.step() is None                                # nothing recorded: nothing advances
    assert learner.trace_pre.item() == 0.5 * 0.5 + 1


def test_multi_step_records_sum_the_steps_at_fixed_weights():
    torch.manual_seed(0)
    fc = nn.Linear(3, 2, bias=False)
    post = (torch.rand(4, 5, 2) > 0.5).float()
    pre = (torch.rand(4, 5, 3) > 0.5).float()
    seq_sn, one_sn = Replay([post]), Replay(list(post))
    seq = STDPLearner("m", fc, seq_sn, 2.0, 2.0)
    _run(fc, seq_sn, pre)                      # an nn.Linear takes [T, N, I] as it is
    seq.disable()
    one = STDPLearner("s", fc, one_sn, 2.0, 2.0)
    want = torch.zeros_like(fc.weight)
    for t in range(4):
        _run(fc, one_sn, pre[t])
        want += one.step(on_grad=False)
    torch.testing.assert_close(seq.step(on_grad=False), want)
    assert want.abs().max() > 0


def _conv_reference(pre, post, weight, stride, padding, tau_pre, tau_post, steps):
    """Straight from the definition: every weight tap pairs output (n, o, y) with input (n, i, y*s + k)."""
    pre = [torch.nn.functional.pad(p, (padding, padding)) for p in pre]
    tr_pre, tr_post = torch.zeros_like(pre[0]), torch.zeros_like(post[0])
    total = torch.zeros_like(weight)
    for t in range(steps):
        tr_pre = tr_pre - tr_pre / tau_pre + pre[t]
        tr_post = tr_post - tr_post / tau_post + post[t]
        for o in range(weight.shape[0]):
            for i in range(weight.shape[1]):
                for k in range(weight.shape[2]):
                    for n in range(pre[t].shape[0]):
                        for y in range(post[t].shape[2]):
                            x = y * stride + k
                            total[o, i, k] += (post[t][n, o, y] * tr_pre[n, i, x]
                                               - tr_post[n, o, y] * pre[t][n, i, x] * weight[o, i, k])
    return total


def test_conv1d_matches_the_definition():
    torch.manual_seed(3)
    conv = nn.Conv1d(2, 3, 3, stride=2, padding=1, bias=False).double()
    pre = [(torch.rand(2, 2, 7, dtype=torch.float64) > 0.5).double() for _ in range(3)]
    post = [(torch.rand(2, 3, 4, dtype=torch.float64) > 0.5).double() for _ in range(3)]
    sn = Replay(post)
    learner = STDPLearner("s", conv, sn, tau_pre=2.0, tau_post=3.0, f_pre=lambda w: w, f_post=lambda w: 1.0)
    for p in pre:
        _run(conv, sn, p)
    got = learner.step(on_grad=False)
    want = _conv_reference(pre, post, conv.weight.detach(), 2, 1, 2.0, 3.0, 3)
    torch.testing.assert_close(got, want)


def test_mstdp_uses_the_previous_eligibility_and_per_sample_rewards():
    fc = nn.Linear(1, 1, bias=False)
    post = [torch.tensor([[1.0], [0.0]]), torch.tensor([[0.0], [0.0]])]
    sn = Replay(post)
    learner = MSTDPLearner("s", fc, sn, tau_pre=2.0, tau_post=2.0, f_post=lambda w: 1.0)
    _run(fc, sn, torch.tensor([[1.0], [1.0]]))
    assert learner.step(reward=5.0, on_grad=False).item() == 0.0      # the first change is always zero
    # eligibility of t0: sample 0: post * tr_pre - w * tr_post * pre = 1 - w; sample 1: 0
    w = fc.weight.item()
    _run(fc, sn, torch.tensor([[0.0], [0.0]]))
    got = learner.step(reward=torch.tensor([2.0, 7.0]), on_grad=False)
    assert got.item() == pytest.approx(2.0 * (1 - w))
    assert learner.trace_pre[0, 0].item() == pytest.approx(math.exp(-0.5))   # exponential decay here


def test_mstdpet_filters_the_eligibility():
    fc = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        fc.weight.fill_(0.5)
    sn = Replay([torch.tensor([1.0]), torch.tensor([0.0]), torch.tensor([0.0])])
    learner = MSTDPETLearner("s", fc, sn, tau_pre=2.0, tau_post=2.0, tau_trace=4.0, f_post=lambda w: 1.0)
    for x in (1.0, 0.0, 0.0):
        _run(fc, sn, torch.tensor([x]))
        learner.step(reward=3.0)
    e0 = 1 - 0.5                                            # post * tr_pre - w * tr_post * pre at t0
    e1 = -0.5 * 0.0 + 0.0                                   # nothing fires at t1
    trace_e = (e0 / 4.0) * math.exp(-0.25) + e1 / 4.0       # after t2
    assert learner.trace_e.item() == pytest.approx(trace_e)
    assert fc.weight.grad.item() == pytest.approx(-3.0 * (e0 / 4.0) - 3.0 * trace_e)


def test_disable_reset_close_and_reset_net():
    fc = nn.Linear(2, 2)
    sn = nn.Identity()
    learner = STDPLearner("s", fc, sn, 2.0, 2.0)
    net = nn.ModuleList([learner])             # a learner inside a net is reset by reset_net
    learner.disable()
    _run(fc, sn, torch.ones(1, 2))
    assert learner.step() is None
    learner.enable()
    _run(fc, sn, torch.ones(1, 2))
    learner.step()
    assert learner.trace_pre is not None
    functional.reset_net(net)
    assert learner.trace_pre is None and fc.weight.grad is not None
    learner.close()
    with pytest.raises(RuntimeError, match="closed"):
        learner.step()
    with pytest.raises(RuntimeError, match="closed"):
        learner.enable()


def test_bad_input_is_named_with_the_fix():
    fc = nn.Linear(2, 2)
    sn = nn.Identity()
    with pytest.raises(ValueError, match="tau_pre must be a finite number >= 1"):
        STDPLearner("s", fc, sn, 0.5, 2.0)
    with pytest.raises(ValueError, match="tau_trace"):
        MSTDPETLearner("s", fc, sn, 1.0, 1.0, tau_trace=0.0)
    with pytest.raises(ValueError, match="only step_mode='s'"):
        MSTDPLearner("m", fc, sn, 1.0, 1.0)
    with pytest.raises(TypeError, match="synapse must be an nn.Linear/nn.Conv1d/nn.Conv2d"):
        STDPLearner("s", nn.Conv3d(1, 1, 1), sn, 2.0, 2.0)
    with pytest.raises(ValueError, match="groups=1"):
        STDPLearner("s", nn.Conv2d(2, 2, 3, groups=2), sn, 2.0, 2.0)
    learner = STDPLearner("s", fc, sn, 2.0, 2.0)
    _run(fc, sn, torch.ones(3, 2))
    learner.step()
    kept = learner.trace_pre
    _run(fc, sn, torch.ones(3, 2))
    _run(fc, sn, torch.ones(4, 2))
    with pytest.raises(ValueError, match="call reset"):
        learner.step()
    assert learner.trace_pre is kept and len(learner.in_spike_monitor.records) == 2   # nothing advanced
    learner.reset()
    fc(torch.ones(1, 2))                                       # the synapse ran, the neuron did not
    with pytest.raises(RuntimeError, match="1 synapse inputs but 0 neuron outputs"):
        learner.step()
    learner.reset()
    _run(fc, sn, torch.ones(2, 5, 2))
    with pytest.raises(ValueError, match=r"expects spikes of shape \[N, features\]"):
        learner.step()
    learner.reset()
    rl = MSTDPLearner("s", fc, sn, 2.0, 2.0)
    _run(fc, sn, torch.ones(3, 2))
    with pytest.raises(ValueError, match=r"shape \[3\]"):
        rl.step(torch.ones(2))


# ---------------------------------------------------------------- against SpikingJelly itself

def _sj():
    pytest.importorskip("spikingjelly.activation_based.learning")
    from spikingjelly.activation_based import layer as sjl
    from spikingjelly.activation_based import learning as sj_learning
    from spikingjelly.activation_based import neuron as sjn
    return sjl, sj_learning, sjn


def _f_pre(w):
    return torch.clamp(w, -1.0, 1.0)


def _f_post(w):
    return torch.clamp(-w, -1.0, 1.0) + w.mean()       # not elementwise: the conv taps' slices matter


SYNAPSES = {
    "linear": (lambda sjl, m: sjl.Linear(6, 4, bias=False, step_mode=m), (5, 6)),
    "conv2d": (lambda sjl, m: sjl.Conv2d(2, 3, 3, stride=2, padding=1, padding_mode="reflect", step_mode=m),
               (3, 2, 7, 7)),
    "conv2d_rect": (lambda sjl, m: sjl.Conv2d(2, 3, (2, 3), stride=(1, 2), step_mode=m), (3, 2, 5, 7)),
    "conv1d": (lambda sjl, m: sjl.Conv1d(2, 3, 3, padding=2, step_mode=m), (3, 2, 7)),
}


@pytest.mark.parametrize("step_mode", ["s", "m"])
@pytest.mark.parametrize("kind", sorted(SYNAPSES))
def test_stdp_delta_w_equals_spikingjelly(kind, step_mode):
    sjl, sj_learning, sjn = _sj()
    torch.manual_seed(7)
    make, shape = SYNAPSES[kind]
    synapse = make(sjl, step_mode).double()
    sn = sjn.IFNode(v_threshold=0.3, step_mode=step_mode)
    theirs = sj_learning.STDPLearner(step_mode, synapse, sn, 2.0, 3.0, _f_pre, _f_post)
    ours = STDPLearner(step_mode, synapse, sn, 2.0, 3.0, _f_pre, _f_post)
    for _ in range(3):
        x = (torch.rand(((3,) if step_mode == "m" else ()) + shape, dtype=torch.float64) > 0.6).double()
        _run(synapse, sn, x)
        want = theirs.step(on_grad=False, scale=0.5)
        got = ours.step(on_grad=False, scale=0.5)
        assert want.abs().max() > 0
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(ours.trace_pre, theirs.trace_pre, rtol=0, atol=1e-12)
    torch.testing.assert_close(ours.trace_post, theirs.trace_post, rtol=0, atol=1e-12)


@pytest.mark.parametrize("which", ["mstdp", "mstdpet"])
def test_reward_learners_grad_equals_spikingjelly(which):
    sjl, sj_learning, sjn = _sj()
    torch.manual_seed(8)
    synapse = nn.Linear(6, 4).double()
    sn = sjn.LIFNode(v_threshold=0.4)
    if which == "mstdp":
        make_sj, make, kw, shape = sj_learning.MSTDPLearner, MSTDPLearner, {}, (5, 6)
    else:
        make_sj, make, kw, shape = sj_learning.MSTDPETLearner, MSTDPETLearner, {"tau_trace": 4.0}, (6,)
    theirs = make_sj("s", synapse, sn, 2.0, 3.0, f_pre=_f_pre, f_post=_f_post, **kw)
    ours = make("s", synapse, sn, 2.0, 3.0, f_pre=_f_pre, f_post=_f_post, **kw)
    grads = []
    for t in range(4):
        _run(synapse, sn, (torch.rand(shape, dtype=torch.float64) > 0.5).double())
        reward = torch.randn(5, dtype=torch.float64) if which == "mstdp" and t % 2 else t - 1.5
        for learner in (theirs, ours):
            synapse.weight.grad = None
            learner.step(reward, scale=0.7)
            grads.append(synapse.weight.grad.clone())
        torch.testing.assert_close(grads[-1], grads[-2], rtol=0, atol=1e-12)
    assert grads[-1].abs().max() > 0


def test_the_mstdp_demo_loop_gives_spikingjellys_weights():
    """SpikingJelly's mstdp demo, in our words: SGD on the learner's .grad, clamped weights, rewards per sample."""
    sjl, sj_learning, sjn = _sj()

    def run(make_learner):
        torch.manual_seed(0)
        net = nn.Sequential(sjl.Linear(4, 3, bias=False), sjn.IFNode())
        nn.init.constant_(net[0].weight, 0.4)
        opt = torch.optim.SGD(net.parameters(), lr=0.01)
        spikes = (torch.rand(48, 2, 4) > 0.7).float()
        rewards = torch.rand(48, 2) * 2 - 1
        learner = make_learner("s", net[0], net[1], tau_pre=20.0, tau_post=20.0,
                               f_pre=lambda w: (w + 1.0) ** 0.5, f_post=lambda w: (1.0 - w) ** 0.5)
        weights = []
        with torch.no_grad():
            for t in range(48):
                opt.zero_grad()
                net(spikes[t])
                learner.step(rewards[t], on_grad=True)
                opt.step()
                net[0].weight.clamp_(-1.0, 1.0)
                weights.append(net[0].weight.clone())
        learner.close()
        return torch.stack(weights)

    want = run(sj_learning.MSTDPLearner)
    torch.testing.assert_close(run(MSTDPLearner), want, rtol=0, atol=1e-6)
    assert (want[-1] - 0.4).abs().max() > 1e-3           # the weights did move


def test_a_bad_modulation_function_is_named_and_advances_nothing():
    fc = nn.Linear(3, 2)
    sn = nn.Identity()
    learner = STDPLearner("s", fc, sn, 2.0, 2.0, f_pre=lambda w: torch.ones(5))
    _run(fc, sn, torch.ones(1, 3))
    with pytest.raises(ValueError, match=r"f_pre and f_post must return .* broadcastable to the weight \[2, 3\]"):
        learner.step()
    assert learner.trace_pre is None


def test_functional_forms_equal_the_learners():
    from spikesmith.compat.spikingjelly import stdp_learners as sl
    torch.manual_seed(9)
    conv = nn.Conv2d(2, 3, 3, padding=1, bias=False).double()
    pre = (torch.rand(3, 2, 2, 5, 5, dtype=torch.float64) > 0.5).double()
    post = (torch.rand(3, 2, 3, 5, 5, dtype=torch.float64) > 0.5).double()
    sn = Replay([post])
    learner = STDPLearner("m", conv, sn, 2.0, 3.0, f_pre=_f_pre)
    learner.in_spike_monitor._record(pre)        # what the hooks would record in multi-step mode
    learner.out_spike_monitor._record(post)
    want = learner.step(on_grad=False)
    tr_pre, tr_post, got = sl.stdp_multi_step(conv, pre, post, None, None, 2.0, 3.0, f_pre=_f_pre)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-12)
    torch.testing.assert_close(tr_pre, learner.trace_pre, rtol=0, atol=0)
    fc = nn.Linear(3, 2).double()
    x, y = torch.ones(4, 3, dtype=torch.float64), torch.ones(4, 2, dtype=torch.float64)
    tr_pre, _, e = sl.mstdp_linear_single_step(fc, x, y, None, None, 2.0, 2.0, f_post=lambda w: 1.0)
    torch.testing.assert_close(e, (1 - fc.weight.detach()).expand(4, 2, 3))    # post * tr_pre - w * tr_post * pre
    _, _, e = sl.mstdp_linear_single_step(fc, x, y, tr_pre, None, 2.0, 2.0, f_post=lambda w: 1.0)
    torch.testing.assert_close(e, (1 + math.exp(-0.5) - fc.weight.detach()).expand(4, 2, 3))
    with pytest.raises(TypeError, match="stdp_multi_step: layer must be"):
        sl.stdp_multi_step(nn.Conv3d(1, 1, 1), pre, post, None, None, 2.0, 2.0)
