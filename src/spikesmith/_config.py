"""Process-wide switches (only the debug check for now).

The debug check is off by default so the fast path pays nothing. Turn it on with
``spikesmith.set_debug(True)`` or by setting the environment variable ``SPIKESMITH_DEBUG=1``
before importing spikesmith.
"""

from __future__ import annotations

import os

_DEBUG = os.environ.get("SPIKESMITH_DEBUG", "").strip().lower() in {"1", "true", "yes", "on"}


def set_debug(enabled: bool = True) -> None:
    """Check every neuron input for NaN/Inf (and name the layer) when ``enabled``."""
    global _DEBUG
    _DEBUG = bool(enabled)


def is_debug() -> bool:
    """Whether the NaN/Inf check of neuron inputs is on."""
    return _DEBUG
