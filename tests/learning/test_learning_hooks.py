"""Lateral inhibition (k-WTA, soft) and the adaptive threshold as step hooks; a small network
that separates two patterns without labels."""

import pytest
import torch
from torch import nn

from spikesmith import functional, layer, neuron
from spikesmith.learning import AdaptiveThreshold, LateralInhibition, STDPLearner


def _driven(n=8, step_mode="m", **kw):
    lif = neuron.LIFNode(tau=2.0, step_mode=step_mode, **kw)
    return lif


def test_k1_wta_lets_one_neuron_fire_per_step():
    torch.manual_seed(0)
    x = 1.5 + torch.rand(20, 4, 8)            # every neuron would fire at almost every step
    free = _driven()(x)
    assert (free.sum(-1) > 1).any()
    lif = _driven()
    LateralInhibition(k=1).attach(lif)
    s = lif(x)
    per_step = s.sum(-1)
    assert per_step.max() == 1 and per_step.sum() > 20     # one winner per step and sample, and it does fire
    # the winner is the neuron with the highest potential
    lif2 = neuron.LIFNode(tau=2.0, step_mode="s")
    LateralInhibition(k=1).attach(lif2)
    x0 = torch.tensor([[2.0, 3.0, 2.5]])
    assert torch.equal(lif2(x0), torch.tensor([[0.0, 1.0, 0.0]]))


def test_k_wta_and_channel_groups():
    x = 3 + torch.rand(5, 2, 6, 3, 3)
    lif = _driven()
    LateralInhibition(k=2, group="channel").attach(lif)
    s = lif(x)
    assert s.sum(2).max() == 2 and s.sum(2).min() == 2     # two channels per position fire
    assert s.flatten(2).sum(-1).max() == 18


def test_soft_inhibition_lowers_the_others():
    lif = neuron.LIFNode(tau=2.0, v_reset=0.0, step_mode="s")
    LateralInhibition(strength=0.7).attach(lif)
    s = lif(torch.tensor([[4.0, 1.0, 1.0]]))               # H = [2, .5, .5]: neuron 0 fires
    assert torch.equal(s, torch.tensor([[1.0, 0.0, 0.0]]))
    assert torch.allclose(lif.v, torch.tensor([[0.0, 0.5 - 0.7, 0.5 - 0.7]]))
    lif2 = neuron.LIFNode(tau=2.0, step_mode="s")
    LateralInhibition(strength=5.0, v_floor=-1.0).attach(lif2)
    lif2(torch.tensor([[4.0, 1.0]]))
    assert lif2.v[0, 1] == -1.0


