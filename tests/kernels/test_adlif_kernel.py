"""AdLIFNode's fused kernel (CPU, and Triton in its interpreter) against its scan: identical spikes and
states, gradients of the input and of alpha, beta, a, b within 1e-5 (float32), per-neuron parameters.

The neuron grid of test_kernels_equivalence / test_kernels_triton covers it too, with one value per
parameter; here every neuron has its own, drawn in the ranges."""

import os

import pytest
import torch

from spikesmith import neuron, reset_check

from _kernel_cases import SURROGATES, make_input

TOL = dict(rtol=1e-5, atol=1e-5)


def factory(v_reset, sg, detach_reset):
    def make():
        torch.manual_seed(5)
        return neuron.AdLIFNode(shape=(3, 8), v_reset=v_reset, surrogate_function=SURROGATES[sg](),
                                detach_reset=detach_reset, step_mode="m")
    return make


def run(make, x, backend, steps=None):
    node = make()
    node.backend = backend
    xin = x.clone().requires_grad_(True)
    pieces = [xin] if steps is None else list(xin.split(steps))
    with reset_check.continuing():       # the pieces are one sequence, carried on purpose
        s = torch.cat([node(p) for p in pieces])
    w = torch.linspace(-1, 1, s.numel()).view_as(s)
    ((s * w).sum() + (node.v * 0.3).sum() + (node.w * 1.3).sum()).backward()
    assert node._ran_backend == backend
    return s.detach(), node.v.detach(), node.w.detach(), xin.grad, {n: p.grad for n, p in node.named_parameters()}


def compare(make, x, backend, steps=None):
    ref, got = run(make, x, "torch", steps), run(make, x, backend, steps)
    assert ref[0].sum() > 0 and (ref[0] == 0).any()
    assert torch.equal(ref[0], got[0]), "spikes differ"
    # states: the compiled kernel may fuse a multiply-add that torch rounds twice (FMA, other SIMD widths)
    torch.testing.assert_close(got[1], ref[1], **TOL)
    torch.testing.assert_close(got[2], ref[2], **TOL)
    torch.testing.assert_close(got[3], ref[3], **TOL)
    assert sorted(got[4]) == ["a", "alpha", "b", "beta"]
    for name in ref[4]:
        assert ref[4][name].abs().sum() > 0
        torch.testing.assert_close(got[4][name], ref[4][name], **TOL)


CASES = [(None, "sigmoid", False), (None, "atan", True), (0.0, "triangle", False), (-0.2, "dspike", True)]


@pytest.mark.parametrize("v_reset, sg, detach_reset", CASES)
def test_cpu_kernel_equals_scan(v_reset, sg, detach_reset):
    x = make_input((21, 4, 3, 8), seed=3, scale=4.0)     # T = 21: two time chunks, one partial
    compare(factory(v_reset, sg, detach_reset), x, "cpu")


def test_cpu_kernel_state_carried_across_calls():
    compare(factory(None, "sigmoid", False), make_input((12, 2, 3, 8), seed=4, scale=4.0), "cpu", steps=5)


@pytest.mark.parametrize("v_reset, sg, detach_reset", CASES[:2])
def test_triton_kernel_equals_scan(v_reset, sg, detach_reset, monkeypatch):
    pytest.importorskip("triton")
    monkeypatch.setitem(os.environ, "TRITON_INTERPRET", "1")
    compare(factory(v_reset, sg, detach_reset), make_input((18, 2, 3, 8), seed=6, scale=4.0), "triton")
