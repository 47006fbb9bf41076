"""The forgotten-reset check: warn when a neuron's state outlives the batch it belongs to.

Forgetting ``functional.reset_net(net)`` between batches is the most common SNN mistake. It shows
three ways, and a neuron detects each at the start of a call, from its state alone:

``carried_graph``  a multi-step (``'m'``) call starts from the state an earlier ``'m'`` call left,
                   and that state still holds its autograd graph (neither ``reset_net`` nor
                   ``detach_net`` in between). Without a graph (``torch.no_grad()``) the state is
                   carried silently: streaming a sequence in chunks under ``no_grad`` is legitimate.
``spent_graph``    any call starts from a state whose graph a backward has already used and freed.
                   Post-hooks on the autograd nodes of the first output and the first state since
                   the last reset or detach mark the state's trail when a backward runs through
                   them (not with ``retain_graph=True``, which frees nothing); every later call
                   continues from that state, so any backward through the state's graph reaches
                   one of them. The warning comes at the forward, before PyTorch's bare "Trying
                   to backward through the graph a second time".
``long_graph``     a state has been carried with autograd on through more than ``max_graph_steps``
                   steps without a reset or a detach: evaluating in step mode ``'s'`` without
                   ``torch.no_grad()`` grows the graph (and memory) batch after batch.

Each warns once per network (the outermost module being called when the neuron runs, found on the
call stack only when a check fires, so the fast path pays nothing for it), with a
``ForgottenResetWarning`` naming ``functional.reset_net`` and ``functional.detach_net``. The switch
``set_reset_check(mode)`` (or ``SPIKESMITH_RESET_CHECK=warn|error|off`` before import) makes them a
``ForgottenResetError`` (every time) or turns the check off.

The second backward. After a ``spent_graph`` warning the neuron passes its state through an
identity autograd node (``_SpentStateProbe``). It is created after every node of the spent graph,
so the engine reaches it first; its backward walks the graph behind the state (bounded) and, only
if it finds a node whose saved tensors are freed (so PyTorch would fail there next), raises
PyTorch's RuntimeError with the same hint. Otherwise it passes the gradient on untouched.

Under ``torch.compile`` the check is skipped: it reads autograd nodes and hooks them, which a
compiled graph has none of (``active()`` is False while Dynamo traces, so the compiled code holds
no check at all; eager calls of the same module are checked as before).

Nothing here runs while a backward is running (``torch.utils.checkpoint`` recomputes forwards
then) or with the mode ``'off'``. ``continuing()`` marks calls that are one sequence split on purpose
(``kernels.time_checkpoint``'s chunks, ``layer.Recurrent``'s steps): only each neuron's first call
inside is checked, as a multi-step call. A module keeps its trail in a
plain attribute: it holds no tensor, so it keeps no graph alive, and a pickled or copied module
starts a fresh one. The cost is about 1 us a call (``bench/bench_reset_check.py``).
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
import weakref
from typing import Iterator, Optional

import torch
from torch import Tensor, nn

from . import _config

CARRIED_GRAPH, SPENT_GRAPH, LONG_GRAPH = "carried_graph", "spent_graph", "long_graph"

# the nodes the second-backward check inspects behind a spent state before giving up
_PROBE_NODES = 256


class ForgottenResetWarning(UserWarning):
    """A neuron's state was carried on where ``functional.reset_net`` or ``detach_net`` was due."""


class ForgottenResetError(RuntimeError):
    """The same, with ``set_reset_check('error')``."""


# ----------------------------------------------------------------------------- switch
def set_reset_check(mode: Optional[str] = None, *, max_graph_steps: Optional[int] = None) -> None:
    """Set the forgotten-reset check: ``'warn'`` (default), ``'error'`` or ``'off'``; and the number of
    steps a state may carry an autograd graph before ``long_graph`` fires. None keeps a value."""
    _config.set_reset_check(mode, max_graph_steps)


def reset_check_settings() -> tuple[str, int]:
    """``(mode, max_graph_steps)`` now in force."""
    return _config.reset_check()


@contextlib.contextmanager
def continuing() -> Iterator[None]:
    """The calls inside are one multi-step sequence split on purpose (time chunks, a recurrent
    layer's steps): each neuron's first call inside is checked as an ``'m'`` call (a reset forgotten
    before the sequence), its later calls are not. Blocks nest into the outermost one."""
    global _SEQUENCE
    outer = _SEQUENCE
    if outer is None:
        _SEQUENCE = set()
    try:
        yield
    finally:
        if outer is None:
            _SEQUENCE = None


