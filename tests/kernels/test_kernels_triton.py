"""The Triton kernels (``kernels.gpu``, backend 'triton') equal the scan oracle.

Where no GPU exists they run in Triton's interpreter on CPU tensors: the fixture below sets
``TRITON_INTERPRET=1`` for this module's tests only (``kernels.gpu`` reads it at each call, not at
import). The interpreter is slow, so the grid is that of test_kernels_equivalence thinned out: every
neuron family with both resets and both ``detach_reset`` settings, every surrogate at least twice,
on shapes of at most 7 steps and 70 neurons. The CUDA test at the end runs the compiled kernels.
"""

import os
import subprocess
import sys

import pytest
import torch

pytest.importorskip("triton")

from spikesmith import kernels, neuron  # noqa: E402
from spikesmith.kernels import gpu  # noqa: E402

from _kernel_cases import NEURONS, SURROGATES, assert_same, away_from_threshold, make_input, run  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def triton_interpreter():
    old = os.environ.get("TRITON_INTERPRET")
    os.environ["TRITON_INTERPRET"] = "1"
    yield
    if old is None:
        del os.environ["TRITON_INTERPRET"]
    else:
        os.environ["TRITON_INTERPRET"] = old


def compare(factory, x, steps=None, seed=0, device="cpu"):
    x = away_from_threshold(factory, x).to(device)
    weights = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed + 7)).to(device)
    ref_node, node = factory().to(device), factory().to(device)
    ref = run(ref_node, x, "torch", weights, steps)
    got = run(node, x, "triton", weights, steps)
    assert ref_node._ran_backend == "torch" and node._ran_backend == "triton"
    assert ref[0].sum() > 0, "the case must fire"
    assert_same(ref, got)


# Every neuron x both detach settings, with the surrogates in rotation (each one twice or more).
_SG = sorted(SURROGATES)
GRID = [(name, _SG[(2 * i + d) % len(_SG)], bool(d)) for i, name in enumerate(sorted(NEURONS)) for d in (0, 1)]


@pytest.mark.parametrize("name,sg,detach_reset", GRID, ids=[f"{n}-{s}-{'detach' if d else 'grad'}" for n, s, d in GRID])
def test_neuron_surrogate_reset_grid(name, sg, detach_reset):
    def factory():
        return NEURONS[name](surrogate_function=SURROGATES[sg](), detach_reset=detach_reset)

    compare(factory, make_input((7, 3, 10), seed=len(name) * 31 + len(sg)))


@pytest.mark.parametrize("sg", _SG)
@pytest.mark.parametrize("name", ["plif_soft_ndi", "alif_hard"])
def test_every_surrogate_through_plif_and_alif(name, sg):
    """The surrogate feeds PLIF's decay gradient and ALIF's threshold gradient too."""
    compare(lambda: NEURONS[name](surrogate_function=SURROGATES[sg]()), make_input((5, 2, 8), seed=len(sg)))


