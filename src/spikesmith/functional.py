"""Helpers SNN users reach for: reset, detach and step mode of a whole network, layouts, and
SpikingJelly's ``multi_step_forward`` / ``seq_to_ann_forward`` (run single-step modules over a sequence).

>>> functional.set_step_mode(net, "m")
>>> for x, y in loader:
...     out = net(encoder(x))
...     functional.reset_net(net)       # clear every neuron's state between batches

A forgotten ``reset_net`` is caught: ``ForgottenResetWarning`` once per network (see
``spikesmith.reset_check``); ``set_reset_check('error')`` makes it an error, ``'off'`` skips it.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .module import MemoryModule, StepModule, check_step_mode
from .reset_check import ForgottenResetError, ForgottenResetWarning, set_reset_check  # noqa: F401  (re-exported)


def _check_net(net, caller: str) -> None:
    """``net`` must be a module: ``reset_net(None)`` is a one-line TypeError, not an AttributeError."""
    if not isinstance(net, nn.Module):
        raise TypeError(
            f"{caller} expects the network (a torch.nn.Module), got {type(net).__name__}; pass the model "
            f"itself, e.g. functional.{caller}(net), once per network"
        )


def name_layers(net: nn.Module) -> None:
    """Give every step-mode-aware module its qualified name (used in error messages)."""
    _check_net(net, "name_layers")
    for name, module in net.named_modules():
        if isinstance(module, StepModule):
            object.__setattr__(module, "_sf_name", f"{type(module).__name__} '{name or '<root>'}'")


def reset_net(net: nn.Module) -> None:
    """Reset the state of every stateful module in ``net`` (membrane back to ``v_init``)."""
    _check_net(net, "reset_net")
    for module in net.modules():
        if isinstance(module, MemoryModule):
            module.reset()


def detach_net(net: nn.Module) -> None:
    """Detach every stateful module's state from the graph (truncated BPTT, chunked streams)."""
    _check_net(net, "detach_net")
    for module in net.modules():
        if isinstance(module, MemoryModule):
            module.detach()


def set_step_mode(net: nn.Module, step_mode: str) -> None:
    """Switch every step-mode-aware module of ``net`` to ``'s'`` or ``'m'``."""
    _check_net(net, "set_step_mode")
    check_step_mode(step_mode, "set_step_mode")
    name_layers(net)
    for module in net.modules():
        if isinstance(module, StepModule):
            module.step_mode = step_mode


def set_backend(net: nn.Module, backend: str) -> None:
    """Set ``backend`` on every neuron of ``net`` that has one."""
    _check_net(net, "set_backend")
    from .neuron.base import BaseNode, check_backend

    for module in net.modules():
        if isinstance(module, BaseNode):
            module.backend = check_backend(backend, module.layer_name())


def to_loihi_layout(x: Tensor) -> Tensor:
    """``T x N x ...`` -> ``N x ... x T`` (Lava / Loihi put time last)."""
    if x.dim() < 2:
        raise ValueError(f"to_loihi_layout expects [T, N, ...] (>= 2 dims), got shape {list(x.shape)}")
    return x.movedim(0, -1)


def from_loihi_layout(x: Tensor) -> Tensor:
    """``N x ... x T`` -> ``T x N x ...``."""
    if x.dim() < 2:
        raise ValueError(f"from_loihi_layout expects [N, ..., T] (>= 2 dims), got shape {list(x.shape)}")
    return x.movedim(-1, 0)


def seq_to_batch(x_seq: Tensor) -> Tensor:
    """Fold time into the batch: ``T x N x ...`` -> ``(T*N) x ...``."""
    return x_seq.flatten(0, 1)


def batch_to_seq(x: Tensor, T: int) -> Tensor:
    """Unfold time from the batch: ``(T*N) x ...`` -> ``T x N x ...``."""
    if x.shape[0] % T:
        raise ValueError(f"batch size {x.shape[0]} is not a multiple of T={T}")
    return x.unflatten(0, (T, x.shape[0] // T))


def _apply_in_order(x, modules):
    """``modules(x)``, or each module of a list/tuple in turn; a tuple ``x`` is passed as arguments."""
    args = x if isinstance(x, tuple) else (x,)
    if isinstance(modules, (list, tuple)):
        for module in modules:
            args = (module(*args),)
        return args[0]
    if not callable(modules):
        raise TypeError(f"expected a module, a callable or a list/tuple of them, got {type(modules).__name__}")
    return modules(*args)


def multi_step_forward(x_seq: Tensor, single_step_module) -> Tensor:
    """Run single-step module(s) over ``x_seq`` ``[T, N, ...]`` step after step and stack the outputs:
    Y[t] = f(X[t]) with f's state carried from step to step (SpikingJelly's ``multi_step_forward``).
    ``single_step_module``: a module, a callable, or a list/tuple applied in order."""
    if not isinstance(x_seq, Tensor) or x_seq.dim() < 1 or x_seq.shape[0] == 0:
        got = list(x_seq.shape) if isinstance(x_seq, Tensor) else type(x_seq).__name__
        raise ValueError(f"multi_step_forward expects x_seq of shape [T, N, ...] with T >= 1, got {got}")
    return _stack_steps([_apply_in_order(x, single_step_module) for x in x_seq.unbind(0)])


def _stack_steps(outputs):
    if isinstance(outputs[0], tuple):
        return tuple(torch.stack(parts) for parts in zip(*outputs))
    return torch.stack(outputs)


def seq_to_ann_forward(x_seq, stateless_module):
    """Apply stateless module(s) to ``x_seq`` ``[T, N, ...]`` with time folded into the batch
    (``[T*N, ...]``), and unfold the output(s) back to ``[T, N, ...]`` (SpikingJelly's
    ``seq_to_ann_forward``). ``x_seq`` may be a tuple of such tensors, given to the module as
    arguments (values and indices of an unpooling); they must share T and N."""
    parts = x_seq if isinstance(x_seq, tuple) else (x_seq,)
    if not parts or not all(isinstance(p, Tensor) and p.dim() >= 2 for p in parts):
        raise ValueError("seq_to_ann_forward expects x_seq of shape [T, N, ...] (or a tuple of them), got "
                         f"{[list(p.shape) if isinstance(p, Tensor) else type(p).__name__ for p in parts]}")
    lead = parts[0].shape[:2]
    if any(p.shape[:2] != lead for p in parts[1:]):
        raise ValueError(f"seq_to_ann_forward: the tensors of x_seq must share [T, N], got shapes "
                         f"{[list(p.shape) for p in parts]}")
    folded = tuple(p.flatten(0, 1) for p in parts)
    y = _apply_in_order(folded if isinstance(x_seq, tuple) else folded[0], stateless_module)
    if isinstance(y, tuple):
        return tuple(part.unflatten(0, tuple(lead)) for part in y)
    return y.unflatten(0, tuple(lead))
