"""Every fused kernel path equals the scan oracle: spikes, final state, input and parameter gradients."""

import pytest
import torch

from spikesmith import neuron

from _kernel_cases import NEURONS, SURROGATES, assert_same, away_from_threshold, make_input, run


def compare(factory, x, steps=None, seed=0):
    x = away_from_threshold(factory, x)
    weights = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed + 7))
    ref_node, node = factory(), factory()
    ref = run(ref_node, x, "torch", weights, steps)
    got = run(node, x, "cpu", weights, steps)
    assert ref_node._ran_backend == "torch" and node._ran_backend == "cpu"
    assert ref[0].sum() > 0, "the case must fire"
    assert_same(ref, got)


@pytest.mark.parametrize("detach_reset", [False, True], ids=["grad_reset", "detach_reset"])
@pytest.mark.parametrize("sg", sorted(SURROGATES))
@pytest.mark.parametrize("name", sorted(NEURONS))
def test_neuron_surrogate_reset_grid(name, sg, detach_reset):
    def factory():
        return NEURONS[name](surrogate_function=SURROGATES[sg](), detach_reset=detach_reset)

    compare(factory, make_input((7, 3, 10), seed=len(name) * 31 + len(sg)))


SHAPES = {
    "T1": (1, 4, 6),
    "T2_4d": (2, 2, 3, 5),
    "long": (40, 3, 7),
    "many_tiles": (5, 2, 700),  # 1400 neurons: several tiles of 512 and a partial one
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("name", ["if_soft", "lif_hard", "plif_hard", "alif_soft"])
def test_shapes(name, shape):
    compare(lambda: NEURONS[name](), make_input(SHAPES[shape], seed=3, scale=4.0))


@pytest.mark.parametrize("name", ["lif_hard", "plif_soft_ndi", "alif_hard"])
def test_non_contiguous_input(name):
    x = make_input((6, 5, 4), seed=4).transpose(1, 2)  # [6, 4, 5], not contiguous
    assert not x.is_contiguous()
    compare(lambda: NEURONS[name](), x)
    xt = make_input((5, 6, 4), seed=5).transpose(0, 1)  # time not the outer stride
    compare(lambda: NEURONS[name](), xt)


@pytest.mark.parametrize("per_channel_threshold", [False, True])
@pytest.mark.parametrize("name", ["lif_hard", "plif_soft_ndi", "alif_hard"])
def test_channels_last_input_keeps_its_layout(name, per_channel_threshold):
    """A channels_last sequence runs on its memory as it is: same results as the scan, and the
    spikes, final state and input gradient come back in channels_last."""
    T, N, C, H, W = 3, 2, 5, 4, 3
    x = make_input((T * N, C, H, W), seed=9).contiguous(memory_format=torch.channels_last).unflatten(0, (T, N))
    from spikesmith.kernels import layout
    assert layout.dense_steps(x) and not x.is_contiguous()
    extra = {"v_threshold": torch.linspace(0.8, 1.2, C).view(C, 1, 1)} if per_channel_threshold else {}
    compare(lambda: NEURONS[name](**extra), x)
    node = NEURONS[name](**extra)
    node.step_mode, node.backend = "m", "cpu"
    xg = x.clone(memory_format=torch.preserve_format).requires_grad_(True)
    s = node(xg)
    s.sum().backward()
    assert s.flatten(0, 1).is_contiguous(memory_format=torch.channels_last)
    assert node.v.is_contiguous(memory_format=torch.channels_last)
    assert xg.grad.flatten(0, 1).is_contiguous(memory_format=torch.channels_last)


def test_dense_steps():
    from spikesmith.kernels import layout
    x = torch.zeros(4, 2, 3, 5)
    assert layout.dense_steps(x)
    assert layout.dense_steps(x.permute(0, 2, 1, 3))  # a permutation within a step: still one block
    assert not layout.dense_steps(x.transpose(0, 1))  # time not outermost
    assert not layout.dense_steps(x[:, :, :, :4])  # gaps in every row
    assert not layout.dense_steps(torch.zeros(2, 1, 3).expand(2, 4, 3))  # repeated memory


@pytest.mark.parametrize("name", ["if_hard", "lif_soft", "plif_hard", "alif_soft"])
def test_state_carried_across_calls(name):
    """Two calls without reset: the second starts from the first's graph-attached state."""
    compare(lambda: NEURONS[name](), make_input((9, 3, 8), seed=6), steps=4)


def per_channel(cls, **extra):
    C = 3
    vth = torch.tensor([0.8, 1.0, 1.3]).view(C, 1)
    common = dict(v_threshold=vth, **extra)
    if cls is neuron.IFNode:
        return neuron.IFNode(v_reset=torch.tensor([0.0, -0.1, 0.1]).view(C, 1),
                             v_init=torch.tensor([0.2, 0.0, -0.3]).view(C, 1), **common)
    if cls is neuron.LIFNode:
        return neuron.LIFNode(tau=torch.tensor([1.5, 2.0, 4.0]).view(C, 1),
                              v_reset=torch.tensor([0.0, -0.1, 0.1]).view(C, 1),
                              v_init=torch.tensor([0.2, 0.0, -0.3]).view(C, 1), **common)
    if cls is neuron.ParametricLIFNode:
        return neuron.ParametricLIFNode(init_tau=torch.tensor([1.5, 2.0, 4.0]).view(C, 1), v_reset=None,
                                        v_init=torch.tensor([0.2, 0.0, -0.3]).view(C, 1), **common)
    return neuron.AdaptiveLIFNode(tau=torch.tensor([1.5, 2.0, 4.0]).view(C, 1),
                                  tau_adapt=torch.tensor([3.0, 5.0, 9.0]).view(C, 1),
                                  beta=torch.tensor([0.1, 0.3, 0.0]).view(C, 1), **common)


@pytest.mark.parametrize("detach_reset", [False, True])
@pytest.mark.parametrize("cls", [neuron.IFNode, neuron.LIFNode, neuron.ParametricLIFNode, neuron.AdaptiveLIFNode],
                         ids=lambda c: c.__name__)
def test_per_channel_tensor_parameters(cls, detach_reset):
    factory = lambda: per_channel(cls, detach_reset=detach_reset)  # noqa: E731
    compare(factory, make_input((8, 2, 3, 5), seed=8))


def test_plif_per_channel_w_gradient_has_w_shape():
    node = per_channel(neuron.ParametricLIFNode)
    node.step_mode = "m"
    node(make_input((6, 2, 3, 5), seed=9).requires_grad_(True)).sum().backward()
    assert node._ran_backend == "cpu"
    assert node.w.grad.shape == node.w.shape == (3, 1)
    assert node.w.grad.abs().sum() > 0


def test_only_w_needs_grad():
    """The input needs no gradient; PLIF's w still gets the scan's gradient."""
    x = away_from_threshold(lambda: NEURONS["plif_hard"](), make_input((10, 4, 6), seed=10))
    grads = []
    for backend in ("torch", "cpu"):
        node = NEURONS["plif_hard"](step_mode="m", backend=backend)
        node(x).sum().backward()
        grads.append(node.w.grad)
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-5, atol=1e-6)