SHAPES = {
    "T1": (1, 4, 6),
    "T2_4d": (2, 2, 3, 5),
    "many_blocks": (4, 2, 35),  # 70 neurons in blocks of 32: two full blocks and a partial one
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("name", ["if_soft", "lif_hard", "plif_hard", "alif_soft"])
def test_shapes(name, shape, monkeypatch):
    monkeypatch.setattr(gpu, "MAX_BLOCK", 32)
    compare(lambda: NEURONS[name](), make_input(SHAPES[shape], seed=3, scale=4.0))


@pytest.mark.parametrize("name", ["if_hard", "lif_soft_ndi", "plif_hard", "alif_hard"])
def test_several_time_chunks(name):
    """T = 19 with the default chunk of 16 steps: the backward recomputes two chunks, one partial."""
    compare(lambda: NEURONS[name](), make_input((19, 2, 6), seed=13))


@pytest.mark.parametrize("time_chunk", [1, 3, 7, 100])
@pytest.mark.parametrize("name", ["lif_hard_vr_ndi", "plif_hard", "alif_soft"])
def test_equals_the_cpu_kernel_for_any_time_chunk(name, time_chunk):
    """``kernels.run`` on 'triton' against 'cpu': bit-identical forward, gradients within tolerance."""
    node = NEURONS[name](surrogate_function=SURROGATES["sigmoid"]())
    x = away_from_threshold(lambda: NEURONS[name](), make_input((7, 2, 9), seed=14))
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(15))
    outs = []
    for backend in ("cpu", "triton"):
        xin = x.clone().requires_grad_(True)
        leaves = [xin] + list(node.parameters())
        state0 = [torch.full((2, 9), 0.1) for _ in node.memory_names()]
        s, state = kernels.run(backend, node.kernel_spec(), xin, state0, time_chunk=time_chunk)
        loss = (s * g).sum() + sum((st * (0.3 + k)).sum() for k, st in enumerate(state))
        outs.append((s, state, torch.autograd.grad(loss, leaves)))
    (s1, st1, g1), (s2, st2, g2) = outs
    assert s1.sum() > 0
    assert torch.equal(s1, s2)
    for a, b in zip(st1, st2):          # two compilers: a multiply-add may be fused in one and not the other
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6)
    for r, t in zip(g1, g2):
        torch.testing.assert_close(t, r, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["lif_hard", "plif_soft_ndi", "alif_hard"])
def test_non_contiguous_input(name):
    x = make_input((6, 5, 4), seed=4).transpose(1, 2)  # [6, 4, 5], not contiguous
    assert not x.is_contiguous()
    compare(lambda: NEURONS[name](), x)
    xt = make_input((5, 6, 4), seed=5).transpose(0, 1)  # time not the outer stride
    compare(lambda: NEURONS[name](), xt)


@pytest.mark.parametrize("name", ["plif_soft_ndi", "alif_hard"])
def test_channels_last_input_keeps_its_layout(name):
    T, N, C, H, W = 3, 2, 5, 4, 3
    x = make_input((T * N, C, H, W), seed=9).contiguous(memory_format=torch.channels_last).unflatten(0, (T, N))
    vth = torch.linspace(0.8, 1.2, C).view(C, 1, 1)
    compare(lambda: NEURONS[name](v_threshold=vth), x)
    node = NEURONS[name](v_threshold=vth, step_mode="m", backend="triton")
    xg = x.clone(memory_format=torch.preserve_format).requires_grad_(True)
    s = node(xg)
    s.sum().backward()
    assert s.flatten(0, 1).is_contiguous(memory_format=torch.channels_last)
    assert xg.grad.flatten(0, 1).is_contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize("name", ["if_hard", "lif_soft", "plif_hard", "alif_soft"])
def test_state_carried_across_calls(name):
    """Two calls without reset: the second starts from the first's graph-attached state."""
    compare(lambda: NEURONS[name](), make_input((7, 3, 8), seed=6), steps=4)


def per_channel(cls, **extra):
    C = 3
    vth = torch.tensor([0.8, 1.0, 1.3]).view(C, 1)
    common = dict(v_threshold=vth, **extra)
    v_init = torch.tensor([0.2, 0.0, -0.3]).view(C, 1)
    tau = torch.tensor([1.5, 2.0, 4.0]).view(C, 1)
    if cls is neuron.IFNode:
        return neuron.IFNode(v_reset=torch.tensor([0.0, -0.1, 0.1]).view(C, 1), v_init=v_init, **common)
    if cls is neuron.LIFNode:
        return neuron.LIFNode(tau=tau, v_reset=torch.tensor([0.0, -0.1, 0.1]).view(C, 1), v_init=v_init, **common)
    if cls is neuron.ParametricLIFNode:
        return neuron.ParametricLIFNode(init_tau=tau, v_reset=None, v_init=v_init, **common)
    return neuron.AdaptiveLIFNode(tau=tau, tau_adapt=torch.tensor([3.0, 5.0, 9.0]).view(C, 1),
                                  beta=torch.tensor([0.1, 0.3, 0.0]).view(C, 1), **common)


