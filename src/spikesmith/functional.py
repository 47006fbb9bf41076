"""Helpers SNN users reach for: reset, detach and step mode of a whole network, layouts.

>>> functional.set_step_mode(net, "m")
>>> for x, y in loader:
...     out = net(encoder(x))
...     functional.reset_net(net)       # clear every neuron's state between batches

A forgotten ``reset_net`` is caught: ``ForgottenResetWarning`` once per network (see
``spikesmith.reset_check``); ``set_reset_check('error')`` makes it an error, ``'off'`` skips it.
"""

from __future__ import annotations

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
