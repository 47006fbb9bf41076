"""Stateful spiking neurons, SpikingJelly-style: ``LIFNode(tau=2., step_mode='m')``.

Every neuron except Izhikevich follows charge -> fire -> reset (see ``spikesmith.dynamics``).

Every module of this package is imported, and every neuron class registered in ``NEURONS`` is
exported from it: a new neuron is one module that registers its class (``@NEURONS.register``).
"""

import importlib as _importlib
import pkgutil as _pkgutil

from .adaptive import AdaptiveLIFNode
from .base import BACKENDS, BaseNode
from .cuba import CubaLIFNode, CubaLINode
from .integrate_fire import IFNode
from .izhikevich import IzhikevichNode
from .lif import LIFNode, ParametricLIFNode
from .nonspiking import IntegratorNode, NonSpikingLIFNode
from .registry import NEURONS, time_constant_argument

__all__ = [
    "AdaptiveLIFNode", "BACKENDS", "BaseNode", "CubaLIFNode", "CubaLINode", "IFNode", "IntegratorNode", "IzhikevichNode", "LIFNode",
    "NEURONS", "NonSpikingLIFNode", "ParametricLIFNode", "time_constant_argument",
]

for _module in _pkgutil.iter_modules(__path__):
    _importlib.import_module(f"{__name__}.{_module.name}")
for _cls in NEURONS.values():
    if _cls.__name__ not in globals():
        globals()[_cls.__name__] = _cls
        __all__.append(_cls.__name__)
