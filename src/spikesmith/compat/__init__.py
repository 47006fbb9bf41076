"""Bringing models and code from other frameworks (see ``docs/migration.md``).

- ``from_spikingjelly(net)``: a built SpikingJelly network -> a spikesmith network;
- ``spikesmith.compat.spikingjelly``: SpikingJelly's module tree on spikesmith (change ``spikingjelly.``
  into ``spikesmith.compat.spikingjelly.``), and ``install_spikingjelly_alias()`` so that unmodified
  ``import spikingjelly...`` code runs on it (``uninstall_spikingjelly_alias()`` undoes it).

SpikingJelly itself is never imported by this package.
"""

from .spikingjelly import from_spikingjelly, install_spikingjelly_alias, uninstall_spikingjelly_alias

__all__ = ["from_spikingjelly", "install_spikingjelly_alias", "uninstall_spikingjelly_alias"]
