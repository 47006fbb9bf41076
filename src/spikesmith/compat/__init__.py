"""Bringing models and code from other frameworks (see ``docs/migration.md``).

- ``from_spikingjelly(net)``: a built SpikingJelly network -> a spikesmith network;
- ``spikesmith.compat.spikingjelly``: SpikingJelly's module tree on spikesmith (change ``spikingjelly.``
  into ``spikesmith.compat.spikingjelly.``), and ``install_spikingjelly_alias()`` so that unmodified
  ``import spikingjelly...`` code runs on it (``uninstall_spikingjelly_alias()`` undoes it);
- ``from_snntorch(net)`` and ``spikesmith.compat.snntorch`` (snnTorch's API with its exact semantics),
  and ``install_snntorch_alias()`` likewise.

Neither SpikingJelly nor snnTorch is ever imported by this package.
"""

from .snntorch.alias import install_snntorch_alias, uninstall_snntorch_alias
from .snntorch.convert import from_snntorch
from .spikingjelly import from_spikingjelly, install_spikingjelly_alias, uninstall_spikingjelly_alias

__all__ = ["from_snntorch", "from_spikingjelly", "install_snntorch_alias", "install_spikingjelly_alias",
           "uninstall_snntorch_alias", "uninstall_spikingjelly_alias"]
