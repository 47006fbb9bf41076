"""The parallel spiking neurons (PSN, MaskedPSN, SlidingPSN) against their closed forms, written as
explicit loops over time, a direct convolution, and SpikingJelly's where installed."""

import pytest
import torch
from torch.nn import functional as F

from spikesmith import functional, neuron, surrogate
from spikesmith.models import CSNN, FCSNN


def _x(shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=g, dtype=torch.float64) * 2.0 - 0.3


def _loop_charge(x, W):
    """H[t] = sum_j W[t, j] X[j], one term at a time."""
    T = x.shape[0]
    h = torch.zeros_like(x)
    for t in range(T):
        for j in range(T):
            h[t] = h[t] + W[t, j] * x[j]
    return h


def _set(node, weight, threshold):
    with torch.no_grad():
        node.weight.copy_(weight)
        node.threshold.copy_(threshold)
    return node


# ----------------------------------------------------------------------------- PSN
def test_psn_hand_computed_two_steps():
    W = torch.tensor([[1.0, 0.0], [0.5, 1.0]])
    psn = _set(neuron.PSN(T=2).double(), W, torch.tensor([0.5, 1.25]))
    x = torch.tensor([0.5, 0.75], dtype=torch.float64).view(2, 1, 1)       # [T=2, N=1, 1]
    # H0 = 0.5 >= 0.5 -> spike (Heaviside(0) = 1); H1 = 0.5 * 0.5 + 0.75 = 1.0 < 1.25 -> none
    assert psn(x).flatten().tolist() == [1.0, 0.0]
    _set(psn, W, torch.tensor([0.75, 1.0]))
    # H0 = 0.5 < 0.75 -> none; H1 = 1.0 >= 1.0 -> spike: no reset, H1 sees X0 whatever S0 was
    assert psn(x).flatten().tolist() == [0.0, 1.0]


def test_psn_equals_its_closed_form_loop():
    T = 6
    psn = neuron.PSN(T=T).double()
    with torch.no_grad():
        psn.threshold.copy_(torch.linspace(-0.2, 0.4, T))
    x = _x((T, 3, 4, 5), seed=1)
    W, B = psn.weight.detach(), psn.threshold.detach()
    expected = (_loop_charge(x, W) - B.view(T, 1, 1, 1) >= 0).double()
    s = psn(x)
    assert torch.equal(s, expected)
    assert 0 < s.sum() < s.numel()


def test_psn_surrogate_gradients_are_the_analytic_ones():
    T = 5
    sg = surrogate.Sigmoid(alpha=4.0)
    psn = neuron.PSN(T=T, surrogate_function=sg).double()
    x = _x((T, 4, 3), seed=2).requires_grad_(True)
    s = psn(x)
    g_out = torch.linspace(-1, 1, s.numel(), dtype=torch.float64).view_as(s)
    (s * g_out).sum().backward()
    W, B = psn.weight.detach(), psn.threshold.detach()
    z = _loop_charge(x.detach(), W) - B.view(T, 1, 1)
    d = sg.derivative(z) * g_out                                # dL/dH
    assert torch.allclose(x.grad, torch.einsum("tj,t...->j...", W, d), atol=1e-12)
    assert torch.allclose(psn.weight.grad, torch.einsum("t...,j...->tj", d, x.detach()), atol=1e-12)
    assert torch.allclose(psn.threshold.grad, -d.sum(dim=(1, 2)), atol=1e-12)


def test_psn_gradcheck_with_the_smooth_primitive():
    psn = neuron.PSN(T=4, surrogate_function=surrogate.Sigmoid(alpha=2.0, spiking=False)).double()
    x = _x((4, 2, 3), seed=3).requires_grad_(True)
    assert torch.autograd.gradcheck(psn, (x,))


def test_psn_takes_T_from_its_first_input_and_then_keeps_it():
    psn = neuron.PSN()
    assert psn.T is None
    out = psn(torch.rand(7, 2, 3))
    assert out.shape == (7, 2, 3) and psn.T == 7 and psn.weight.shape == (7, 7) and psn.threshold.shape == (7,)
    assert torch.all(psn.threshold == 1.0) and psn.weight.abs().max() <= 7 ** -0.5
    with pytest.raises(ValueError, match=r"PSN was built for T=7 .* got an input with T=4; build it with T=4"):
        psn(torch.rand(4, 2, 3))
    lazy = neuron.PSN()
    lazy.load_state_dict(psn.state_dict())                  # a checkpoint gives the lazy weight its shape
    x = torch.rand(7, 2, 3)
    assert torch.equal(lazy(x), psn(x))


