"""SpikingJelly interoperability: ``from_spikingjelly(net)`` converts a built SpikingJelly network.

SpikingJelly itself is only needed to build the network you convert; this package does not import it.
"""

from .convert import from_spikingjelly

__all__ = ["from_spikingjelly"]
