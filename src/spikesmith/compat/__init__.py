"""Bringing models from other frameworks (see ``docs/migration.md``).

- ``from_spikingjelly(net)``: a built SpikingJelly network -> spikesmith modules (your own classes kept);
- ``load_spikingjelly_state_dict(model, path_or_state_dict)``: SpikingJelly checkpoints, old and new names;
- ``STDPLearner`` / ``MSTDPLearner`` / ``MSTDPETLearner``: SpikingJelly 2.0's learners, its semantics;
- ``Converter``: SpikingJelly's ``ann2snn.Converter``.

SpikingJelly itself is only needed to build the network you convert; this package does not import it.
"""

from .spikingjelly import (
    Converter,
    RateCodingRecipe,
    MSTDPETLearner,
    MSTDPLearner,
    SpikingJellyLoad,
    STDPLearner,
    from_spikingjelly,
    load_spikingjelly_state_dict,
)

__all__ = ["Converter", "RateCodingRecipe", "from_spikingjelly", "load_spikingjelly_state_dict", "SpikingJellyLoad",
           "MSTDPETLearner", "MSTDPLearner", "STDPLearner"]
