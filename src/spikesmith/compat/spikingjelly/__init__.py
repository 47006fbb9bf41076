"""SpikingJelly interoperability.

- ``from_spikingjelly(net)`` converts a built SpikingJelly network (in place inside your own module class);
- ``load_spikingjelly_state_dict(model, path_or_state_dict)`` loads an SJ checkpoint (old and new names);
- ``STDPLearner`` / ``MSTDPLearner`` / ``MSTDPETLearner``: SpikingJelly 2.0's learners, its semantics;
- ``Converter``: SpikingJelly's ``ann2snn.Converter`` (ReLU -> IF neurons with soft reset, scaled).

SpikingJelly itself is only needed to build the network you convert; this package does not import it.
"""

from .ann2snn_converter import Converter, RateCodingRecipe
from .checkpoint import SpikingJellyLoad, load_spikingjelly_state_dict
from .convert import from_spikingjelly
from .stdp_learners import MSTDPETLearner, MSTDPLearner, STDPLearner

__all__ = ["Converter", "RateCodingRecipe", "from_spikingjelly", "load_spikingjelly_state_dict", "SpikingJellyLoad",
           "MSTDPETLearner", "MSTDPLearner", "STDPLearner"]
