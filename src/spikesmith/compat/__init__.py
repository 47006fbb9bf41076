"""Bringing models from other frameworks: ``from_spikingjelly(net)`` (see ``docs/migration.md``).

SpikingJelly itself is only needed to build the network you convert; this package does not import it.
"""

from .spikingjelly import from_spikingjelly

__all__ = ["from_spikingjelly"]