def test_psn_with_a_time_expanded_input():
    psn = neuron.PSN(T=4).double()
    x = _x((1, 3, 5), seed=4)
    assert torch.equal(psn(x.expand(4, 3, 5)), psn(x.expand(4, 3, 5).contiguous()))


# ----------------------------------------------------------------------------- MaskedPSN
def test_masked_psn_mask_is_the_k_band():
    m = neuron.MaskedPSN(k=3, T=5, lambda_init=1.0)
    expected = torch.tensor([[1, 0, 0, 0, 0], [1, 1, 0, 0, 0], [1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1]],
                            dtype=torch.float32)
    assert torch.equal(m.mask(), expected)
    m.set_lambda(0.25)                                       # 0.25 M + 0.75 J
    assert torch.equal(m.mask(), 0.25 * expected + 0.75)
    assert torch.equal(m.time_weight(), m.weight * (0.25 * expected + 0.75))


def test_masked_psn_at_lambda_one_reads_only_the_last_k_inputs():
    T, k = 6, 2
    m = neuron.MaskedPSN(k=k, T=T, lambda_init=1.0, surrogate_function=surrogate.Sigmoid(spiking=False)).double()
    x = _x((T, 2, 3), seed=5).requires_grad_(True)
    y = m(x)
    for t in range(T):
        (grad,) = torch.autograd.grad(y[t].sum(), x, retain_graph=True)
        reads = [j for j in range(T) if grad[j].abs().sum() > 0]
        assert reads == list(range(max(0, t - k + 1), t + 1)), t


def test_masked_psn_equals_psn_on_the_masked_weight():
    T = 5
    m = neuron.MaskedPSN(k=2, T=T, lambda_init=0.5).double()
    with torch.no_grad():
        m.threshold.copy_(torch.linspace(-0.1, 0.3, T))
    x = _x((T, 3, 4), seed=6)
    W = m.weight.detach() * (0.5 * neuron.parallel.band_mask(T, 2, dtype=torch.float64) + 0.5)
    s = m(x)
    assert torch.equal(s, (_loop_charge(x, W) - m.threshold.detach().view(T, 1, 1) >= 0).double())
    assert 0 < s.sum() < s.numel()


def test_masked_psn_progressive_masking_schedule():
    m = neuron.MaskedPSN(k=2, T=3, lambda_init=0.2, lambda_steps=4)
    x = torch.rand(3, 2, 4)
    for expected in (0.4, 0.6, 0.8, 1.0, 1.0):               # (1 - 0.2) / 4 per training forward, up to 1
        m(x)
        assert float(m.lambda_) == pytest.approx(expected)
    m.set_lambda(0.0)
    with torch.no_grad():
        m(x)
    m.eval()
    m(x)
    assert float(m.lambda_) == 0.0                           # neither no_grad nor eval advances it
    fixed = neuron.MaskedPSN(k=2, T=3, lambda_init=0.3, lambda_steps=0)
    fixed(x)
    assert float(fixed.lambda_) == pytest.approx(0.3)
    assert "lambda_" in fixed.state_dict()


def test_masked_psn_single_step_equals_multi_step():
    T = 5
    m = neuron.MaskedPSN(k=3, T=T, lambda_init=1.0).double()
    x = _x((T, 2, 4), seed=7)
    multi = m(x)
    m.step_mode = "s"
    single = torch.stack([m(x[t]) for t in range(T)])
    assert torch.equal(single, multi)
    with pytest.raises(ValueError, match=r"built for T=5 steps and has run them; call .*reset_net"):
        m(x[0])
    functional.reset_net(m)
    assert torch.equal(m(x[0]), multi[0])


def test_masked_psn_single_step_errors():
    m = neuron.MaskedPSN(k=2, T=3, lambda_init=0.5, step_mode="s")
    with pytest.raises(ValueError, match=r"single-step mode needs lambda = 1 .* lambda is 0.5"):
        m(torch.rand(2, 3))
    with pytest.raises(ValueError, match=r"MaskedPSN with T=None cannot start in single-step mode; give T"):
        neuron.MaskedPSN(k=2, step_mode="s")(torch.rand(2, 3))


