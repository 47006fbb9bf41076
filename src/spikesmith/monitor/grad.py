"""Gradients of the loss with respect to the outputs (and, ``GradInputMonitor``, the inputs) of chosen modules.

While the monitor is enabled (and grad is on), a forward hook hands back, in place of each
output, an equal copy made by a small identity autograd Function (``_GradProbe``); its backward
stores the gradient that arrives from the layers downstream and passes it on unchanged.

Why not a tensor hook on the output itself: in single-step mode a neuron's output S(t) also
feeds its own reset, V(t) = H(t) (1 - S(t)), so the gradient of that tensor includes the path
back into the neuron, and single-step and multi-step runs would disagree. Why not
``register_full_backward_hook``: it cannot tell which call a gradient belongs to, and it
returns a view that in-place operations downstream reject. The copy costs one tensor per call,
only while the monitor is enabled.

Backward visits single-step calls last-first; records are kept in forward order, so
``mon[name][t]`` is the gradient of the output of call ``t`` and ``mon.sequence(name)`` is
``T x N x ...`` in both step modes.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import torch
from torch import Tensor, nn
from torch.utils.hooks import RemovableHandle

from ..neuron import BaseNode
from .base import BaseMonitor, InstanceSpec, _Hook, detached_copy, step_mode_of
from .forward import Transform, check_callable


class _GradProbe(torch.autograd.Function):
    """y = copy of x; backward calls ``callback(dL/dy)`` and returns dL/dy unchanged."""

    @staticmethod
    def forward(ctx, x: Tensor, callback: Callable[[Tensor], None]) -> Tensor:
        ctx.callback = callback
        return x.clone()

    @staticmethod
    def backward(ctx, grad: Tensor):
        ctx.callback(grad)
        return grad, None


class GradOutputMonitor(BaseMonitor):
    """Record the gradient with respect to the output of every chosen submodule.

    Args:
        net: the network.
        instance: a module class or tuple of classes (default: every spiking neuron).
        function_on_grad_output: applied to a detached copy of each gradient before it is stored.
        to_cpu: store the copies on the CPU.

    Outputs that do not require grad (``torch.no_grad()``, frozen inputs) record nothing.
    Modules must return a tensor. While enabled, each monitored module returns a copy of its
    output (equal values; see the module docstring), so the recorded gradient is the one that
    reaches the module from downstream, the same in both step modes.

    Examples:
        >>> mon = GradOutputMonitor(net)
        >>> net(x_seq).sum().backward()
        >>> mon["sn1"][0].shape == spikes.shape
    """

    _default_instance = (BaseNode,)

    def __init__(self, net: nn.Module, instance: Optional[InstanceSpec] = None,
                 function_on_grad_output: Transform = None, to_cpu: bool = False):
        self.function = check_callable(function_on_grad_output, "function_on_grad_output", type(self).__name__)
        super().__init__(net, instance, to_cpu)
        self._calls = {name: 0 for name in self.monitored_layers}
        self.enable()

    def _attach(self, name: str, module: nn.Module) -> list[RemovableHandle]:
        return [module.register_forward_hook(_Hook(self, "_on_output", name))]

    def _on_output(self, name: str, module: nn.Module, args: tuple, output: Any) -> Optional[Tensor]:
        if not isinstance(output, Tensor):
            raise TypeError(
                f"{type(self).__name__}: {name!r} returned a {type(output).__name__}; only modules that "
                f"return a tensor can be monitored, narrow instance="
            )
        call = self._calls[name]
        self._calls[name] = call + 1
        if not (output.requires_grad and torch.is_grad_enabled()):
            return None
        return _GradProbe.apply(output, _Hook(self, "_on_grad", name, call, step_mode_of(module)))

    def _on_grad(self, name: str, call: int, mode: Optional[str], grad: Tensor) -> None:
        if not self._enabled:  # graph built before disable()/remove_hooks()
            return
        value = detached_copy(grad, self.to_cpu)
        if self.function is not None:
            value = detached_copy(self.function(value), False)
        self._record(name, value, mode, key=call)


class GradInputMonitor(BaseMonitor):
    """Record the gradient with respect to the input of every chosen submodule.

    The counterpart of ``GradOutputMonitor`` on the input side: while enabled, a forward pre-hook
    gives each monitored module an equal copy of its (first) input, whose backward stores the
    gradient that flows into that input from the module. Records are in forward order:
    ``mon[name][t]`` is the gradient of call ``t``'s input.

    Args:
        net, instance, to_cpu: as ``GradOutputMonitor``.
        function_on_grad_input: applied to a detached copy of each gradient before it is stored.

    Inputs that do not require grad (the data, ``torch.no_grad()``) record nothing.
    """

    _default_instance = (BaseNode,)

    def __init__(self, net: nn.Module, instance: Optional[InstanceSpec] = None,
                 function_on_grad_input: Transform = None, to_cpu: bool = False):
        self.function = check_callable(function_on_grad_input, "function_on_grad_input", type(self).__name__)
        super().__init__(net, instance, to_cpu)
        self._calls = {name: 0 for name in self.monitored_layers}
        self.enable()

    def _attach(self, name: str, module: nn.Module) -> list[RemovableHandle]:
        return [module.register_forward_pre_hook(_Hook(self, "_on_input", name))]

    def _on_input(self, name: str, module: nn.Module, args: tuple) -> Optional[tuple]:
        call = self._calls[name]
        self._calls[name] = call + 1
        if not args or not isinstance(args[0], Tensor) or not (args[0].requires_grad and torch.is_grad_enabled()):
            return None
        probe = _GradProbe.apply(args[0], _Hook(self, "_on_grad", name, call, step_mode_of(module)))
        return (probe,) + tuple(args[1:])

    _on_grad = GradOutputMonitor._on_grad


__all__ = ["GradInputMonitor", "GradOutputMonitor"]
