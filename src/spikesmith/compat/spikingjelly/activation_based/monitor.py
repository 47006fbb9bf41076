"""SpikingJelly's ``activation_based.monitor``: spikesmith's monitors with SpikingJelly's arguments.

``OutputMonitor(net, instance=None, function_on_output=...)``, ``InputMonitor``, ``AttributeMonitor(
attribute_name, pre_forward, net, instance=None, function_on_attribute=...)``, ``GradInputMonitor``,
``GradOutputMonitor``. As in SpikingJelly, ``instance=None`` watches the modules of ``net``'s own class
(pass ``instance=neuron.IFNode`` to watch neurons); ``mon[i]`` is the i-th record, ``mon['name']`` the
records of one layer, ``mon.records`` all of them.

Differences that remain: records are detached copies (SpikingJelly keeps the tensors themselves, graph
included: compute a loss from the network's outputs, not from a monitor), and the gradient monitors keep a
layer's records in forward order (SpikingJelly: the order backward visits them, the reverse for
single-step calls).
"""

from __future__ import annotations

from .... import monitor as _sf


def _instance(net, instance):
    return type(net) if instance is None else instance


class _Close:
    def close(self) -> None:
        """Take the hooks off for good (SpikingJelly's name for ``remove_hooks``)."""
        self.remove_hooks()


class OutputMonitor(_Close, _sf.OutputMonitor):
    def __init__(self, net, instance=None, function_on_output=None):
        super().__init__(net, _instance(net, instance), function_on_output)


class InputMonitor(_Close, _sf.InputMonitor):
    def __init__(self, net, instance=None, function_on_input=None):
        super().__init__(net, _instance(net, instance), function_on_input)


class AttributeMonitor(_Close, _sf.AttributeMonitor):
    def __init__(self, attribute_name: str, pre_forward: bool, net, instance=None, function_on_attribute=None):
        super().__init__(attribute_name, net, _instance(net, instance), function_on_attribute,
                         pre_forward=bool(pre_forward))


class GradInputMonitor(_Close, _sf.GradInputMonitor):
    def __init__(self, net, instance=None, function_on_grad_input=None):
        super().__init__(net, _instance(net, instance), function_on_grad_input)


class GradOutputMonitor(_Close, _sf.GradOutputMonitor):
    def __init__(self, net, instance=None, function_on_grad_output=None):
        super().__init__(net, _instance(net, instance), function_on_grad_output)


BaseMonitor = _sf.BaseMonitor

__all__ = ["AttributeMonitor", "BaseMonitor", "GradInputMonitor", "GradOutputMonitor", "InputMonitor",
           "OutputMonitor"]
