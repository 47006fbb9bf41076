"""The fused kernels as torch.library custom ops (issue 20): every charge kind's forward and backward
through ``torch.library.opcheck`` (schema, fake implementation, autograd registration, AOT dispatch
with dynamic shapes), with and without gradients, and their bad inputs."""

import pytest
import torch

from spikesmith import kernels, surrogate
from spikesmith.kernels import CHARGES, cpu, fused, ops

KINDS = list(CHARGES)


def _spec(kind, grad: bool, step_shape, soft: bool):
    """A spec of ``kind`` with every parameter 0.5 (inside every kind's ranges); with ``grad`` the
    parameters the kind differentiates are per-neuron tensors that require grad."""
    g = torch.Generator().manual_seed(len(kind.name))
    params = {}
    for p in kind.params:
        if grad and p in kind.grad_params:
            params[p] = (0.3 + 0.4 * torch.rand(step_shape, generator=g)).requires_grad_()
        else:
            params[p] = 0.5
    return kernels.KernelSpec(kind, params, v_threshold=0.6, v_reset=None if soft else 0.0,
                              surrogate=surrogate.Sigmoid(alpha=4.0))


def _forward_args(spec, x, state, keep, time_chunk=2):
    plan = fused.Plan(spec, None, cpu.LAUNCHER, time_chunk)
    tensors, init, given = fused.split(state)
    return (x, tensors, init, given, plan.params, plan.numbers, plan.param_given, plan.charge, plan.options,
            plan.soft, plan.detach, plan.time_chunk, plan.launcher, plan.surrogate, plan.surrogate_params, keep)


def _input(shape, channels_last=False, grad=False):
    x = torch.rand(shape, generator=torch.Generator().manual_seed(3)) * 2.0 - 0.2
    if channels_last:
        x = x.permute(0, 1, 3, 4, 2).contiguous().permute(0, 1, 4, 2, 3)   # each step channels_last
    return x.requires_grad_(grad)


@pytest.mark.parametrize("name", KINDS)
@pytest.mark.parametrize("grad", [False, True], ids=["nograd", "grad"])
def test_forward_op_passes_opcheck(name, grad):
    kind = CHARGES.get(name)
    x = _input((3, 2, 5), grad=grad)
    spec = _spec(kind, grad, x.shape[1:], soft=grad)
    # fresh numbers (filled in the kernel) without grad; tensors (one broadcasting) with grad
    state = [0.0] * len(kind.state) if not grad else [
        torch.full((2, 1), 0.1).requires_grad_() if k == 0 else torch.zeros(2, 5) for k in range(len(kind.state))]
    torch.library.opcheck(torch.ops.spikesmith.neuron_forward.default, _forward_args(spec, x, state, keep=grad))


@pytest.mark.parametrize("name", KINDS)
def test_forward_op_keeps_a_channels_last_layout_in_its_fake(name):
    kind = CHARGES.get(name)
    x = _input((2, 2, 3, 4, 4), channels_last=True, grad=True)
    spec = _spec(kind, False, x.shape[1:], soft=False)
    args = _forward_args(spec, x, [0.0] * len(kind.state), keep=True)
    torch.library.opcheck(torch.ops.spikesmith.neuron_forward.default, args)
    s, states, kept = torch.ops.spikesmith.neuron_forward(*args)
    assert s.stride() == x.stride() and states[0].stride() == x[0].stride()
    assert [list(k.shape) for k in kept] == [[1, 2 * 3 * 4 * 4]] * len(kind.state)


