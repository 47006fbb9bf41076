"""Monitors on the forward pass: outputs, inputs and attributes of chosen modules.

>>> with OutputMonitor(net) as mon:          # every spiking neuron of net
...     net(x_seq)                           # x_seq: T x N x ...
>>> mon.monitored_layers                     # e.g. ['sn1', 'sn2']
>>> mon["sn1"][0].shape                      # T x N x ... in step_mode='m'
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from torch import nn
from torch.utils.hooks import RemovableHandle

from ..neuron import BaseNode
from .base import BaseMonitor, InstanceSpec, _Hook, detached_copy, step_mode_of

Transform = Optional[Callable[[Any], Any]]


def check_callable(fn: Any, arg: str, owner: str) -> Transform:
    if fn is not None and not callable(fn):
        raise TypeError(f"{owner}: {arg} must be callable or None, e.g. lambda s: s.mean(), got {type(fn).__name__}")
    return fn


class _TransformMonitor(BaseMonitor):
    """A monitor that stores ``fn(detached value)`` (or the detached copy itself)."""

    _default_instance = (BaseNode,)

    def __init__(self, net: nn.Module, instance: Optional[InstanceSpec], fn: Transform, fn_arg: str,
                 to_cpu: bool):
        self.function = check_callable(fn, fn_arg, type(self).__name__)
        super().__init__(net, instance, to_cpu)

    def _store(self, name: str, module: nn.Module, value: Any) -> None:
        value = detached_copy(value, self.to_cpu)
        if self.function is not None:
            value = detached_copy(self.function(value), False)
        self._record(name, value, step_mode_of(module))


class OutputMonitor(_TransformMonitor):
    """Record the output of every submodule that is an instance of ``instance``.

    Args:
        net: the network.
        instance: a module class or tuple of classes (default: every ``BaseNode``, i.e. every
            spiking neuron).
        function_on_output: applied to a detached copy of each output before it is stored,
            e.g. ``lambda s: s.mean(0)``; None stores the copy itself.
        to_cpu: store the copies on the CPU.

    ``mon[name]`` is the list of outputs of layer ``name`` (one per forward call).
    """

    def __init__(self, net: nn.Module, instance: Optional[InstanceSpec] = None,
                 function_on_output: Transform = None, to_cpu: bool = False):
        super().__init__(net, instance, function_on_output, "function_on_output", to_cpu)
        self.enable()

    def _attach(self, name: str, module: nn.Module) -> list[RemovableHandle]:
        return [module.register_forward_hook(_Hook(self, "_on_output", name))]

    def _on_output(self, name: str, module: nn.Module, args: tuple, output: Any) -> None:
        self._store(name, module, output)


class InputMonitor(_TransformMonitor):
    """Record the input of every chosen submodule, as the module receives it (a forward pre-hook).

    A module called with one positional argument records that argument; with several, the
    tuple of them. Arguments: as ``OutputMonitor``, with ``function_on_input``.
    """

    def __init__(self, net: nn.Module, instance: Optional[InstanceSpec] = None,
                 function_on_input: Transform = None, to_cpu: bool = False):
        super().__init__(net, instance, function_on_input, "function_on_input", to_cpu)
        self.enable()

    def _attach(self, name: str, module: nn.Module) -> list[RemovableHandle]:
        return [module.register_forward_pre_hook(_Hook(self, "_on_input", name))]

    def _on_input(self, name: str, module: nn.Module, args: tuple) -> None:
        self._store(name, module, args[0] if len(args) == 1 else args)


class AttributeMonitor(_TransformMonitor):
    """Record ``module.<attribute_name>`` after every forward call of each chosen submodule.

    With ``pre_forward=True`` it is read before every call instead (the state the call starts from).
    E.g. ``AttributeMonitor("v", net)`` records each neuron's membrane potential after each
    call (the last step's in ``step_mode='m'``); ``AttributeMonitor("v_seq", net)`` records the
    whole ``T x N x ...`` trace of neurons built with ``store_v_seq=True`` (``MembraneMonitor``
    does both for you).

    Args:
        attribute_name: the attribute to read; every chosen module must have it.
        net, instance, to_cpu: as ``OutputMonitor``.
        function_on_attribute: applied to a detached copy of the value before it is stored.
        pre_forward: read the attribute before each call (a forward pre-hook) instead of after.
    """

    def __init__(self, attribute_name: str, net: nn.Module, instance: Optional[InstanceSpec] = None,
                 function_on_attribute: Transform = None, to_cpu: bool = False, pre_forward: bool = False):
        owner = type(self).__name__
        if not isinstance(attribute_name, str) or not attribute_name:
            raise TypeError(f"{owner}: attribute_name must be a non-empty str such as 'v', got {attribute_name!r}")
        if not isinstance(pre_forward, bool):
            raise TypeError(f"{owner}: pre_forward must be a bool (True: read the attribute before each call), "
                            f"got {type(pre_forward).__name__}")
        self.attribute_name = attribute_name
        self.pre_forward = pre_forward
        super().__init__(net, instance, function_on_attribute, "function_on_attribute", to_cpu)
        missing = [n for n, m in self._modules.items() if not hasattr(m, attribute_name)]
        if missing:
            raise ValueError(
                f"{owner}: the modules {missing} have no attribute {attribute_name!r}; "
                f"pick another attribute_name or narrow instance="
            )
        self.enable()

    def _attach(self, name: str, module: nn.Module) -> list[RemovableHandle]:
        if self.pre_forward:
            return [module.register_forward_pre_hook(_Hook(self, "_on_forward", name))]
        return [module.register_forward_hook(_Hook(self, "_on_forward", name))]

    def _on_forward(self, name: str, module: nn.Module, args: tuple, output: Any = None) -> None:
        value = getattr(module, self.attribute_name)
        if value is None and not self.pre_forward:
            hint = ""
            if self.attribute_name == "v_seq":
                hint = "; build the neuron with store_v_seq=True or use MembraneMonitor"
            raise ValueError(f"{type(self).__name__}: {name!r}.{self.attribute_name} is None after forward{hint}")
        self._store(name, module, value)


__all__ = ["AttributeMonitor", "InputMonitor", "OutputMonitor"]
