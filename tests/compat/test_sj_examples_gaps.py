"""Gaps that running SpikingJelly's own example scripts on spikesmith revealed (bench/compat/sj_examples.py),
each pinned by a small program in our own words: hand-computed values first, then SpikingJelly itself
where it is installed.
"""

from __future__ import annotations

import math

import pytest
import torch

from spikesmith.compat.spikingjelly.activation_based import neuron as sj_neuron
from spikesmith.neuron import IFNode

pytestmark = pytest.mark.usefixtures("one_thread")


# ----------------------------------------------------------------- a membrane set by hand before the first step
# (stdp_mnist.py starts its encoder from random phases: ``encoder.v = torch.rand(...)``, then steps it)

def test_hand_set_membrane_is_the_first_state_single_step():
    node = IFNode(v_threshold=1.0, v_reset=None)
    node.v = torch.tensor([0.95, 0.2, 0.0])
    spike = node(torch.tensor([0.1, 0.1, 0.1]))
    # H = V + X = [1.05, 0.3, 0.1]; the first fires and keeps 0.05 (soft reset)
    assert spike.tolist() == [1.0, 0.0, 0.0]
    assert torch.allclose(node.v, torch.tensor([0.05, 0.3, 0.1]))


def test_hand_set_membrane_is_the_first_state_multi_step():
    node = IFNode(v_threshold=1.0, v_reset=0.0, step_mode="m")
    node.v = torch.tensor([0.5, 0.0])
    spikes = node(torch.full((3, 2), 0.3))
    # V: 0.5 -> 0.8 -> 1.1 (fires, to 0) -> 0.3 ;  0 -> 0.3 -> 0.6 -> 0.9
    assert spikes.tolist() == [[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]]
    assert torch.allclose(node.v, torch.tensor([0.3, 0.9]))


def test_hand_set_membrane_is_forgotten_by_reset():
    node = IFNode()
    node.v = torch.tensor([0.99])
    node.reset()
    assert node(torch.tensor([0.5])).item() == 0.0       # from V = 0 again, not from 0.99
    assert node.v.item() == pytest.approx(0.5)


def test_hand_set_membrane_of_wrong_shape_is_a_clear_error():
    node = IFNode()
    node.v = torch.zeros(3)
    with pytest.raises(ValueError, match="does not broadcast"):
        node(torch.zeros(2, 4))


def test_hand_set_membrane_sj_style_custom_neuron_matches_spikingjelly():
    sj = pytest.importorskip("spikingjelly.activation_based.neuron")
    torch.manual_seed(0)
    start, x = torch.rand(4, 6), torch.rand(5, 4, 6) * 0.3
    runs = []
    for module in (sj, sj_neuron):
        node = module.SimpleIFNode(v_threshold=1.0, v_reset=None)
        node.v = start.clone()
        runs.append(torch.stack([node(x_t) for x_t in x]))
    assert runs[0].sum() > 0
    assert torch.equal(runs[0], runs[1])


# ----------------------------------------------------------------- Erf's gradient rounds as SpikingJelly's
# (spiking_lstm_sequential_mnist.py: Adam turned 1-ulp gradient differences into 5e-5 weight differences)

def test_erf_gradient_by_hand():
    from spikesmith.compat.spikingjelly.activation_based import surrogate

    x = torch.tensor([0.0, 0.5, -1.0], requires_grad=True)
    surrogate.Erf(alpha=2.0)(x).backward(torch.tensor([1.0, 2.0, 3.0]))
    # g(x) = alpha / sqrt(pi) exp(-(alpha x)^2): 2/sqrt(pi) * [1, e^-1, e^-4], times the incoming gradient
    expected = torch.tensor([1.0, 2.0 * math.exp(-1.0), 3.0 * math.exp(-4.0)]) * 2.0 / math.sqrt(math.pi)
    assert torch.allclose(x.grad, expected, rtol=1e-6)


def test_erf_gradient_equals_spikingjelly_bitwise():
    sj = pytest.importorskip("spikingjelly.activation_based.surrogate")
    from spikesmith.compat.spikingjelly.activation_based import surrogate

    torch.manual_seed(0)
    x0, grad = torch.randn(10_000), torch.randn(10_000)
    grads = []
    for module in (sj, surrogate):
        x = x0.clone().requires_grad_()
        module.Erf(alpha=3.0)(x).backward(grad)
        grads.append(x.grad)
    assert torch.equal(grads[0], grads[1])


# ----------------------------------------------------------------- the newer zoo's neuron factory
# (model/ms_resnet.py, maxformer.py, ... import ``activation_based._neuron._make_multi_step_neuron``)

def test_zoo_neuron_factory_defaults_options_and_step_mode():
    from spikesmith.compat.spikingjelly.activation_based import _neuron, surrogate

    shared = {"tau": 3.0, "surrogate_function": surrogate.ATan()}
    a = _neuron._make_multi_step_neuron(None, {"v_threshold": 0.5}, shared)
    b = _neuron._make_multi_step_neuron(None, {}, shared)
    assert isinstance(a, sj_neuron.LIFNode) and a.step_mode == "m"
    assert (a.tau, a.v_threshold, b.v_threshold) == (3.0, 0.5, 1.0)
    assert a.surrogate_function is not b.surrogate_function          # options are copied per neuron
    c = _neuron._make_multi_step_neuron(sj_neuron.IFNode, {"v_reset": None}, shared)
    assert isinstance(c, sj_neuron.IFNode) and c.v_reset is None      # a given neuron ignores the defaults
    assert c(torch.full((3, 1), 0.6)).flatten().tolist() == [0.0, 1.0, 0.0]
    with pytest.raises(ValueError, match="step_mode must be 'm'"):
        _neuron._make_multi_step_neuron(None, {"step_mode": "s"})


def test_zoo_neuron_factory_matches_spikingjelly():
    sj = pytest.importorskip("spikingjelly.activation_based._neuron")
    from spikesmith.compat.spikingjelly.activation_based import _neuron

    x = torch.rand(6, 2, 5) * 2
    spikes = [module._make_multi_step_neuron(None, {"v_threshold": 0.7}, {"tau": 2.0, "detach_reset": True})(x)
              for module in (sj, _neuron)]
    assert spikes[0].sum() > 0 and torch.equal(spikes[0], spikes[1])
