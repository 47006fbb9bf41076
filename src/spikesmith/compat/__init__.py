"""Bringing models and code from other frameworks (see ``docs/migration.md``).

- ``from_spikingjelly(net)``: a built SpikingJelly network -> a spikesmith network;
- ``spikesmith.compat.spikingjelly``: SpikingJelly's module tree on spikesmith (change ``spikingjelly.``
  into ``spikesmith.compat.spikingjelly.``), and ``install_spikingjelly_alias()`` so that unmodified
  ``import spikingjelly...`` code runs on it (``uninstall_spikingjelly_alias()`` undoes it);
- ``load_spikingjelly_state_dict(model, path_or_state_dict)``: SpikingJelly checkpoints, old and new names;
- ``STDPLearner`` / ``MSTDPLearner`` / ``MSTDPETLearner`` and ``Converter``: SpikingJelly 2.0's
  learners and ``ann2snn.Converter``, with its semantics;
- ``from_snntorch(net)`` and ``spikesmith.compat.snntorch`` (snnTorch's API with its exact semantics),
  and ``install_snntorch_alias()`` likewise.

Neither SpikingJelly nor snnTorch is ever imported by this package.
"""

from .snntorch.alias import install_snntorch_alias, uninstall_snntorch_alias
from .snntorch.convert import from_snntorch
from .spikingjelly import (
    Converter,
    MSTDPETLearner,
    MSTDPLearner,
    RateCodingRecipe,
    SpikingJellyLoad,
    STDPLearner,
    from_spikingjelly,
    install_spikingjelly_alias,
    load_spikingjelly_state_dict,
    uninstall_spikingjelly_alias,
)

__all__ = ["Converter", "MSTDPETLearner", "MSTDPLearner", "RateCodingRecipe", "STDPLearner", "SpikingJellyLoad",
           "from_snntorch", "from_spikingjelly", "install_snntorch_alias", "install_spikingjelly_alias",
           "load_spikingjelly_state_dict", "uninstall_snntorch_alias", "uninstall_spikingjelly_alias"]
