"""AdLIFNode (Bittar & Garner 2022): hand-computed traces, its learned parameters, step modes, errors."""

import math

import pytest
import torch

from spikesmith import functional, layer, neuron
from spikesmith.export.check import check
from spikesmith.neuron.adlif import RANGES

D = torch.float64


def trace(node, xs):
    node.step_mode = "s"
    out = []
    for x in xs:
        with torch.no_grad():
            s = node(torch.tensor([[x]], dtype=D))
        out.append((float(s), float(node.v), float(node.w)))
    return out


def close(got, want):
    for (s, v, w), (s2, v2, w2) in zip(got, want):
        assert s == s2 and v == pytest.approx(v2, abs=1e-12) and w == pytest.approx(w2, abs=1e-12)


# alpha = 0.9, beta = 0.98, a = 0.5, b = 1, theta = 1, X = 12 at every step, V = w = 0 at the start:
#   H1 = 0.1 * 12 = 1.2 -> S, V = 1.2 - 1 = 0.2;  w = 0.5 * 1.2 + 1 = 1.6
#   H2 = 0.9 * 0.2 + 0.1 * (12 - 1.6) = 1.22 -> S, V = 0.22;  w = 0.98 * 1.6 + 0.5 * 1.22 + 1 = 3.178
#   H3 = 0.9 * 0.22 + 0.1 * (12 - 3.178) = 1.0802 -> S, V = 0.0802;  w = 0.98 * 3.178 + 0.5401 + 1 = 4.65454
#   H4 = 0.9 * 0.0802 + 0.1 * (12 - 4.65454) = 0.806726 -> no spike;  w = 0.98 * 4.65454 + 0.403363 = 4.9648122
#   H5 = 0.9 * 0.806726 + 0.1 * (12 - 4.9648122) = 1.42957218 -> S, V = 0.42957218;  w = 6.580302046
PARAMS = dict(alpha=0.9, beta=0.98, a=0.5, b=1.0)


def test_trace_soft_reset():
    node = neuron.AdLIFNode(**PARAMS).double()
    close(trace(node, [12.0] * 5), [(1, 0.2, 1.6), (1, 0.22, 3.178), (1, 0.0802, 4.65454),
                                    (0, 0.806726, 4.9648122), (1, 0.42957218, 6.580302046)])


def test_trace_hard_reset():
    # H1 = 1.2 -> S, V = 0, w = 1.6;  H2 = 0.1 * (12 - 1.6) = 1.04 -> S, V = 0, w = 1.568 + 0.52 + 1 = 3.088
    # H3 = 0.1 * (12 - 3.088) = 0.8912 -> V = 0.8912, w = 0.98 * 3.088 + 0.4456 = 3.47184
    # H4 = 0.9 * 0.8912 + 0.1 * (12 - 3.47184) = 1.654896 -> S, V = 0, w = 3.4024032 + 0.827448 + 1 = 5.2298512
    node = neuron.AdLIFNode(**PARAMS, v_reset=0.0).double()
    close(trace(node, [12.0] * 4), [(1, 0.0, 1.6), (1, 0.0, 3.088), (0, 0.8912, 3.47184), (1, 0.0, 5.2298512)])


def test_w_uses_the_membrane_before_the_reset():
    """a = 1, b = 0: w after a spike holds H (1.2), not the reset V (0.2)."""
    node = neuron.AdLIFNode(alpha=0.9, beta=0.98, a=1.0, b=0.0).double()
    (s, v, w), = trace(node, [12.0])
    assert s == 1 and v == pytest.approx(0.2) and w == pytest.approx(1.2)


def test_registered_and_exported():
    assert neuron.NEURONS.get("adlif") is neuron.AdLIFNode
    assert "AdLIFNode" in neuron.__all__
    assert neuron.time_constant_argument("adlif") is None
    assert neuron.NEURONS.get("alif") is neuron.AdaptiveLIFNode


