"""backend='auto' picks the fused kernel where it applies and falls back to scan otherwise."""

import pytest
import torch

from spikesmith import functional, kernels, neuron, surrogate


def ran(node, x):
    node.step_mode = "m"
    node(x)
    return node._ran_backend


X = torch.rand(5, 2, 4) * 2


@pytest.mark.parametrize("make", [
    lambda: neuron.IFNode(), lambda: neuron.LIFNode(), lambda: neuron.ParametricLIFNode(),
    lambda: neuron.AdaptiveLIFNode(v_reset=None),
], ids=["if", "lif", "plif", "alif"])
def test_auto_is_default_and_picks_the_kernel(make):
    node = make()
    assert node.backend == "auto"
    assert ran(node, X) == "cpu"
    assert "backend='auto' (ran 'cpu')" in repr(node)


def test_fallbacks_to_scan():
    with_hook = neuron.LIFNode()
    with_hook.register_step_hook(lambda n, h, s: None)
    cases = {
        "hook": (with_hook, X),
        "izhikevich": (neuron.IzhikevichNode(), X * 40),
        "learnable_dspike": (neuron.LIFNode(surrogate_function=surrogate.Dspike(learnable=True)), X),
        "smooth_surrogate": (neuron.LIFNode(surrogate_function=surrogate.Sigmoid(spiking=False)), X),
        "store_v_seq": (neuron.LIFNode(store_v_seq=True), X),
        "float64": (neuron.LIFNode().double(), X.double()),
        "nonspiking": (neuron.NonSpikingLIFNode(), X),
    }
    for name, (node, x) in cases.items():
        assert ran(node, x) == "torch", name
        assert "(ran 'torch')" in repr(node) or "ran" not in repr(node), name


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_takes_scan_and_keeps_its_dtype(dtype):
    x = (torch.rand(6, 3, 4) * 2).to(dtype)
    node = neuron.LIFNode(step_mode="m")
    out = node(x)
    assert node._ran_backend == "torch" and out.dtype == dtype
    ref = neuron.LIFNode(step_mode="m")(x.float())
    # within one half-precision rounding of the charge: spikes agree except where H is that close to V_th
    assert (out.float() != ref).float().mean() < 0.05


def test_subclass_with_other_dynamics_takes_scan():
    class Doubled(neuron.LIFNode):
        def neuronal_charge(self, x, state):
            return super().neuronal_charge(2 * x, state)

    assert ran(Doubled(), X) == "torch"


def test_explicit_cpu_backend_refuses_what_it_cannot_run():
    node = neuron.LIFNode(backend="cpu", step_mode="m")
    node.register_step_hook(lambda n, h, s: None)
    with pytest.raises(ValueError, match="backend='cpu' cannot run this call: it has step hooks"):
        node(X)
    with pytest.raises(ValueError, match="unknown backend 'cuda'"):
        neuron.LIFNode(backend="cuda")


def test_torch_backend_and_set_backend():
    net = torch.nn.Sequential(neuron.LIFNode(), neuron.IFNode())
    functional.set_step_mode(net, "m")
    functional.set_backend(net, "torch")
    net(X)
    assert [m._ran_backend for m in net] == ["torch", "torch"]
    functional.reset_net(net)
    functional.set_backend(net, "auto")
    net(X)
    assert [m._ran_backend for m in net] == ["cpu", "cpu"]


