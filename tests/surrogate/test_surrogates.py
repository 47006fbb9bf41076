"""Each surrogate: exact step forward, backward == primitive's derivative; registry; pickling."""

import math
import pickle

import pytest
import torch

from spikesmith import functional, neuron, surrogate

NAMES = surrogate.names()
X = torch.linspace(-2.0, 2.0, 401, dtype=torch.float64)


def test_registry_has_every_surrogate_the_issue_names():
    assert set(NAMES) >= {"sigmoid", "atan", "rectangle", "triangle", "piecewisequadratic", "exponential",
                          "fastsigmoid", "dspike"}


@pytest.mark.parametrize("name", NAMES)
def test_forward_is_exact_heaviside(name):
    sg = surrogate.get(name)
    x = torch.tensor([-1.0, -1e-7, 0.0, 1e-7, 1.0])
    assert sg(x).tolist() == [0.0, 0.0, 1.0, 1.0, 1.0]
    assert sg(x.half()).dtype == torch.float16


@pytest.mark.parametrize("name", NAMES)
def test_backward_equals_analytic_derivative(name):
    sg = surrogate.get(name)
    x = X.clone().requires_grad_(True)
    sg(x).sum().backward()
    assert torch.allclose(x.grad, sg.derivative(X), atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_derivative_matches_finite_differences_of_primitive(name):
    sg = surrogate.get(name)
    eps = 1e-6
    # avoid the kinks of the piecewise primitives
    x = X[(X.abs() - 0.5).abs() > 1e-3]
    x = x[((x.abs() - 1.0).abs() > 1e-3) & (x.abs() > 1e-3)]
    fd = (sg.primitive(x + eps) - sg.primitive(x - eps)) / (2 * eps)
    assert torch.allclose(fd, sg.derivative(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_primitive_is_a_smooth_step(name):
    sg = surrogate.get(name)
    p = sg.primitive(X)
    assert float(sg.primitive(torch.tensor(0.0, dtype=torch.float64))) == pytest.approx(0.5)
    assert (p[1:] >= p[:-1] - 1e-12).all()  # monotone
    smooth = surrogate.get(name, spiking=False) if name != "dspike" else surrogate.Dspike(spiking=False)
    assert torch.equal(smooth(X), p)


@pytest.mark.parametrize("name", NAMES)
def test_unit_area_or_documented_peak(name):
    sg = surrogate.get(name)
    xs = torch.linspace(-60, 60, 1_200_001, dtype=torch.float64)
    area = torch.trapezoid(sg.derivative(xs), xs).item()
    ends = sg.primitive(torch.tensor([-60.0, 60.0], dtype=torch.float64))
    assert area == pytest.approx(float(ends[1] - ends[0]), rel=1e-4)
    if name == "fastsigmoid":  # peers' SuperSpike: peak 1, area 2 / slope
        assert float(sg.derivative(torch.tensor(0.0))) == 1.0
        assert area == pytest.approx(2 / 25, rel=1e-2)
    else:
        assert area == pytest.approx(1.0, rel=5e-3)


def test_known_values_by_hand():
    zero = torch.tensor(0.0, dtype=torch.float64)
    assert float(surrogate.Sigmoid(alpha=4).derivative(zero)) == pytest.approx(1.0)  # 4 * 0.5 * 0.5
    assert float(surrogate.ATan(alpha=2).derivative(zero)) == pytest.approx(1.0)  # alpha / 2
    assert float(surrogate.Rectangle(width=0.5).derivative(torch.tensor(0.2))) == pytest.approx(2.0)
    assert float(surrogate.Rectangle(width=0.5).derivative(torch.tensor(0.3))) == 0.0
    assert float(surrogate.Triangle(width=1).derivative(torch.tensor(0.25))) == pytest.approx(1.0)  # 2 - 4 * .25
    assert float(surrogate.PiecewiseQuadratic(alpha=1).derivative(torch.tensor(0.5))) == pytest.approx(0.5)
    assert float(surrogate.Exponential(alpha=2).derivative(torch.tensor(1.0))) == pytest.approx(math.exp(-2))
    assert float(surrogate.FastSigmoid(slope=25).derivative(torch.tensor(0.04))) == pytest.approx(0.25)
    b = 3.0
    assert float(surrogate.Dspike(b=b).derivative(zero)) == pytest.approx(b / (2 * math.tanh(b / 2)))


def test_piecewise_quadratic_is_triangle_of_width_two_over_alpha():
    assert torch.allclose(surrogate.PiecewiseQuadratic(alpha=2).derivative(X), surrogate.Triangle(width=1).derivative(X))


def test_config_strings():
    sg = surrogate.get("sigmoid:alpha=8")
    assert isinstance(sg, surrogate.Sigmoid) and sg.alpha == 8.0
    sg = surrogate.get("Dspike:b=5,learnable=true")
    assert isinstance(sg.b, torch.nn.Parameter) and float(sg.b.detach()) == 5.0
    assert isinstance(surrogate.get(None), surrogate.Sigmoid)
    assert isinstance(surrogate.get(surrogate.ATan), surrogate.ATan)


@pytest.mark.parametrize("spec, err, match", [
    ("atann", ValueError, "unknown surrogate 'atann'; known surrogates: atan, dspike, exponential"),
    ("sigmoid:alpha", ValueError, "must look like key=value"),
    ("sigmoid:beta=2", ValueError, "bad options for surrogate 'sigmoid'"),
    ("sigmoid:alpha=x", ValueError, "not a number"),
    ("sigmoid:alpha=-1", ValueError, "alpha must be > 0"),
    (3, TypeError, "surrogate_function must be"),
])
def test_bad_specs(spec, err, match):
    with pytest.raises(err, match=match):
        surrogate.get(spec)


@pytest.mark.parametrize("name", NAMES)
def test_picklable(name):
    sg = surrogate.get(name)
    clone = pickle.loads(pickle.dumps(sg))
    assert type(clone) is type(sg) and clone.hyperparameters() == sg.hyperparameters()


def test_dspike_learnable_temperature_gets_gradient():
    sg = surrogate.Dspike(b=3.0, learnable=True)
    x = torch.linspace(-0.4, 0.4, 9, requires_grad=True)
    y = sg(x)
    assert y.tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 1]
    y.sum().backward()
    assert sg.b.grad is not None and sg.b.grad.abs() > 0
    assert torch.allclose(x.grad, sg.derivative(x.detach()), atol=1e-6)


def test_dspike_temperature_can_be_scheduled():
    sg = surrogate.Dspike(b=1.0)
    d1 = float(sg.derivative(torch.tensor(0.0)))
    sg.b = 10.0
    assert float(sg.derivative(torch.tensor(0.0))) > d1


def test_learnable_dspike_in_a_neuron_is_trained():
    node = neuron.LIFNode(surrogate_function=surrogate.Dspike(learnable=True), step_mode="m")
    assert any(n.endswith("surrogate_function.b") for n, _ in node.named_parameters())
    node(torch.rand(5, 3, 4) * 2).sum().backward()
    assert node.surrogate_function.b.grad is not None


@pytest.mark.parametrize("factory", [
    lambda sg: neuron.LIFNode(tau=2.0, surrogate_function=sg, detach_reset=False, step_mode="m"),
    lambda sg: neuron.LIFNode(tau=3.0, v_reset=None, surrogate_function=sg, step_mode="m"),
    lambda sg: neuron.ParametricLIFNode(surrogate_function=sg, step_mode="m"),
    lambda sg: neuron.AdaptiveLIFNode(tau_adapt=4.0, beta=0.5, surrogate_function=sg, step_mode="m"),
    lambda sg: neuron.IFNode(surrogate_function=sg, step_mode="m"),
])
def test_gradcheck_bptt_with_smooth_primitive(factory):
    """BPTT through charge, fire and reset is exact when the spike is the smooth primitive."""
    torch.manual_seed(0)
    node = factory(surrogate.Sigmoid(alpha=4, spiking=False)).double()
    x = (torch.rand(4, 2, 3, dtype=torch.float64) * 2).requires_grad_(True)

    def f(inp):
        functional.reset_net(node)
        return node(inp)

    assert torch.autograd.gradcheck(f, (x,))


def test_surrogate_gradient_of_a_single_step_is_the_derivative():
    """dS/dX of an IF neuron at one step equals g(X - V_th) for every surrogate."""
    for name in NAMES:
        node = neuron.IFNode(surrogate_function=name)
        x = torch.linspace(0.0, 2.0, 21, dtype=torch.float64).view(1, -1).requires_grad_(True)
        node.double()(x).sum().backward()
        assert torch.allclose(x.grad, node.surrogate_function.derivative(x.detach() - 1.0)), name
