"""One autograd Function for every charge kind and both fused backends (``cpu``, ``triton``).

    s_seq, state_T = run("cpu", spec, x_seq, state_0)

``spec`` is a ``KernelSpec``; ``state_0`` one value per state variable of its kind (one step's
shape, or numbers: a fresh state with every neuron at that value). The backend's launcher
(``cpu.LAUNCHER``, ``gpu.LAUNCHER``) runs the generated kernels; this module lays the tensors out
for them and does the autograd bookkeeping.

What the forward keeps for the backward, per neuron and step:
    the input ``x_seq`` (a reference, no copy, when every step is dense, e.g. contiguous or
    channels_last float32: 4 bytes), and the
    state every ``time_chunk`` steps (4 / time_chunk bytes per state variable).
The backward recomputes H chunk by chunk from these (one pass of the forward maths over a chunk
held in cache), then makes one pass back over the chunk. With the default ``time_chunk=16``
that is 4.25 bytes per neuron-step (4.5 with two state variables); spikes are not kept at all.
"""

from __future__ import annotations

from typing import Optional, Sequence, Union

import torch
from torch import Tensor

from . import arguments
from .contract import KernelSpec
from .layout import dense_steps, flat, like_step, param

#: Steps between two kept states; the backward recomputes H within a chunk.
DEFAULT_TIME_CHUNK = 16


class Plan:
    """Everything the Function needs besides its tensor inputs: the spec's kind, variant, surrogate
    form and parameters as the kernels read them (on the input's device), and the launcher."""

    def __init__(self, spec: KernelSpec, step: Tensor, launcher, time_chunk: int):
        kind = spec.charge
        self.kind, self.launcher, self.form = kind, launcher, spec.surrogate.kernel_form()
        self.soft, self.detach = spec.soft, bool(spec.detach_reset)
        self.options = kind.option_bits(spec.options)
        self.option_values = dict(spec.options)
        self.params = [param(value, step) for _, value in spec.values()]   # [(tensor, stride)]
        self.param_names = [name for name, _ in spec.values()]
        # the parameter tensors that receive a gradient, in the order they are given to the Function
        self.grad_names = [p for p in kind.grad_params
                           if isinstance(spec.params[p], Tensor) and spec.params[p].requires_grad]
        self.time_chunk = int(time_chunk)


class FusedFunction(torch.autograd.Function):
    """Multi-step neuron: forward one pass over T, backward one pass back.

    Inputs: the ``Plan``, ``x_seq`` [T, *S], the initial value of each state variable ([*S] or a
    number), then the parameter tensors named by ``plan.grad_names``.
    Outputs: spikes [T, *S] and the final value of each state variable [*S].
    """

    @staticmethod
    def forward(ctx, plan: Plan, x_seq: Tensor, *inputs):
        n = len(plan.kind.state)
        state0, grad_values = inputs[:n], inputs[n:]
        T, N = x_seq.shape[0], x_seq.shape[1:].numel()
        if not dense_steps(x_seq):
            x_seq = x_seq.contiguous()
        step = x_seq[0]
        s_seq = torch.empty_like(x_seq)
        numbers = all(not isinstance(v, Tensor) for v in state0)
        # a fresh state given as numbers: the CPU kernel fills it tile by tile, in cache
        filled = numbers and plan.launcher.fills_in_kernel
        states = [torch.empty_like(step) if filled else like_step(v, step) for v in state0]
        ctx.set_materialize_grads(False)
        train = any(ctx.needs_input_grad)
        K = plan.time_chunk
        nck = (T + K - 1) // K
        ck = [torch.empty((nck, N), dtype=torch.float32, device=step.device) for _ in states] if train else None
        plan.launcher.forward(plan, flat(x_seq).view(T, N), flat(s_seq).view(T, N), [flat(s) for s in states], ck,
                              [float(v) for v in state0] if filled else None)
        if train:
            ctx.save_for_backward(x_seq, *ck, *grad_values)
            ctx.plan = plan
        return (s_seq, *states)

    @staticmethod
    def backward(ctx, g_s, *g_states):
        plan = ctx.plan
        n = len(plan.kind.state)
        x_seq, *saved = ctx.saved_tensors
        ck, grad_values = saved[:n], saved[n:]
        T, step = x_seq.shape[0], x_seq[0]
        N = step.numel()
        if g_s is None:
            g_s = torch.zeros_like(x_seq)
        elif g_s.stride() != x_seq.stride() or g_s.dtype != torch.float32:
            g_s = torch.empty_like(x_seq).copy_(g_s)
        # with no gradient on the final state the CPU kernel starts from zero in cache instead of
        # reading N arrays of zeros (grads of unused outputs arrive as None)
        zero_gstate = all(g is None for g in g_states)
        filled = zero_gstate and plan.launcher.fills_in_kernel
        gstates = [torch.empty_like(step) if filled else like_step(0.0 if g is None else g, step) for g in g_states]
        gx_seq = torch.empty_like(x_seq)
        need_gd = any(ctx.needs_input_grad[2 + n:])
        gparams = {p: torch.zeros_like(step, dtype=torch.float64) for p in plan.kind.grad_params} if need_gd else {}
        plan.launcher.backward(plan, flat(x_seq).view(T, N), flat(g_s).view(T, N), flat(gx_seq).view(T, N),
                               [flat(g) for g in gstates], {p: flat(g) for p, g in gparams.items()}, list(ck),
                               filled, need_gd)
        needs = ctx.needs_input_grad
        out = [None, gx_seq if needs[1] else None]
        out += [g if needs[2 + k] else None for k, g in enumerate(gstates)]
        for k, (name, value) in enumerate(zip(plan.grad_names, grad_values)):
            out.append(gparams[name].sum_to_size(value.shape).to(value.dtype) if needs[2 + n + k] else None)
        return tuple(out)


def run(launcher, spec: KernelSpec, x_seq: Tensor, state: Sequence[Union[Tensor, float]],
        time_chunk: Optional[int] = DEFAULT_TIME_CHUNK) -> tuple[Tensor, tuple[Tensor, ...]]:
    """Run ``spec`` over ``x_seq`` with ``launcher``; returns the spikes and the final state.

    ``time_chunk``: a positive int, or None for the whole sequence (``arguments.time_chunk``)."""
    arguments.structure(spec, x_seq, state)
    # a chunk longer than the sequence is the whole sequence: the same result, and the backward's
    # per-thread buffer (time_chunk x tile floats) is sized by the steps that exist
    chunk = arguments.time_chunk(time_chunk, x_seq.shape[0])
    if not dense_steps(x_seq):
        x_seq = x_seq.contiguous()
    plan = Plan(spec, x_seq[0], launcher, chunk)
    grad_values = [spec.params[p] for p in plan.grad_names]
    s_seq, *final = FusedFunction.apply(plan, x_seq, *state, *grad_values)
    return s_seq, tuple(final)
