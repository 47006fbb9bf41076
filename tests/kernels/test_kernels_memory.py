"""What the fused path keeps for the backward, per neuron-step, and the time-chunk option."""

import pytest
import torch

from spikesmith import kernels, layer, neuron, surrogate

from _kernel_cases import make_input


def saved_bytes(fn):
    """Bytes of the distinct storages autograd saves while ``fn()`` runs."""
    storages = {}

    def pack(t):
        st = t.untyped_storage()
        storages[st.data_ptr()] = st.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    return sum(storages.values()), out


@pytest.mark.parametrize("make, limit", [
    (lambda: neuron.IFNode(), 4.25), (lambda: neuron.LIFNode(), 4.25),
    (lambda: neuron.ParametricLIFNode(), 4.25), (lambda: neuron.AdaptiveLIFNode(), 4.5),
])
def test_saved_bytes_per_neuron_step(make, limit):
    T, shape = 32, (4, 64)
    x = make_input((T, *shape), seed=1).requires_grad_(True)
    node = make()
    node.step_mode = "m"
    nbytes, out = saved_bytes(lambda: node(x))
    assert node._ran_backend == "cpu"
    per_step = nbytes / (T * 4 * 64)
    assert per_step <= limit + 0.01 and per_step <= 5
    out.sum().backward()  # the saved tensors suffice
    # the scan keeps far more
    ref = make()
    ref.step_mode, ref.backend = "m", "torch"
    ref_bytes, _ = saved_bytes(lambda: ref(x))
    assert ref_bytes > 2 * nbytes


@pytest.mark.parametrize("alif", [False, True])
def test_time_chunk_changes_nothing(alif):
    """The kept-state interval only trades memory for recomputation: results are bit for bit equal."""
    x = make_input((23, 3, 50), seed=2)
    w = torch.randn(x.shape, generator=torch.Generator().manual_seed(3))
    results = []
    for chunk in (1, 3, 16, 23, 100):
        xin = x.clone().requires_grad_(True)
        dec = torch.tensor(0.4, requires_grad=True)
        kw = dict(charge="alif" if alif else "lif", v_threshold=1.0, v_reset=None if alif else 0.0, decay=dec,
                  surrogate=surrogate.ATan(), time_chunk=chunk)
        if alif:
            kw.update(a0=torch.zeros(3, 50), rho=0.8, beta=0.2)
        s, v, a = kernels.multi_step(xin, torch.zeros(3, 50), **kw)
        ((s * w).sum() + v.sum()).backward()
        results.append((s, v, xin.grad, dec.grad))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert torch.equal(a, b)