def test_parameters_per_neuron_uniform_in_their_ranges_and_clamped():
    torch.manual_seed(0)
    node = neuron.AdLIFNode(shape=4000)
    for name, (lo, hi) in RANGES.items():
        p = getattr(node, name).detach()
        assert p.shape == (4000,) and getattr(node, name).requires_grad
        assert lo <= float(p.min()) and float(p.max()) <= hi
        assert float(p.min()) < lo + 0.01 * (hi - lo) and float(p.max()) > hi - 0.01 * (hi - lo)  # fills the range
    assert RANGES["alpha"] == (math.exp(-1 / 5), math.exp(-1 / 25))
    assert RANGES["beta"] == (math.exp(-1 / 30), math.exp(-1 / 120))
    with torch.no_grad():
        node.alpha.fill_(2.0)
        node.b.fill_(-1.0)
    alpha, _, _, b = (t.detach() for t in node.clamped())
    assert float(alpha.max()) == pytest.approx(math.exp(-1 / 25)) and float(b.min()) == 0.0


def test_lazy_shape_is_one_sample_and_trains():
    net = torch.nn.Sequential(layer.Linear(3, 5, step_mode="m"), neuron.AdLIFNode(step_mode="m"))
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    net(torch.rand(4, 2, 3) * 3).sum().backward()
    opt.step()
    assert net[1].alpha.shape == (5,) and net[1].alpha.grad is not None
    single = neuron.AdLIFNode(step_mode="s")
    single(torch.rand(2, 3, 4))
    assert single.a.shape == (3, 4)


def test_state_dict_round_trip_into_a_lazy_node():
    src = neuron.AdLIFNode(shape=(2, 1))
    dst = neuron.AdLIFNode()
    dst.load_state_dict(src.state_dict())
    for name in RANGES:
        assert torch.equal(getattr(dst, name), getattr(src, name))


def test_single_step_equals_multi_step_per_neuron():
    torch.manual_seed(1)
    x = torch.rand(9, 3, 6, dtype=D) * 4
    results = []
    for mode in ("s", "m"):
        torch.manual_seed(2)
        node = neuron.AdLIFNode(shape=6, step_mode=mode, backend="torch").double()
        xin = x.clone().requires_grad_(True)
        out = node(xin) if mode == "m" else torch.stack([node(xt) for xt in xin.unbind(0)])
        (out * torch.linspace(0.5, 1.5, out.numel(), dtype=D).view_as(out)).sum().backward()
        results.append((out.detach(), xin.grad, [p.grad for p in node.parameters()], node.v, node.w))
    (o1, g1, p1, v1, w1), (o2, g2, p2, v2, w2) = results
    assert o1.sum() > 0
    assert torch.equal(o1, o2) and torch.equal(g1, g2) and torch.equal(v1, v2) and torch.equal(w1, w2)
    assert all(torch.equal(a, b) for a, b in zip(p1, p2))


def test_reset_net_resets_v_and_w():
    node = neuron.AdLIFNode(**PARAMS, step_mode="m")
    node(torch.full((3, 1, 2), 12.0))
    functional.reset_net(node)
    node(torch.zeros(1, 1, 2))
    assert torch.equal(node.w, torch.zeros(1, 2)) and torch.equal(node.v, torch.zeros(1, 2))


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(shape=0), ValueError, "shape must be a positive int"),
    (dict(shape=(3, -1)), ValueError, "shape must be a positive int"),
    (dict(alpha=0.5), ValueError, r"alpha must lie in \[0.818731, 0.960789\]"),
    (dict(beta=1.0), ValueError, "beta must lie in"),
    (dict(a=torch.tensor([0.0, 1.5])), ValueError, "a must lie in"),
    (dict(b="1"), TypeError, "b must be a number, a tensor or None"),
    (dict(shape=3, a=torch.zeros(2)), ValueError, r"a of shape \[2\] does not broadcast to the neurons' shape \[3\]"),
])
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        neuron.AdLIFNode(**kwargs)


def test_bad_inputs():
    node = neuron.AdLIFNode(shape=5, step_mode="m")
    with pytest.raises(ValueError, match=r"alpha of shape \[5\] \(the neurons' shape\) does not broadcast"):
        node(torch.rand(3, 2, 4))
    with pytest.raises(TypeError, match="floating-point input"):
        neuron.AdLIFNode(step_mode="m")(torch.ones(3, 2, 4, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"\[T, N, \.\.\.\]"):
        neuron.AdLIFNode(step_mode="m")(torch.rand(3))


def test_nir_refuses_it_by_name_with_the_reason():
    net = torch.nn.Sequential(layer.Linear(4, 8), neuron.AdLIFNode(shape=8))
    issues = [i for i in check(net, "nir", (4,)) if i.severity == "error"]
    assert len(issues) == 1
    assert "AdLIFNode has no nir equivalent (NIR has no adaptive LIF node: its neurons" in str(issues[0])