# ----------------------------------------------------------------------------- SlidingPSN
@pytest.mark.parametrize("T", [1, 3, 9])
def test_sliding_psn_equals_a_direct_convolution(T):
    k = 3
    sl = neuron.SlidingPSN(k=k, exp_init=False).double()
    x = _x((T, 2, 5), seed=T)
    seq = x.reshape(T, -1).t().unsqueeze(1)                  # [N*F, 1, T]
    h = F.conv1d(F.pad(seq, (k - 1, 0)), sl.weight.detach().view(1, 1, k))   # causal: X[t-k+1 .. t]
    expected = (h.squeeze(1).t().reshape(x.shape) - sl.threshold.detach() >= 0).double()
    assert torch.equal(sl(x), expected)


def test_sliding_psn_exponential_start_and_matrix():
    sl = neuron.SlidingPSN(k=3)
    assert sl.weight.tolist() == [0.25, 0.5, 1.0] and sl.threshold.item() == 1.0
    assert torch.equal(sl.time_weight(4), torch.tensor([[1.0, 0, 0, 0], [0.5, 1, 0, 0], [0.25, 0.5, 1, 0],
                                                         [0, 0.25, 0.5, 1]]))


def test_sliding_psn_single_step_equals_multi_step_and_learns():
    sl = neuron.SlidingPSN(k=2, exp_init=False).double()
    x = _x((7, 3, 2), seed=8).requires_grad_(True)
    multi = sl(x)
    multi.sum().backward()
    assert sl.weight.grad.abs().sum() > 0 and sl.threshold.grad != 0 and x.grad.abs().sum() > 0
    sl.step_mode = "s"
    assert torch.equal(torch.stack([sl(x[t].detach()) for t in range(7)]), multi.detach())
    with pytest.raises(ValueError, match=r"input shape \[2, 2\] differs from the previous step's \[3, 2\]"):
        sl(torch.rand(2, 2, dtype=torch.float64))
    functional.reset_net(sl)
    assert sl.queue == () and sl.t == 0


# ----------------------------------------------------------------------------- errors
def test_psn_refuses_single_step_mode():
    for psn in (neuron.PSN(T=3, step_mode="s"), neuron.PSN(step_mode="s")):
        with pytest.raises(ValueError, match=r"PSN cannot run in single-step mode: .* reads inputs of later steps"):
            psn(torch.rand(2, 3))


@pytest.mark.parametrize("build, message", [
    (lambda: neuron.PSN(T=0), r"PSN: T must be a positive int or None"),
    (lambda: neuron.PSN(T=2.5), r"PSN: T must be a positive int"),
    (lambda: neuron.MaskedPSN(k=0, T=3), r"MaskedPSN: k must be a positive int, got 0"),
    (lambda: neuron.MaskedPSN(k=2, lambda_init=1.5), r"lambda_init must lie in \[0, 1\]"),
    (lambda: neuron.MaskedPSN(k=2, lambda_steps=-1), r"lambda_steps must be an int >= 0"),
    (lambda: neuron.SlidingPSN(k=-2), r"SlidingPSN: k must be a positive int"),
    (lambda: neuron.PSN(backend="cpu"), r"PSN: backend 'cpu' does not apply: .* use backend='auto' or 'torch'"),
    (lambda: neuron.PSN(backend="cuda"), r"backend"),
    (lambda: neuron.SlidingPSN(v_threshold="1"), r"SlidingPSN: v_threshold must be a number"),
])
def test_bad_arguments(build, message):
    with pytest.raises((ValueError, TypeError), match=message):
        build()