def test_time_checkpoint_equals_plain_run_and_keeps_little():
    torch.manual_seed(0)

    def make_net():
        torch.manual_seed(0)
        net = torch.nn.Sequential(layer.Linear(6, 32), neuron.LIFNode(), layer.Linear(32, 4),
                                  neuron.ParametricLIFNode(v_reset=None))
        for m in net:
            m.step_mode = "m"
        return net

    x = torch.rand(20, 5, 6) * 2
    results = []
    for chunk in (None, 1, 8, 20):
        net = make_net()
        out = net(x) if chunk is None else kernels.time_checkpoint(net, x, chunk)
        (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
        results.append((out.detach(), [p.grad.clone() for p in net.parameters()], net[1].v.detach().clone(),
                        net[3].v.detach().clone()))
    ref = results[0]
    # Not bitwise: the Linear layers see a different number of time steps per call, and BLAS may pick
    # another kernel (another summation order) for each shape, so the currents agree to float32
    # rounding (6 and 32 products of magnitude ~2: well under 1e-5), and so do states and spikes
    # (a spike flips only if H lands within that rounding of the threshold).
    for got in results[1:]:
        torch.testing.assert_close(got[0], ref[0], rtol=0, atol=0)  # spikes: 0/1, equal unless a flip
        for a, b in zip(got[1], ref[1]):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(got[2], ref[2], rtol=1e-5, atol=1e-5)  # state: end of the sequence
        torch.testing.assert_close(got[3], ref[3], rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="time_chunk must be a positive int"):
        kernels.time_checkpoint(make_net(), x, 0)


def _malloc_in_use():
    """Bytes glibc's malloc has handed out (torch's CPU tensors come from malloc)."""
    import ctypes
    import ctypes.util

    class MallInfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in
                    "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        fn = libc.mallinfo2
    except (OSError, AttributeError):
        pytest.skip("needs glibc's mallinfo2 to count memory")
    fn.restype = MallInfo2
    info = fn()
    return info.uordblks + info.hblkhd


def kept_bytes(fn):
    """Memory that ``fn()`` leaves allocated, less its output: what is kept for the backward."""
    before = _malloc_in_use()
    out = fn()
    return _malloc_in_use() - before - out.untyped_storage().nbytes(), out


def test_fused_forward_allocates_little_beyond_its_output():
    """The input is kept by reference: new memory is the kept states, 4 / time_chunk bytes per step."""
    T, N = 64, 8 * 512
    x = make_input((T, 8, 512), seed=5).requires_grad_(True)
    node = neuron.LIFNode(step_mode="m")
    node(x[:1].detach())  # build the kernels and warm up outside the count
    node.reset()
    nbytes, out = kept_bytes(lambda: node(x))
    assert node._ran_backend == "cpu"
    assert nbytes / (T * N) <= 4 / kernels.DEFAULT_TIME_CHUNK + 0.1
    out.sum().backward()


def test_time_checkpoint_keeps_at_most_one_byte_per_neuron_step():
    """A Linear-LIF-Linear-LIF network at T=64: with time_checkpoint(chunk=8) what stays allocated
    between forward and backward is <= 1 byte per neuron-step; without it, several."""
    T, B, H = 64, 8, 512
    torch.manual_seed(0)
    net = torch.nn.Sequential(layer.Linear(16, H), neuron.LIFNode(), layer.Linear(H, H), neuron.LIFNode())
    for m in net:
        m.step_mode = "m"
    x = torch.rand(T, B, 16) * 0.5
    neuron_steps = T * B * 2 * H
    net(x[:2])
    for m in net:
        if hasattr(m, "reset"):
            m.reset()
    plain, out = kept_bytes(lambda: net(x))
    out.sum().backward()
    del out
    for m in (net[1], net[3]):
        m.reset()
    chunked, out = kept_bytes(lambda: kernels.time_checkpoint(net, x, 8))
    out.sum().backward()
    assert chunked / neuron_steps <= 1.0
    assert plain / neuron_steps >= 4.0


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "8"])
def test_time_chunk_is_validated_before_it_reaches_the_kernel(bad):
    x = torch.rand(5, 3, 4)
    with pytest.raises(ValueError, match=r"time_chunk must be a positive int .*got"):
        kernels.multi_step(x, 0.0, charge="lif", v_threshold=0.5, v_reset=0.0, decay=0.5,
                           surrogate=surrogate.Sigmoid(), time_chunk=bad)


def test_a_time_chunk_longer_than_the_sequence_is_the_whole_sequence():
    # the reproducer: time_chunk=10**8 made the backward malloc 10**8 x tile floats unchecked (exit 139)
    x = (torch.rand(7, 3, 40) * 1.5).requires_grad_()
    grads = []
    for chunk in (7, 10**8, None):   # None: the whole sequence
        s, _, _ = kernels.multi_step(x, 0.0, charge="lif", v_threshold=0.5, v_reset=0.0, decay=0.5,
                                     surrogate=surrogate.Sigmoid(), time_chunk=chunk)
        (s * torch.linspace(-1, 1, s.numel()).view_as(s)).sum().backward()
        grads.append((s.detach(), x.grad.clone()))
        x.grad = None
    for other in grads[1:]:   # same chunks: same ops
        assert torch.equal(grads[0][0], other[0]) and torch.equal(grads[0][1], other[1])
