"""Stateful spiking neurons, SpikingJelly-style: ``LIFNode(tau=2., step_mode='m')``.

Every neuron except Izhikevich follows charge -> fire -> reset (see ``spikesmith.dynamics``).
"""

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