def test_hooks_keep_gradients_of_the_winners():
    lif = neuron.LIFNode(tau=2.0, step_mode="m")
    LateralInhibition(k=1).attach(lif)
    x = (2 + torch.rand(3, 2, 4)).requires_grad_(True)
    lif(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_adaptive_threshold_rises_with_activity_and_blocks_spikes():
    lif = neuron.LIFNode(tau=2.0, step_mode="m")
    at = AdaptiveThreshold(3, theta_plus=0.5, tau_theta=1e6).attach(lif)
    x = torch.zeros(30, 2, 3)
    x[:, :, 0] = 4.0          # strongly driven
    x[:, :, 1] = 2.5          # weakly driven
    s = lif(x)
    counts = s.sum(0)
    assert counts[:, 0].min() > counts[:, 1].max() > 0 and counts[:, 2].max() == 0
    functional.reset_net(lif)                                # folds the batch's theta into the buffer
    theta = at.theta.clone()
    assert theta[0] > theta[1] > 0 and theta[2] == 0
    assert theta[0] == pytest.approx(0.5 * float(counts[0, 0]), rel=1e-4)   # both samples alike: mean = one sample
    # a raised threshold fires less for the same input
    again = lif(x).sum()
    assert again < s.sum()
    # evaluation leaves theta alone
    functional.reset_net(lif)
    lif.eval()
    before = at.theta.clone()
    lif(x)
    functional.reset_net(lif)
    assert torch.equal(at.theta, before)
    assert "adaptive_threshold.theta" in lif.state_dict()


def test_adaptive_threshold_sum_reduction_and_decay():
    lif = neuron.LIFNode(tau=2.0, step_mode="m")
    at = AdaptiveThreshold(1, theta_plus=1.0, tau_theta=10.0, dt=1.0, reduction="sum").attach(lif)
    x = torch.zeros(5, 3, 1)
    x[0] = 10.0               # one spike at t=0 in each of 3 samples, then 4 steps of decay
    lif(x)
    functional.reset_net(lif)
    assert at.theta.item() == pytest.approx(3 * torch.exp(torch.tensor(-4 / 10.0)).item(), rel=1e-5)


def test_soft_reset_subtracts_the_raised_threshold():
    lif = neuron.LIFNode(tau=2.0, v_reset=None, step_mode="s")
    at = AdaptiveThreshold(1, theta_plus=0.0).attach(lif)
    at.theta.fill_(0.5)
    s = lif(torch.tensor([[4.0]]))     # H = 2 >= 1.5: spike, V = 2 - 1.5
    assert s.item() == 1.0 and lif.v.item() == pytest.approx(0.5)


def test_hook_errors():
    with pytest.raises(ValueError, match="k must be a positive int"):
        LateralInhibition(k=0)
    with pytest.raises(ValueError, match="strength must be"):
        LateralInhibition(strength=-1.0)
    with pytest.raises(ValueError, match="give a strength"):
        LateralInhibition()
    with pytest.raises(ValueError, match="theta_plus"):
        AdaptiveThreshold(3, theta_plus=-0.1)
    with pytest.raises(TypeError, match="spiking neuron"):
        LateralInhibition(k=1).attach(nn.ReLU())
    lif = neuron.LIFNode(step_mode="m")
    AdaptiveThreshold(4).attach(lif)
    with pytest.raises(ValueError, match="pass the neuron shape"):
        lif(torch.rand(3, 2, 5))
    hook = LateralInhibition(k=1).attach(neuron.LIFNode())
    with pytest.raises(ValueError, match="already attached"):
        hook.attach(neuron.LIFNode())


def test_two_patterns_separate_without_labels():
    """Two neurons with WTA, adaptive thresholds and STDP each come to prefer one of two patterns."""
    torch.manual_seed(0)
    n_in = 20
    patterns = torch.zeros(2, n_in)
    patterns[0, :10] = 1.0
    patterns[1, 10:] = 1.0
    fc = layer.Linear(n_in, 2, bias=False, step_mode="m")
    nn.init.uniform_(fc.weight, 0.3, 0.5)
    lif = neuron.LIFNode(tau=20.0, decay_input=False, v_threshold=2.0, step_mode="m")
    AdaptiveThreshold(2, theta_plus=0.05, tau_theta=1e5).attach(lif)
    LateralInhibition(strength=2.0, k=1).attach(lif)
    learner = STDPLearner(fc, lif, a_plus=0.02, a_minus=0.004, trace="nearest", w_min=0.0, w_max=1.0, norm=4.0)
    net = nn.Sequential(fc, lif)
    gen = torch.Generator().manual_seed(1)

    def show(k, learn=True):
        x = (torch.rand(40, 1, n_in, generator=gen) < 0.3 * patterns[k]).float()
        learner.enabled = learn
        counts = net(x).sum((0, 1))
        if learn:
            learner.step()
        functional.reset_net(net)
        learner.reset()
        return counts

    for i in range(150):
        show(i % 2)
    lif.eval()
    response = torch.stack([sum(show(k, learn=False) for _ in range(10)) for k in range(2)])  # [pattern, neuron]
    pref = response.argmax(1)
    assert pref[0] != pref[1], response
    # each neuron's weights moved onto its pattern
    w = fc.weight.detach()
    for k in range(2):
        j = int(pref[k])
        assert w[j][patterns[k] > 0].sum() > 3 * w[j][patterns[k] == 0].sum()