@pytest.mark.parametrize("detach_reset", [False, True])
@pytest.mark.parametrize("cls", [neuron.IFNode, neuron.LIFNode, neuron.ParametricLIFNode, neuron.AdaptiveLIFNode],
                         ids=lambda c: c.__name__)
def test_per_channel_tensor_parameters(cls, detach_reset):
    compare(lambda: per_channel(cls, detach_reset=detach_reset), make_input((6, 2, 3, 5), seed=8))


def test_plif_per_channel_w_gradient_has_w_shape():
    node = per_channel(neuron.ParametricLIFNode, step_mode="m", backend="triton")
    node(make_input((5, 2, 3, 5), seed=9).requires_grad_(True)).sum().backward()
    assert node._ran_backend == "triton"
    assert node.w.grad.shape == node.w.shape == (3, 1)
    assert node.w.grad.abs().sum() > 0


def test_only_w_needs_grad():
    x = away_from_threshold(lambda: NEURONS["plif_hard"](), make_input((6, 4, 6), seed=10))
    grads = []
    for backend in ("torch", "triton"):
        node = NEURONS["plif_hard"](step_mode="m", backend=backend)
        node(x).sum().backward()
        grads.append(node.w.grad)
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["if_soft", "plif_hard", "alif_soft"])
def test_loss_on_spikes_only(name):
    """No gradient reaches the final state: the scan's input and parameter gradients still."""
    x = away_from_threshold(lambda: NEURONS[name](), make_input((6, 3, 9), seed=21))
    w = torch.randn(x.shape, generator=torch.Generator().manual_seed(22))
    grads = {}
    for backend in ("torch", "triton"):
        node = NEURONS[name](step_mode="m", backend=backend)
        xin = x.clone().requires_grad_(True)
        s = node(xin)
        (s * w).sum().backward()
        assert node._ran_backend == backend
        grads[backend] = (s.detach(), xin.grad, {k: p.grad for k, p in node.named_parameters()})
    ref, got = grads["torch"], grads["triton"]
    assert torch.equal(ref[0], got[0])
    torch.testing.assert_close(got[1], ref[1], rtol=1e-5, atol=1e-6)
    for k in ref[2]:
        torch.testing.assert_close(got[2][k], ref[2][k], rtol=1e-5, atol=1e-6)


def test_initial_state_as_numbers():
    """``v0`` / ``a0`` given as numbers (as ``cpu.multi_step`` takes them): every neuron starts there."""
    x = make_input((5, 2, 7), seed=23)
    kw = dict(charge="alif", v_threshold=1.0, v_reset=None, decay=0.5, rho=0.8, beta=0.3,
              surrogate=NEURONS["lif_hard"]().surrogate_function)
    by_number = gpu.multi_step_gpu(x, 0.2, a0=0.1, **kw)
    by_tensor = gpu.multi_step_gpu(x, torch.full((2, 7), 0.2), a0=torch.full((2, 7), 0.1), **kw)
    for a, b in zip(by_number, by_tensor):
        assert torch.equal(a, b)


def test_no_grad_forward_equals():
    x = make_input((7, 3, 9), seed=11)
    outs = []
    for backend in ("torch", "triton"):
        node = NEURONS["alif_hard"](step_mode="m", backend=backend)
        with torch.no_grad():
            outs.append((node(x), node.v, node.a))
    for a, b in zip(*outs):
        assert torch.equal(a, b)


# --------------------------------------------------------------------------- dispatch
X = torch.rand(5, 2, 4) * 2


def test_triton_backend_is_reported():
    node = neuron.LIFNode(step_mode="m", backend="triton")
    node(X)
    assert node._ran_backend == "triton"
    assert "backend='triton'" in repr(node)


def test_auto_keeps_the_cpu_kernel_for_cpu_inputs():
    node = neuron.LIFNode(step_mode="m")
    node(X)
    assert node._ran_backend == "cpu"