# ids of the modules already checked in the running continuing() block; None: no block
_SEQUENCE: Optional[set] = None


# ----------------------------------------------------------------------------- the trail of a state
class _Trail:
    """What a neuron's state went through since it last had no graph (fresh, reset or detached)."""

    __slots__ = ("steps", "from_multi_step", "spent")

    def __init__(self):
        self.steps = 0
        self.from_multi_step = False
        self.spent = False

    def mark(self, grad_inputs, grad_outputs) -> None:
        """Node post-hook: a backward ran through this state's graph; it is spent unless retained."""
        if not _keep_graph():
            self.spent = True

    def __reduce__(self):
        return (_Trail, ())          # a pickled or copied module starts a fresh trail (and a fresh state)


def _keep_graph() -> bool:
    """Whether the running backward retains the graph (``retain_graph=True``)."""
    query = getattr(torch._C._autograd, "_get_current_graph_task_keep_graph", None)
    return bool(query()) if query is not None else False


_TRAIL = "_sf_trail"          # where a module keeps its trail (in its __dict__: a plain attribute)
_HANDLED: "weakref.WeakKeyDictionary[nn.Module, set]" = weakref.WeakKeyDictionary()   # per neuron
_WARNED: "weakref.WeakKeyDictionary[nn.Module, set]" = weakref.WeakKeyDictionary()    # per network
_graph_task_id = getattr(torch._C, "_current_graph_task_id", lambda: -1)


def active() -> bool:
    """Whether a neuron call now is checked (mode on, no backward running, not being traced by
    ``torch.compile``)."""
    if torch.compiler.is_compiling():
        return False
    return _config.reset_check()[0] != "off" and _graph_task_id() == -1


def _state(module) -> tuple:
    return tuple(getattr(module, name) for name in module.memory_names())


def _graph_of(value) -> bool:
    """Whether a state holds an autograd graph (``requires_grad``: for a state, which is never a leaf,
    the same as having a ``grad_fn``, and cheaper to read)."""
    return isinstance(value, Tensor) and value.requires_grad


# ----------------------------------------------------------------------------- the hooks a neuron calls
def before_call(module, v, step_mode: str) -> None:
    """At the start of a call, with ``v`` the first state variable: check the incoming state; a spent
    one is replaced by a probed copy (see ``_SpentStateProbe``)."""
    if _SEQUENCE is not None:
        if id(module) in _SEQUENCE:
            return
        _SEQUENCE.add(id(module))
        step_mode = "m"
    if not _graph_of(v):
        module.__dict__.pop(_TRAIL, None)
        return
    trail = module.__dict__.get(_TRAIL)
    if trail is None:
        return
    if trail.spent:
        _report(module, SPENT_GRAPH, trail)
        if torch.is_grad_enabled():
            state = _state(module)
            probed = _SpentStateProbe.apply(_hint(module, SPENT_GRAPH, trail), *state)
            for name, value in zip(module.memory_names(), probed):
                object.__setattr__(module, name, value)
    elif step_mode == "m" and trail.from_multi_step:
        _report(module, CARRIED_GRAPH, trail)
    elif trail.steps > _config.reset_check()[1]:
        _report(module, LONG_GRAPH, trail)


def after_call(module, v, step_mode: str, steps: int, output) -> None:
    """At the end of a call, with ``v`` the new first state variable: extend the state's trail.

    A new trail watches the autograd nodes of its first output and first state: every later call
    continues from that state, so any backward through this trail's graph (a loss on any output)
    runs through one of the two, and their post-hooks mark the trail spent. Later calls register
    nothing: the check costs a few attribute reads per call."""
    if not _graph_of(v):
        module.__dict__.pop(_TRAIL, None)
        return
    trail = module.__dict__.get(_TRAIL)
    if trail is None:
        trail = module.__dict__[_TRAIL] = _Trail()
        out_node = output.grad_fn if isinstance(output, Tensor) else None
        for node in {out_node, v.grad_fn} - {None}:
            node.register_hook(trail.mark)
    trail.steps += steps
    trail.from_multi_step = step_mode == "m" or _SEQUENCE is not None