def test_single_step_mode_never_calls_the_kernel(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("kernel called in single-step mode")

    monkeypatch.setattr(kernels, "run", boom)
    node = neuron.LIFNode(step_mode="s")
    for x in X.unbind(0):
        node(x)
    assert node._ran_backend is None


def test_kernel_rejects_unknown_surrogate():
    class Custom(surrogate.Sigmoid):
        pass

    assert Custom().kernel_form() is None
    with pytest.raises(ValueError, match="do not support the surrogate"):
        kernels.multi_step(X, torch.zeros(2, 4), charge="lif", v_threshold=1.0, v_reset=0.0, decay=0.5,
                           surrogate=Custom())


_FAULTS = """
import resource, sys, torch
from spikesmith.kernels import reuse_freed_memory
if sys.argv[1] == "reuse":
    assert reuse_freed_memory()
faults = []
for _ in range(5):                       # a 64 MiB tensor written, then freed, five times
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    x = torch.ones(64 << 18)
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    del x
print(min(faults[1:]))
"""


def test_reuse_freed_memory_avoids_page_faults():
    """Without it a fresh 64 MiB tensor faults in every page again; with it the freed block is reused."""
    import subprocess
    import sys

    faults = {}
    for mode in ("plain", "reuse"):
        out = subprocess.run([sys.executable, "-c", _FAULTS, mode], capture_output=True, text=True, check=True)
        faults[mode] = int(out.stdout.split()[-1])
    assert faults["plain"] > 8000      # every time 16384 pages of 4 KiB (fewer with huge pages)
    assert faults["reuse"] < 1000      # at least once the freed block came back


@pytest.mark.parametrize("x", [torch.rand(3, 4, dtype=torch.float64), torch.rand(3, 4).numpy()])
def test_kernel_refuses_what_it_cannot_read(x):
    """float64 or non-tensor input to the kernel itself: a clear error, not wrong spikes."""
    from spikesmith import surrogate
    from spikesmith.kernels import cpu

    with pytest.raises(TypeError, match="float32 CPU tensor"):
        cpu.multi_step(x, 0.0, charge="if", v_threshold=1.0, v_reset=0.0, surrogate=surrogate.Sigmoid())


def test_a_surrogate_declares_its_own_kernel_form():
    """A new surrogate class with its own ``kernel_code`` runs fused, on both backends' code, with no
    change in ``kernels``: here g(z) = p0 / (1 + p1 |z|)^2, the fast sigmoid scaled by its slope."""
    class ScaledFastSigmoid(surrogate.FastSigmoid):
        kernel_code = surrogate.KernelCode(
            "scaled_fastsigmoid_test", cpp="float u = 1.0f + p1 * std::fabs(z); g = p0 / (u * u);",
            triton="u = 1.0 + p1 * tl.abs(z)\ng = p0 / (u * u)")

        def kernel_params(self):
            return (self.slope, self.slope)

        def derivative(self, x):
            return self.slope / (1.0 + self.slope * x.abs()) ** 2

    x = torch.rand(6, 3, 5) * 2
    grads, spikes = [], []
    for backend in ("torch", "cpu"):
        node = neuron.LIFNode(surrogate_function=ScaledFastSigmoid(slope=3.0), step_mode="m", backend=backend)
        xin = x.clone().requires_grad_(True)
        spikes.append(node(xin))
        spikes[-1].sum().backward()
        grads.append(xin.grad)
        assert node._ran_backend == backend
    assert torch.equal(spikes[0], spikes[1])
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-5, atol=1e-6)


def test_kernel_form_takes_at_most_three_numbers():
    class TooMany(surrogate.Sigmoid):
        kernel_code = surrogate.Sigmoid.kernel_code

        def kernel_params(self):
            return (1.0, 2.0, 3.0, 4.0)

    with pytest.raises(ValueError, match="at most 3"):
        TooMany().kernel_form()


def test_backward_refuses_a_surrogate_number_it_was_not_built_with():
    """Each surrogate's code is its own loop of the backward; a number past them computes nothing."""
    import ctypes

    from spikesmith.kernels import _abi, _build
    from spikesmith.kernels.contract import CHARGES

    lib = _build.library(CHARGES.get("lif"))
    T, N = 3, 5
    x, gs = torch.rand(T, N), torch.rand(T, N)
    gx = torch.full((T, N), 7.0)
    gv, ck = torch.zeros(N), torch.zeros(1, N)
    params = [torch.tensor([1.0]), torch.tensor([0.0]), torch.tensor([0.5])]
    a = _abi.Args()
    a.T, a.N, a.K, a.nthreads, a.options = T, N, T, 1, 1
    a.x, a.gs, a.gx = x.data_ptr(), gs.data_ptr(), gx.data_ptr()
    a.gstate[0], a.ck[0] = gv.data_ptr(), ck.data_ptr()
    for k, p in enumerate(params):
        a.param[k], a.pstride[k] = p.data_ptr(), 0
    a.zero_gstate, a.p0 = 1, 4.0
    for number, rc in ((len(lib.codes), -1), (-1, -1), (lib.surrogate_number(surrogate.Sigmoid.kernel_code), 0)):
        a.surrogate = number
        assert lib.cdll.sf_backward(ctypes.byref(a)) == rc
        assert torch.equal(gx, torch.full((T, N), 7.0)) == (rc != 0)
