"""SpikingJelly interoperability.

- ``from_spikingjelly(net)`` converts a built SpikingJelly network (SpikingJelly itself is needed only to
  build the network you convert);
- a module tree shaped like SpikingJelly's, with SpikingJelly's semantics on spikesmith:
  ``spikesmith.compat.spikingjelly.activation_based.{neuron, layer, functional, surrogate, monitor,
  encoding, learning, ann2snn, base}``, ``clock_driven.*`` (the old API) and ``visualizing``; the import
  switch ``spikingjelly.`` -> ``spikesmith.compat.spikingjelly.`` is the only change SpikingJelly code needs;
- ``load_spikingjelly_state_dict(model, path_or_state_dict)`` loads an SJ checkpoint (old and new names);
- ``STDPLearner`` / ``MSTDPLearner`` / ``MSTDPETLearner`` and ``Converter`` (``ann2snn``): SpikingJelly
  2.0's learners and converter, with its semantics;
- ``install_spikingjelly_alias()`` makes unmodified ``import spikingjelly...`` resolve to that tree.

A SpikingJelly module or name with no counterpart raises an error naming it and the nearest spikesmith module.
"""

from ._alias import install_spikingjelly_alias, spikingjelly_alias_installed, uninstall_spikingjelly_alias
from ._backend import SpikingJellyBackendNotice
from ._missing import install_missing_finder
from .ann2snn_converter import Converter, RateCodingRecipe
from .checkpoint import SpikingJellyLoad, load_spikingjelly_state_dict
from .convert import from_spikingjelly
from .stdp_learners import MSTDPETLearner, MSTDPLearner, STDPLearner

install_missing_finder()

__all__ = ["Converter", "MSTDPETLearner", "MSTDPLearner", "RateCodingRecipe", "STDPLearner", "SpikingJellyBackendNotice",
           "SpikingJellyLoad", "from_spikingjelly", "install_spikingjelly_alias", "load_spikingjelly_state_dict",
           "spikingjelly_alias_installed", "uninstall_spikingjelly_alias"]