@pytest.mark.parametrize("name", KINDS)
@pytest.mark.parametrize("param_grads", [False, True])
def test_backward_op_passes_opcheck(name, param_grads):
    kind = CHARGES.get(name)
    x = _input((5, 2, 3))
    spec = _spec(kind, param_grads, x.shape[1:], soft=False)
    params = [t.detach() for t in fused.Plan(spec, None, cpu.LAUNCHER, 2).params]
    fwd = list(_forward_args(spec, x, [0.0] * len(kind.state), keep=True))
    fwd[4] = params
    _, _, kept = torch.ops.spikesmith.neuron_forward(*fwd)
    g_s = torch.rand_like(x)
    g_state = [torch.rand(2, 3)] + [None] * (len(kind.state) - 1)
    args = (x, g_s, g_state, kept, *fwd[4:7], *fwd[7:15], param_grads)
    torch.library.opcheck(torch.ops.spikesmith.neuron_backward.default, args)
    gx, g0, gp = torch.ops.spikesmith.neuron_backward(*args)
    assert gx.shape == x.shape and len(g0) == len(kind.state)
    assert len(gp) == (len(kind.grad_params) if param_grads else 0)
    assert all(g.dtype == torch.float64 for g in gp)


@pytest.mark.parametrize("name", KINDS)
def test_eager_calls_equal_the_op_with_its_registered_autograd(name):
    # eager calls run the op's implementation under ops.EagerFunction; the op itself (what
    # torch.compile traces) with its registered autograd gives the same spikes, state and gradients
    kind = CHARGES.get(name)
    x = _input((4, 3, 5))
    spec = _spec(kind, True, x.shape[1:], soft=False)
    weights = torch.rand(x.shape, generator=torch.Generator().manual_seed(5))

    def grads(s, states):
        loss = (s * weights).sum() + sum((st * (k + 0.5)).sum() for k, st in enumerate(states))
        return torch.autograd.grad(loss, [xin, *spec.tensors()])

    xin = x.clone().requires_grad_()
    s1, st1 = fused.run(cpu.LAUNCHER, spec, xin, [0.0] * len(kind.state), 2)
    assert "EagerFunction" in s1.grad_fn.name()
    g1 = grads(s1, st1)
    s2, st2, _ = torch.ops.spikesmith.neuron_forward(*_forward_args(spec, xin, [0.0] * len(kind.state), keep=True))
    assert "spikesmith_neuron_forward" in s2.grad_fn.name()
    g2 = grads(s2, st2)
    assert torch.equal(s1, s2) and all(torch.equal(a, b) for a, b in zip(st1, st2))
    assert all(torch.equal(a, b) for a, b in zip(g1, g2))
    assert g1[0].abs().sum() > 0


def test_the_op_refuses_a_step_that_is_not_one_block():
    spec = kernels.KernelSpec("if", {}, v_threshold=0.6, v_reset=0.0, surrogate=surrogate.Sigmoid())
    x = torch.rand(3, 4, 6)[:, :, ::2]
    with pytest.raises(ValueError, match="one block of memory.*contiguous"):
        torch.ops.spikesmith.neuron_forward(*_forward_args(spec, x, [0.0], keep=False))


def test_the_op_names_an_unknown_launcher_and_surrogate():
    spec = kernels.KernelSpec("if", {}, v_threshold=0.6, v_reset=0.0, surrogate=surrogate.Sigmoid())
    args = list(_forward_args(spec, torch.rand(2, 3), [0.0], keep=False))
    args[12] = "gpu9"
    with pytest.raises(ValueError, match="unknown fused launcher 'gpu9'; available: cpu"):
        torch.ops.spikesmith.neuron_forward(*args)
    with pytest.raises(ValueError, match="no surrogate declares the kernel code 'nope'"):
        ops.surrogate_code("nope")


def test_mismatched_positions_are_an_error():
    spec = kernels.KernelSpec("if", {}, v_threshold=0.6, v_reset=0.0, surrogate=surrogate.Sigmoid())
    args = list(_forward_args(spec, torch.rand(2, 3), [0.0], keep=False))
    args[6] = [True, False]          # says vth is a tensor, but no tensor is given
    with pytest.raises(ValueError, match="0 tensors and 2 numbers do not match"):
        torch.ops.spikesmith.neuron_forward(*args)
