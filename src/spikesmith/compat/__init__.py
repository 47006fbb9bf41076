"""Bringing models from other frameworks: ``from_spikingjelly(net)``, ``from_snntorch(net)`` (see
``docs/migration.md``).

SpikingJelly itself is only needed to build the network you convert; this package does not import it;
likewise snnTorch (``spikesmith.compat.snntorch`` mirrors its API).
"""

from .snntorch.alias import install_snntorch_alias, uninstall_snntorch_alias
from .snntorch.convert import from_snntorch
from .spikingjelly import from_spikingjelly

__all__ = ["from_snntorch", "from_spikingjelly", "install_snntorch_alias", "uninstall_snntorch_alias"]
