"""Record what a network does through PyTorch hooks that can be taken off.

Monitors (all keyed by the qualified names of ``net.named_modules()``):

- ``OutputMonitor`` / ``InputMonitor``: outputs / inputs of chosen modules (default: spiking neurons).
- ``AttributeMonitor(attribute_name, net)``: e.g. ``'v'`` after each call (``pre_forward=True``: before).
- ``GradOutputMonitor`` / ``GradInputMonitor``: dL/d(output) / dL/d(input), in forward order.
- ``SpikeMonitor``: spikes, with ``firing_rates()`` and ``spike_counts()`` per layer or per neuron.
- ``MembraneMonitor``: membrane traces ``T x N x ...`` in both step modes.

Each records detached copies, ``disable()`` / ``enable()`` take the hooks off and put them
back (a disabled monitor costs nothing), ``remove_hooks()`` ends it, and ``with Monitor(net)
as mon:`` removes the hooks on exit. ``mon[name]`` is one layer's records, ``mon[i]`` the i-th record.

>>> with SpikeMonitor(net) as mon:
...     net(x_seq)
...     functional.reset_net(net)
>>> mon.firing_rates()
{'sn1': 0.25, 'sn2': 0.125}
"""

from .base import BaseMonitor
from .forward import AttributeMonitor, InputMonitor, OutputMonitor
from .grad import GradInputMonitor, GradOutputMonitor
from .membrane import MembraneMonitor
from .spikes import SpikeMonitor, firing_rate, spike_count

__all__ = [
    "AttributeMonitor", "BaseMonitor", "GradInputMonitor", "GradOutputMonitor", "InputMonitor", "MembraneMonitor", "OutputMonitor",
    "SpikeMonitor", "firing_rate", "spike_count",
]
