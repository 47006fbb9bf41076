"""One path for every charge kind and both fused backends (``cpu``, ``triton``): the custom ops of
``ops`` (``spikesmith::neuron_forward`` / ``neuron_backward``, with their autograd and fake
implementations). ``torch.compile`` traces the op; eager calls run the op's implementation and
backward under ``ops.EagerFunction`` (the same code, without torch.library's Python dispatch).

    s_seq, state_T = run(launcher, spec, x_seq, state_0)

``spec`` is a ``KernelSpec``; ``state_0`` one value per state variable of its kind (one step's
shape, or numbers: a fresh state with every neuron at that value). The backend's launcher
(``cpu.LAUNCHER``, ``gpu.LAUNCHER``) runs the generated kernels; ``Plan`` turns the spec into the
ops' plain arguments and the ops lay the tensors out for the launcher.

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

from . import arguments, ops
from .contract import KernelSpec
from .layout import dense_steps

#: Steps between two kept states; the backward recomputes H within a chunk.
DEFAULT_TIME_CHUNK = 16


class Plan:
    """A ``KernelSpec`` as the ops' plain arguments: the kind's name and option bits, the reset, the
    surrogate's code name and numbers, each value of ``spec.values()`` as a tensor or a number, the
    launcher's name and the steps between kept states. ``step`` (one step of the input) is kept for
    the signature's sake: the ops lay the parameters out like the input's steps themselves."""

    def __init__(self, spec: KernelSpec, step: Optional[Tensor], launcher, time_chunk: int):
        kind = spec.charge
        form = spec.surrogate.kernel_form()
        self.kind, self.launcher = kind, launcher.name
        self.charge, self.options = kind.name, kind.option_bits(spec.options)
        self.soft, self.detach = spec.soft, bool(spec.detach_reset)
        self.surrogate, self.surrogate_params = form.code.name, [float(p) for p in form.params]
        values = [value for _, value in spec.values()]
        self.params, self.numbers, self.param_given = split(values)
        self.time_chunk = int(time_chunk)


def split(values) -> tuple[list[Tensor], list[float], list[bool]]:
    """Values that are tensors or numbers as the ops take them: the tensors, a number per position
    (0.0 where a tensor is) and whether each position holds a tensor."""
    given = [isinstance(v, Tensor) for v in values]
    return ([v for v in values if isinstance(v, Tensor)], [0.0 if g else float(v) for v, g in zip(values, given)],
            given)


def apply(plan: Plan, x_seq: Tensor, state: Sequence[Union[Tensor, float]]) -> tuple[Tensor, tuple[Tensor, ...]]:
    """Run the forward op of ``plan`` over a dense ``x_seq``, differentiable where any input
    requires grad; returns the spikes and the final state."""
    tensors, init, given = split(state)
    keep = torch.is_grad_enabled() and any(t.requires_grad for t in [x_seq, *tensors, *plan.params])
    if torch.compiler.is_compiling():       # traced: the custom op, one node with its fake and autograd
        s_seq, final, _ = ops.neuron_forward(x_seq, tensors, init, given, plan.params, plan.numbers,
                                             plan.param_given, plan.charge, plan.options, plan.soft, plan.detach,
                                             plan.time_chunk, plan.launcher, plan.surrogate, plan.surrogate_params,
                                             keep)
        return s_seq, tuple(final)
    # eager: the op's implementation and backward under a plain autograd Function (ops.EagerFunction)
    meta = {"n_state": len(tensors), "args": {
        "init": init, "state_given": given, "numbers": plan.numbers, "param_given": plan.param_given,
        "charge": plan.charge, "options": plan.options, "soft": plan.soft, "detach": plan.detach,
        "time_chunk": plan.time_chunk, "launcher": plan.launcher, "surrogate": plan.surrogate,
        "surrogate_params": plan.surrogate_params, "keep": keep}}
    s_seq, *final = ops.EagerFunction.apply(meta, x_seq, *tensors, *plan.params)
    return s_seq, tuple(final)


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
    return apply(Plan(spec, None, launcher, chunk), x_seq, state)
