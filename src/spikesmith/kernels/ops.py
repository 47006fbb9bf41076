"""The fused neuron kernels as ``torch.library`` custom ops: one forward and one backward for every
charge kind and both fused backends, with fake (meta) implementations and registered autograd.

    s_seq, states, kept = torch.ops.spikesmith.neuron_forward(x_seq, state, init, state_given, params, numbers,
                                                              param_given, charge, options, soft, detach,
                                                              time_chunk, launcher, surrogate, surrogate_params,
                                                              keep)

Registering them as ops is what lets ``torch.compile(model, fullgraph=True)`` trace a network of
fused neurons without a graph break: Dynamo and AOTAutograd see each op as one node whose output
shapes come from the fake implementation, and whose backward is ``neuron_backward``.
``fused.run`` is the one caller (``Plan`` turns a ``KernelSpec`` into the op's plain arguments).
Eager calls run the same implementation (``forward_impl``, ``backward_impl``) and the same
autograd code (``_setup_context``, ``backward_of``) under ``EagerFunction``, a plain autograd
Function that spares torch.library's Python dispatch; compiled and eager runs share one
implementation, and the tests compare them.

Arguments (everything a ``fused.Plan`` holds, as plain numbers and names):
    x_seq       [T, *S] float32, every step one block of memory (``layout.dense_steps``).
    state       the initial state variables given as tensors (each broadcasting to one step), in
                the kind's order; ``state_given`` says, per variable, whether it is among them, and
                ``init`` holds the number of each one that is not (all numbers on the CPU: the
                kernel fills the state in cache).
    params      the values of ``KernelSpec.values()`` (``vth``, ``rest``, the kind's parameters)
                given as tensors; ``param_given`` says which, and ``numbers`` holds the others.
                (Tensor lists hold no None: a list with a hole could not receive gradients.)
    charge      the kind's name in ``contract.CHARGES``; ``options`` its option bits.
    launcher    ``'cpu'`` or ``'triton'`` (``LAUNCHERS``, filled by ``cpu`` and ``gpu``).
    surrogate   the surrogate's ``KernelCode`` name and its three numbers (read by the backward).
    keep        keep the input and a state every ``time_chunk`` steps for the backward.
Outputs: the spikes (laid out like ``x_seq``), the final state (laid out like one step) and the
kept states (``[ceil(T / time_chunk), N]`` each where ``keep``, else none).

``neuron_backward`` takes the forward's input, kept states and arguments and the gradients of its
outputs (None: zero) and returns dL/dx_seq, dL/d(initial state) per variable (one step's shape)
and, where ``param_grads``, dL/d(parameter) per neuron in float64 for each of the kind's
``grad_params``; the autograd registration sums them to the shape of each input.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from ..surrogate import kernel_codes
from .contract import CHARGES
from .layout import dense_steps, flat, like_step, param

#: The fused backends' launchers by name (``cpu.LAUNCHER``, ``gpu.LAUNCHER`` register themselves).
LAUNCHERS: dict = {}

_CODES: dict = {}          # surrogate KernelCode by name


def surrogate_code(name: str):
    """The surrogate ``KernelCode`` named ``name`` (looked up again for a class defined since)."""
    if name not in _CODES:
        _CODES.update((code.name, code) for code in kernel_codes())
    if name not in _CODES:
        raise ValueError(f"no surrogate declares the kernel code {name!r}; known codes: {', '.join(sorted(_CODES))}")
    return _CODES[name]


class _Form:
    """A surrogate's kernel form rebuilt from its code name and numbers (``KernelForm``'s fields)."""

    __slots__ = ("code", "params")

    def __init__(self, code, params):
        self.code, self.params = code, tuple(float(p) for p in params)


class _Launch:
    """What a launcher reads of a ``fused.Plan``, rebuilt inside the op from its plain arguments."""

    def __init__(self, step: Tensor, params, numbers, param_given, charge: str, options: int, soft: bool, detach: bool,
                 time_chunk: int, surrogate: Optional[str] = None, surrogate_params=()):
        kind = CHARGES.get(charge)
        self.kind, self.soft, self.detach, self.options = kind, bool(soft), bool(detach), int(options)
        self.option_values = {name: bool(self.options >> k & 1) for k, name in enumerate(kind.options)}
        self.param_names = ["vth", "rest", *kind.params]
        self.params = [param(v, step) for v in _merge(params, numbers, param_given)]
        self.time_chunk = int(time_chunk)
        self.form = _Form(surrogate_code(surrogate), surrogate_params) if surrogate is not None else None


def _merge(tensors, numbers, given) -> list:
    """One value per position: the next of ``tensors`` where ``given``, else the number there."""
    if len(tensors) != sum(map(bool, given)) or len(numbers) != len(given):
        raise ValueError(f"spikesmith ops: {len(tensors)} tensors and {len(numbers)} numbers do not match the "
                         f"positions {list(given)}")
    it = iter(tensors)
    return [next(it) if g else n for g, n in zip(given, numbers)]


def _launcher(name: str):
    if name not in LAUNCHERS:
        raise ValueError(f"unknown fused launcher {name!r}; available: {', '.join(LAUNCHERS)}")
    return LAUNCHERS[name]


def _dense(x_seq: Tensor, owner: str) -> None:
    if not dense_steps(x_seq):
        raise ValueError(f"{owner}: every step of x_seq must be one block of memory (contiguous or channels_last), "
                         f"got shape {list(x_seq.shape)} and strides {list(x_seq.stride())}; pass x_seq.contiguous()")


def _kept_shape(x_seq: Tensor, time_chunk: int) -> tuple:
    T = x_seq.shape[0]
    return ((T + time_chunk - 1) // time_chunk, x_seq[0].numel())


# --------------------------------------------------------------------------- forward
def forward_impl(x_seq: Tensor, state: list[Tensor], init: list[float], state_given: list[bool],
                   params: list[Tensor], numbers: list[float], param_given: list[bool], charge: str, options: int, soft: bool, detach: bool, time_chunk: int,
                   launcher: str, surrogate: str, surrogate_params: list[float],
                   keep: bool) -> tuple[Tensor, list[Tensor], list[Tensor]]:
    _dense(x_seq, "spikesmith::neuron_forward")
    run = _launcher(launcher)
    T, step = x_seq.shape[0], x_seq[0]
    N = step.numel()
    plan = _Launch(step, params, numbers, param_given, charge, options, soft, detach, time_chunk)
    s_seq = torch.empty_like(x_seq)
    # a fresh state given as numbers: the CPU kernel fills it tile by tile, in cache
    filled = not state and run.fills_in_kernel
    values = _merge(state, init, state_given)
    states = [torch.empty_like(step) if filled else like_step(v, step) for v in values]
    ck = [torch.empty(_kept_shape(x_seq, plan.time_chunk), dtype=torch.float32, device=step.device)
          for _ in states] if keep else []
    run.forward(plan, flat(x_seq).view(T, N), flat(s_seq).view(T, N), [flat(s) for s in states], ck or None,
                [float(v) for v in init] if filled else None)
    return s_seq, states, ck


neuron_forward = torch.library.custom_op("spikesmith::neuron_forward", forward_impl, mutates_args=())


@neuron_forward.register_fake
def _(x_seq, state, init, state_given, params, numbers, param_given, charge, options, soft, detach, time_chunk,
      launcher, surrogate, surrogate_params, keep):
    step = x_seq[0]
    n = len(CHARGES.get(charge).state)
    states = [torch.empty_like(step) for _ in range(n)]
    ck = [x_seq.new_empty(_kept_shape(x_seq, time_chunk)) for _ in range(n)] if keep else []
    return torch.empty_like(x_seq), states, ck


# --------------------------------------------------------------------------- backward
def backward_impl(x_seq: Tensor, g_s: Optional[Tensor], g_state: list[Optional[Tensor]], kept: list[Tensor],
                    params: list[Tensor], numbers: list[float], param_given: list[bool], charge: str, options: int, soft: bool,
                    detach: bool, time_chunk: int, launcher: str, surrogate: str, surrogate_params: list[float],
                    param_grads: bool) -> tuple[Tensor, list[Tensor], list[Tensor]]:
    _dense(x_seq, "spikesmith::neuron_backward")
    run = _launcher(launcher)
    T, step = x_seq.shape[0], x_seq[0]
    N = step.numel()
    plan = _Launch(step, params, numbers, param_given, charge, options, soft, detach, time_chunk, surrogate,
                   surrogate_params)
    if g_s is None:
        g_s = torch.zeros_like(x_seq)
    elif g_s.stride() != x_seq.stride() or g_s.dtype != torch.float32:
        g_s = torch.empty_like(x_seq).copy_(g_s)
    # with no gradient on the final state the CPU kernel starts from zero in cache instead of
    # reading N arrays of zeros (grads of unused outputs arrive as None)
    filled = all(g is None for g in g_state) and run.fills_in_kernel
    gstates = [torch.empty_like(step) if filled else like_step(0.0 if g is None else g, step) for g in g_state]
    gx_seq = torch.empty_like(x_seq)
    param_grads = param_grads and bool(plan.kind.grad_params)     # a kind without any: nothing to compute
    gparams = [torch.zeros_like(step, dtype=torch.float64) for _ in plan.kind.grad_params] if param_grads else []
    run.backward(plan, flat(x_seq).view(T, N), flat(g_s).view(T, N), flat(gx_seq).view(T, N),
                 [flat(g) for g in gstates], {p: flat(g) for p, g in zip(plan.kind.grad_params, gparams)},
                 list(kept), filled, param_grads)
    return gx_seq, gstates, gparams


neuron_backward = torch.library.custom_op("spikesmith::neuron_backward", backward_impl, mutates_args=())


@neuron_backward.register_fake
def _(x_seq, g_s, g_state, kept, params, numbers, param_given, charge, options, soft, detach, time_chunk, launcher,
      surrogate, surrogate_params, param_grads):
    step = x_seq[0]
    kind = CHARGES.get(charge)
    gstates = [torch.empty_like(step) for _ in kind.state]
    gparams = [torch.empty_like(step, dtype=torch.float64) for _ in kind.grad_params] if param_grads else []
    return torch.empty_like(x_seq), gstates, gparams


# --------------------------------------------------------------------------- autograd
_FORWARD_ARGS = ("x_seq", "state", "init", "state_given", "params", "numbers", "param_given", "charge", "options",
                 "soft", "detach", "time_chunk", "launcher", "surrogate", "surrogate_params", "keep")
_BACKWARD_ARGS = _FORWARD_ARGS[5:-1]      # numbers ... surrogate_params


def _setup_context(ctx, inputs, output):
    args = dict(zip(_FORWARD_ARGS, inputs))
    _, _, kept = output
    ctx.set_materialize_grads(False)
    ctx.save_for_backward(args["x_seq"], *kept, *args["params"])
    ctx.n_kept = len(kept)
    ctx.state_shapes, ctx.state_given = [v.shape for v in args["state"]], list(args["state_given"])
    ctx.args = {k: args[k] for k in _BACKWARD_ARGS}


def _backward(ctx, g_s, g_states, g_kept):
    return backward_of(ctx, g_s, g_states, dict(zip(_FORWARD_ARGS, ctx.needs_input_grad)), neuron_backward)


def backward_of(ctx, g_s, g_states, needs: dict, backward=backward_impl) -> tuple:
    """The gradients of the forward's inputs, in ``_FORWARD_ARGS`` order (None for the non-tensor
    ones), from the context ``_setup_context`` filled; ``needs`` is ``needs_input_grad`` by argument
    name (a list for ``state`` and ``params``); ``backward`` runs the backward kernels (the op, or
    its implementation called directly)."""
    x_seq, *saved = ctx.saved_tensors
    kept, params = saved[:ctx.n_kept], saved[ctx.n_kept:]
    kind = CHARGES.get(ctx.args["charge"])
    names = [name for name, given in zip(["vth", "rest", *kind.params], ctx.args["param_given"]) if given]
    wanted = [k for k, (name, need) in enumerate(zip(names, needs["params"])) if need and name in kind.grad_params]
    if not kept:
        raise RuntimeError("spikesmith::neuron_forward ran with keep=False (no gradient was expected); run it with "
                           "keep=True to differentiate it")
    g_states = list(g_states) if g_states is not None else [None] * len(kind.state)
    gx, g_state0, gparams = backward(x_seq, g_s, g_states, list(kept), list(params), param_grads=bool(wanted),
                                     **ctx.args)
    # the state variables given as tensors, in order, and their gradients (to each one's own shape)
    state_grads = [g.sum_to_size(shape) if need else None
                   for g, shape, need in zip(_given(g_state0, ctx.state_given), ctx.state_shapes, needs["state"])]
    by_name = dict(zip(kind.grad_params, gparams))
    param_grads = [by_name[names[k]].sum_to_size(params[k].shape).to(params[k].dtype) if k in wanted else None
                   for k in range(len(params))]
    grads = {"x_seq": gx if needs["x_seq"] else None, "state": state_grads, "params": param_grads}
    return tuple(grads.get(name) for name in _FORWARD_ARGS)


def _given(values, given) -> list:
    return [v for v, here in zip(values, given) if here]


torch.library.register_autograd("spikesmith::neuron_forward", _backward, setup_context=_setup_context)


class EagerFunction(torch.autograd.Function):
    """``neuron_forward`` in eager mode: the op's own implementation, context and backward
    (``forward_impl``, ``_setup_context``, ``backward_of`` with ``backward_impl``) under a plain
    autograd Function, which spares torch.library's Python dispatch (its argument trees and
    defaults, a few hundred microseconds per forward and backward on a busy core).
    ``torch.compile`` traces the op itself (``fused.apply`` chooses).

    Inputs: the op's arguments as a dict without its tensors (``meta``), ``x_seq``, the state
    tensors, the parameter tensors. Outputs: the spikes and the final state variables."""

    @staticmethod
    def forward(ctx, meta: dict, x_seq: Tensor, *tensors):
        n = meta["n_state"]
        args = dict(meta["args"], x_seq=x_seq, state=list(tensors[:n]), params=list(tensors[n:]))
        inputs = [args[name] for name in _FORWARD_ARGS]
        s_seq, states, kept = forward_impl(*inputs)
        _setup_context(ctx, inputs, (s_seq, states, kept))
        ctx.n_state = n
        return (s_seq, *states)

    @staticmethod
    def backward(ctx, g_s, *g_states):
        n, needs = ctx.n_state, ctx.needs_input_grad
        grads = backward_of(ctx, g_s, list(g_states), {"x_seq": needs[1], "state": needs[2:2 + n],
                                                        "params": needs[2 + n:]})
        grads = dict(zip(_FORWARD_ARGS, grads))
        return (None, grads["x_seq"], *grads["state"], *grads["params"])
