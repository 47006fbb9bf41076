"""snnTorch code on spikesmith: ``import snntorch as snn`` becomes ``import spikesmith.compat.snntorch as snn``.

The neurons (``Leaky``, ``Synaptic``, ``RLeaky``, ``RSynaptic``, ``Alpha``, ``Lapicque``), ``spikegen``,
``surrogate``, ``utils.reset`` and the rate losses of ``functional`` follow snnTorch 1.0 exactly: a strict
``>`` threshold, the reset subtracted at the next step without decay, snnTorch's arguments, defaults,
``state_dict`` names and return values. ``from_snntorch(net)`` swaps the snnTorch neurons inside a built
network for these. See ``docs/migration.md`` for the names and the few differences.

snnTorch itself is not imported. ``install_snntorch_alias()`` makes ``import snntorch`` give this package,
so unmodified snnTorch scripts run on spikesmith.
"""

from . import functional, spikegen, surrogate, utils
from .alias import install_snntorch_alias, snntorch_alias_installed, uninstall_snntorch_alias
from .convert import from_snntorch
from .alpha import Alpha
from .lapicque import Lapicque
from .leaky import Leaky
from .neuron import LIF, SpikingNeuron
from .rleaky import RLeaky
from .rsynaptic import RSynaptic
from .synaptic import Synaptic

__all__ = ["Alpha", "LIF", "Lapicque", "Leaky", "RLeaky", "RSynaptic", "SpikingNeuron", "Synaptic", "from_snntorch",
           "functional", "install_snntorch_alias", "snntorch_alias_installed", "spikegen", "surrogate",
           "uninstall_snntorch_alias", "utils"]
