"""snnTorch code on spikesmith: ``import snntorch as snn`` becomes ``import spikesmith.compat.snntorch as snn``.

The neurons (``Leaky``, ``Synaptic``, ``RLeaky``, ``RSynaptic``, ``Alpha``, ``Lapicque``), ``spikegen``,
``surrogate``, ``utils.reset`` and the rate losses of ``functional`` follow snnTorch 1.0 exactly: a strict
``>`` threshold, the reset subtracted at the next step without decay, snnTorch's arguments, defaults,
``state_dict`` names and return values. ``from_snntorch(net)`` swaps the snnTorch neurons inside a built
network for these. See ``docs/migration.md`` for the names and the few differences.

snnTorch itself is not imported (``from_snntorch`` imports it only to recognise its modules).
"""

from . import functional, spikegen, surrogate, utils
from .convert import from_snntorch
from .alpha import Alpha
from .lapicque import Lapicque
from .leaky import Leaky
from .neuron import LIF, SpikingNeuron
from .rleaky import RLeaky
from .rsynaptic import RSynaptic
from .synaptic import Synaptic

__all__ = ["Alpha", "LIF", "Lapicque", "Leaky", "RLeaky", "RSynaptic", "SpikingNeuron", "Synaptic", "from_snntorch", "functional",
           "spikegen", "surrogate", "utils"]
