"""Our IF/LIF/PLIF give the same spikes and input gradients as SpikingJelly's (where installed)."""

import pytest
import torch

sj = pytest.importorskip("spikingjelly.activation_based", reason="SpikingJelly not installed (scripts/install_peers.sh)")
from spikingjelly.activation_based import functional as sj_functional  # noqa: E402
from spikingjelly.activation_based import neuron as sj_neuron  # noqa: E402
from spikingjelly.activation_based import surrogate as sj_surrogate  # noqa: E402

from spikesmith import neuron, surrogate  # noqa: E402

CASES = [
    ("IFNode", {}, {}),
    ("IFNode", {"v_reset": None}, {"v_reset": None}),
    ("LIFNode", {"tau": 2.0}, {"tau": 2.0}),
    ("LIFNode", {"tau": 3.0, "decay_input": False, "v_reset": None}, {"tau": 3.0, "decay_input": False, "v_reset": None}),
    ("LIFNode", {"tau": 1.5, "v_reset": -0.2, "detach_reset": True}, {"tau": 1.5, "v_reset": -0.2, "detach_reset": True}),
    ("ParametricLIFNode", {"init_tau": 2.0}, {"init_tau": 2.0}),
    ("ParametricLIFNode", {"init_tau": 4.0, "v_reset": None}, {"init_tau": 4.0, "v_reset": None}),
]
SURROGATES = [("sigmoid", lambda: sj_surrogate.Sigmoid(alpha=4.0), lambda: surrogate.Sigmoid(alpha=4.0)),
              ("atan", lambda: sj_surrogate.ATan(alpha=2.0), lambda: surrogate.ATan(alpha=2.0))]


def away_from_threshold_input(shape, seed):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, generator=g, dtype=torch.float64) * 3.2 - 0.4)


@pytest.mark.parametrize("name, ours_kw, theirs_kw", CASES)
@pytest.mark.parametrize("sg_name, sj_sg, our_sg", SURROGATES, ids=[s[0] for s in SURROGATES])
def test_same_spikes_and_gradients(name, ours_kw, theirs_kw, sg_name, sj_sg, our_sg):
    x = away_from_threshold_input((12, 4, 16), seed=hash((name, sg_name)) % 1000)
    theirs = getattr(sj_neuron, name)(surrogate_function=sj_sg(), step_mode="m", **theirs_kw).double()
    ours = getattr(neuron, name)(surrogate_function=our_sg(), step_mode="m", **ours_kw).double()
    x1 = x.clone().requires_grad_(True)
    x2 = x.clone().requires_grad_(True)
    s1 = theirs(x1)
    s2 = ours(x2)
    weights = torch.linspace(-1, 1, s1.numel(), dtype=torch.float64).view_as(s1)
    (s1 * weights).sum().backward()
    (s2 * weights).sum().backward()
    assert torch.equal(s1, s2)
    assert s1.sum() > 0  # the comparison covers spikes and resets
    assert torch.allclose(x1.grad, x2.grad, rtol=1e-9, atol=1e-12)
    if name == "ParametricLIFNode":
        assert torch.allclose(theirs.w.grad, ours.w.grad, rtol=1e-9, atol=1e-12)
    assert torch.allclose(theirs.v, ours.v, atol=1e-12)
    sj_functional.reset_net(theirs)


def test_single_step_matches_too():
    x = away_from_threshold_input((6, 3, 5), seed=3)
    theirs = sj_neuron.LIFNode(tau=2.0, step_mode="s").double()
    ours = neuron.LIFNode(tau=2.0, step_mode="s").double()
    for xt in x.unbind(0):
        assert torch.equal(theirs(xt), ours(xt))