# ----------------------------------------------------------------------------- reports
def _hint(module, pattern: str, trail: _Trail) -> str:
    name = _NAMES.get(module) or _own_name(module)
    fix = ("call spikesmith.functional.reset_net(net) between independent batches, or "
           "spikesmith.functional.detach_net(net) to carry the state on without its graph (truncated BPTT)")
    if pattern == SPENT_GRAPH:
        what = f"{name} started from a state whose autograd graph a backward has already used and freed"
    elif pattern == CARRIED_GRAPH:
        what = (f"{name} in step_mode='m' started from the state its previous multi-step call left, "
                f"which still holds that call's autograd graph")
    else:
        what = (f"{name} has carried its state with autograd on through {trail.steps} steps "
                f"(limit {_config.reset_check()[1]}) without a reset or a detach, so its graph keeps growing")
        fix = ("evaluate under torch.no_grad(), " + fix +
               "; functional.set_reset_check(max_graph_steps=...) raises the limit")
    return f"{what}; {fix}"


def _report(module, pattern: str, trail: _Trail) -> None:
    """Raise (mode 'error') or warn once per network (mode 'warn')."""
    error = _config.reset_check()[0] == "error"
    handled = _HANDLED.setdefault(module, set())
    if pattern in handled and not error:
        return
    handled.add(pattern)
    root, stacklevel = _caller_network(module)
    _NAMES[module] = _name_in(root, module)
    if error:
        raise ForgottenResetError(_hint(module, pattern, trail))
    warned = _WARNED.setdefault(root, set())
    if pattern not in warned:
        warned.add(pattern)
        warnings.warn(_hint(module, pattern, trail), ForgottenResetWarning, stacklevel=stacklevel)


_NAMES: "weakref.WeakKeyDictionary[nn.Module, str]" = weakref.WeakKeyDictionary()
_CALL_CODES = {nn.Module._call_impl.__code__, getattr(nn.Module, "_wrapped_call_impl", nn.Module._call_impl).__code__}
_OWN_DIRS = tuple(os.path.dirname(p) + os.sep for p in (__file__, torch.__file__))


def _own_name(module) -> str:
    return module.layer_name() if hasattr(module, "layer_name") else type(module).__name__


def _name_in(root: nn.Module, module) -> str:
    """``LIFNode '1' of Sequential``: the neuron's name in the network (its own name if it has one)."""
    if root is module or "_sf_name" in module.__dict__:
        return _own_name(module)
    path = next((name for name, m in root.named_modules() if m is module), "?")
    return f"{type(module).__name__} '{path}' of {type(root).__name__}"


def _caller_network(module) -> tuple[nn.Module, int]:
    """The outermost module on the call stack that contains ``module`` (else ``module``), and the
    ``stacklevel`` of the first frame outside spikesmith and torch (the user's line) for a warning
    issued by the caller of this function."""
    root, frame, depth, stacklevel = module, sys._getframe(1), 1, None
    while frame is not None:
        if frame.f_code in _CALL_CODES:
            caller = frame.f_locals.get("self")
            if isinstance(caller, nn.Module) and caller is not root and any(m is module for m in caller.modules()):
                root = caller
        elif stacklevel is None and not frame.f_code.co_filename.startswith(_OWN_DIRS):
            stacklevel = depth
        frame, depth = frame.f_back, depth + 1
    return root, stacklevel or 1


# ----------------------------------------------------------------------------- the second backward
class _SpentStateProbe(torch.autograd.Function):
    """Identity on a spent state; its backward turns PyTorch's bare second-backward error into one
    that names the fix, when (and only when) the graph behind the state really is freed."""

    @staticmethod
    def forward(ctx, hint: str, *state):
        ctx.hint = hint
        ctx.behind = [s.grad_fn for s in state if _graph_of(s)]
        return tuple(s.clone() if isinstance(s, Tensor) else s for s in state)

    @staticmethod
    def backward(ctx, *grads):
        if _reaches_freed_node(ctx.behind):
            raise RuntimeError(
                "Trying to backward through the graph a second time (its saved tensors were freed by an "
                f"earlier backward): {ctx.hint}"
            )
        return (None, *grads)


def _reaches_freed_node(roots) -> bool:
    """Whether a node with freed saved tensors is among the first ``_PROBE_NODES`` behind ``roots``."""
    queue, seen = list(roots), set()
    while queue and len(seen) < _PROBE_NODES:
        node = queue.pop(0)
        if node is None or node in seen:
            continue
        seen.add(node)
        if _freed(node):
            return True
        queue.extend(next_node for next_node, _ in node.next_functions)
    return False


def _freed(node) -> bool:
    names = [a for a in dir(node) if a.startswith("_saved_")]
    if hasattr(type(node), "saved_tensors"):
        names.append("saved_tensors")
    for name in names:
        try:
            getattr(node, name)
        except RuntimeError:
            return True
    return False