def test_bad_inputs():
    with pytest.raises(TypeError, match="PSN expects a floating-point input, got dtype torch.int64"):
        neuron.PSN(T=2)(torch.ones(2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match=r"SlidingPSN in step_mode='m' expects input of shape \[T, N, ...\]"):
        neuron.SlidingPSN()(torch.rand(3))
    with pytest.raises(TypeError, match="MaskedPSN expects a torch.Tensor input"):
        neuron.MaskedPSN(T=2)([1.0, 2.0])


def test_masked_psn_lambda_by_hand_is_checked():
    with pytest.raises(ValueError, match=r"lambda must lie in \[0, 1\], got 2.0"):
        neuron.MaskedPSN(T=2).set_lambda(2.0)


# ----------------------------------------------------------------------------- in models
@pytest.mark.parametrize("name, cls", [("psn", neuron.PSN), ("masked_psn", neuron.MaskedPSN),
                                       ("sliding_psn", neuron.SlidingPSN)])
def test_registered_and_used_by_the_models(name, cls):
    assert neuron.NEURONS.get(name) is cls and neuron.time_constant_argument(name) is None
    fc = FCSNN(in_shape=(6,), num_classes=3, hidden=5, neuron=name)
    out = fc(torch.rand(4, 2, 6))
    assert out.shape == (4, 2, 3)
    out.sum().backward()
    node = next(m for m in fc.modules() if isinstance(m, cls))
    assert node.weight.grad is not None and node.weight.grad.abs().sum() > 0
    assert node.surrogate_function.__class__.__name__ == "ATan"      # the model's surrogate option reaches it
    cnn = CSNN(channels=2, neuron=name)
    assert cnn(torch.rand(3, 2, 1, 28, 28)).shape == (3, 2, 10)
    with pytest.raises(ValueError, match=f"option 'tau' does not apply to neuron '{name}'"):
        FCSNN(in_shape=(6,), hidden=5, neuron=name, tau=2.0)


# ----------------------------------------------------------------------------- SpikingJelly
def _sj():
    pytest.importorskip("spikingjelly.activation_based", reason="SpikingJelly not installed (scripts/install_peers.sh)")
    from spikingjelly.activation_based import neuron as sj_neuron
    from spikingjelly.activation_based import surrogate as sj_surrogate

    return sj_neuron, sj_surrogate


def _compare(theirs, ours, x):
    x1, x2 = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    s1, s2 = theirs(x1), ours(x2)
    weights = torch.linspace(-1, 1, s1.numel(), dtype=torch.float64).view_as(s1)
    (s1 * weights).sum().backward()
    (s2 * weights).sum().backward()
    assert torch.equal(s1, s2) and 0 < s1.sum() < s1.numel()
    assert torch.allclose(x1.grad, x2.grad, rtol=1e-9, atol=1e-12)
    assert torch.allclose(theirs.weight.grad, ours.weight.grad, rtol=1e-9, atol=1e-12)
    assert torch.allclose(theirs.bias.grad.flatten(), -ours.threshold.grad.flatten(), rtol=1e-9, atol=1e-12)


def _share(theirs, ours, thresholds):
    """The same weight in both, our threshold B and their bias -B."""
    with torch.no_grad():
        ours.weight.copy_(theirs.weight)
        ours.threshold.copy_(thresholds)
        theirs.bias.copy_(-thresholds.view(theirs.bias.shape))


def test_psn_same_as_spikingjelly():
    sj_neuron, sj_surrogate = _sj()
    T = 6
    theirs = sj_neuron.PSN(T=T, surrogate_function=sj_surrogate.ATan(alpha=2.0)).double()
    ours = neuron.PSN(T=T, surrogate_function=surrogate.ATan(alpha=2.0)).double()
    _share(theirs, ours, torch.linspace(-0.2, 0.4, T, dtype=torch.float64))
    _compare(theirs, ours, _x((T, 3, 5), seed=9))


@pytest.mark.parametrize("lam", [0.5, 1.0])
def test_masked_psn_same_as_spikingjelly(lam):
    sj_neuron, sj_surrogate = _sj()
    T, k = 5, 2
    theirs = sj_neuron.MaskedPSN(k=k, T=T, lambda_init=lam, surrogate_function=sj_surrogate.ATan(alpha=2.0),
                                 step_mode="m").double()
    ours = neuron.MaskedPSN(k=k, T=T, lambda_init=lam, lambda_steps=0,
                            surrogate_function=surrogate.ATan(alpha=2.0)).double()
    _share(theirs, ours, torch.linspace(-0.1, 0.3, T, dtype=torch.float64))
    _compare(theirs, ours, _x((T, 3, 4), seed=10))


def test_sliding_psn_same_as_spikingjelly():
    sj_neuron, sj_surrogate = _sj()
    theirs = sj_neuron.SlidingPSN(k=3, exp_init=False, surrogate_function=sj_surrogate.ATan(alpha=2.0),
                                  step_mode="m").double()
    ours = neuron.SlidingPSN(k=3, surrogate_function=surrogate.ATan(alpha=2.0)).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor([0.3, -0.2, 0.9]))
    _share(theirs, ours, torch.tensor(0.2, dtype=torch.float64))
    _compare(theirs, ours, _x((8, 3, 4), seed=11))