def test_triton_on_cpu_needs_the_interpreter(monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET")
    assert not gpu.interpreting()
    node = neuron.LIFNode(step_mode="m", backend="triton")
    with pytest.raises(ValueError, match="backend='triton' cannot run this call: .*TRITON_INTERPRET=1"):
        node(X)
    with pytest.raises(ValueError, match="TRITON_INTERPRET=1"):
        gpu.multi_step_gpu(X, torch.zeros(2, 4), charge="if", v_threshold=1.0, v_reset=0.0,
                           surrogate=NEURONS["if_hard"]().surrogate_function)


def test_triton_refuses_what_it_cannot_run():
    node = neuron.LIFNode(step_mode="m", backend="triton")
    with pytest.raises(ValueError, match="backend='triton' cannot run this call: the input is torch.float64"):
        node(X.double())
    hooked = neuron.LIFNode(step_mode="m", backend="triton")
    hooked.register_step_hook(lambda n, h, s: None)
    with pytest.raises(ValueError, match="it has step hooks"):
        hooked(X)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_takes_scan_with_auto(dtype):
    node = neuron.LIFNode(step_mode="m")
    out = node((X * 1.3).to(dtype))
    assert node._ran_backend == "torch" and out.dtype == dtype


def test_module_imports_and_falls_back_without_triton():
    code = (
        "import sys; sys.modules['triton'] = None\n"
        "import torch\n"
        "from spikesmith import neuron\n"
        "from spikesmith.kernels import gpu\n"
        "assert not gpu.available() and not gpu.interpreting()\n"
        "assert 'triton could not be imported' in gpu.unavailable_reason()\n"
        "node = neuron.LIFNode(step_mode='m', backend='triton')\n"
        "try:\n"
        "    node(torch.rand(3, 4))\n"
        "except ValueError as e:\n"
        "    assert 'triton could not be imported' in str(e), e\n"
        "else:\n"
        "    raise AssertionError('no error')\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


# --------------------------------------------------------------------------- the real GPU
def compiled_against_interpreted(factory, x, monkeypatch, device="cuda"):
    """The compiled kernels on ``device`` against the interpreted ones on the CPU (which the tests
    above hold to the scan): the same arithmetic but for the GPU's approximate exp and division.

    On long sequences the float32 scan itself strays from the float64 gradient by more than
    atol 1e-6 (IF, T = 18, 8400 neurons: 2.9e-6; the kernels 1.2e-6), so the scan is not the reference here.
    """
    weights = torch.randn(x.shape, generator=torch.Generator().manual_seed(7))
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    node = factory().to(device)
    got = run(node, x.to(device), "triton", weights.to(device))
    assert node._ran_backend == "triton"
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    ref = run(factory(), x, "triton", weights)
    monkeypatch.delenv("TRITON_INTERPRET")
    assert ref[0].sum() > 0, "the case must fire"
    assert torch.equal(got[0].cpu(), ref[0]), "spikes differ"
    for a, b in zip(got[1], ref[1]):
        assert torch.equal(a.cpu(), b), "final state differs"
    torch.testing.assert_close(got[2].cpu(), ref[2], rtol=1e-5, atol=1e-5)
    assert sorted(got[3]) == sorted(ref[3])
    for k in ref[3]:
        torch.testing.assert_close(got[3][k].cpu(), ref[3][k], rtol=1e-5, atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", sorted(NEURONS))
def test_cuda_compiled_kernels(name, monkeypatch):
    """On a GPU, compiled (not interpreted): 'auto' picks 'triton' for CUDA float32 inputs; small
    cases equal the scan's on the same device, and large ones (many blocks, three time chunks)
    the interpreted kernels'."""
    monkeypatch.delenv("TRITON_INTERPRET")
    for i, sg in enumerate(["sigmoid", "dspike"]):
        def factory():
            return NEURONS[name](surrogate_function=SURROGATES[sg](), detach_reset=bool(i))

        compare(factory, make_input((5, 2, 3, 11), seed=16 + i), device="cuda")
        compiled_against_interpreted(factory, make_input((37, 2, 3, 700), seed=16 + i), monkeypatch)
    node = NEURONS[name](step_mode="m").cuda()
    node(make_input((3, 2, 5), seed=17).cuda())
    assert node._ran_backend == "triton"