def test_no_grad_forward_equals():
    x = make_input((12, 3, 9), seed=11)
    outs = []
    for backend in ("torch", "cpu"):
        node = NEURONS["alif_hard"](step_mode="m", backend=backend)
        with torch.no_grad():
            outs.append((node(x), node.v, node.a))
    for a, b in zip(*outs):
        assert torch.equal(a, b)


@pytest.mark.parametrize("name", ["if_soft", "lif_hard", "alif_soft"])
def test_streaming_stores_equal_cached_stores(name):
    """Outputs of 8 MiB or more are written with non-temporal stores (misaligned rows included):
    the same neurons run in small pieces, below that size, give bit-identical results."""
    from spikesmith.kernels import cpu

    T, N = 4, 2_100_003  # 33.6 MB per output; an odd step size misaligns every row after the first
    x = make_input((T, N), seed=11)
    g = torch.randn(T, N, generator=torch.Generator().manual_seed(12))
    node = NEURONS[name]()
    alif = isinstance(node, neuron.AdaptiveLIFNode)
    kwargs = dict(charge="if" if isinstance(node, neuron.IFNode) else "alif" if alif else "lif", v_threshold=1.0,
                  v_reset=node.v_reset, surrogate=node.surrogate_function)
    if kwargs["charge"] != "if":
        kwargs["decay"] = 1.0 / float(node.tau)
    if alif:
        kwargs.update(rho=0.8, beta=0.3)

    def run_piece(xp, gp):
        xp = xp.clone().requires_grad_(True)
        a0 = dict(a0=torch.zeros(xp.shape[1:])) if alif else {}
        s, v, _ = cpu.multi_step(xp, torch.zeros(xp.shape[1:]), **a0, **kwargs)
        ((s * gp).sum() + (v * 0.3).sum()).backward()
        return s.detach(), v.detach(), xp.grad

    full = run_piece(x, g)
    step = 400_000  # 6.4 MB per output piece: cached stores
    pieces = [run_piece(x[:, lo:lo + step], g[:, lo:lo + step]) for lo in range(0, N, step)]
    assert full[0].sum() > 0
    for i, what in enumerate(["spikes", "final V", "input gradient"]):
        assert torch.equal(full[i], torch.cat([p[i] for p in pieces], dim=-1)), what


@pytest.mark.parametrize("name", sorted(NEURONS))
def test_loss_on_spikes_only(name):
    """No gradient reaches the final state (the kernel starts its state gradient from zero in cache)
    and the state starts fresh from numbers (filled by the kernel): the scan's gradients still."""
    x = away_from_threshold(lambda: NEURONS[name](), make_input((6, 3, 9), seed=21))
    w = torch.randn(x.shape, generator=torch.Generator().manual_seed(22))
    grads = {}
    for backend in ("torch", "cpu"):
        node = NEURONS[name]()
        node.step_mode, node.backend = "m", backend
        xin = x.clone().requires_grad_(True)
        s = node(xin)
        (s * w).sum().backward()
        assert node._ran_backend == backend
        grads[backend] = (s.detach(), xin.grad, {k: p.grad for k, p in node.named_parameters()})
    ref, got = grads["torch"], grads["cpu"]
    assert torch.equal(ref[0], got[0])
    torch.testing.assert_close(got[1], ref[1], rtol=1e-5, atol=1e-6)
    for k in ref[2]:
        torch.testing.assert_close(got[2][k], ref[2][k], rtol=1e-5, atol=1e-6)
