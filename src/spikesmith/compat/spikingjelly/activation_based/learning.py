"""SpikingJelly's ``activation_based.learning``: ``STDPLearner``, ``MSTDPLearner``, ``MSTDPETLearner`` with
SpikingJelly's semantics, from ``spikesmith.compat.spikingjelly.stdp_learners`` (imported on first use).

spikesmith's own STDP (``spikesmith.learning``) keeps its own design; this module is for SpikingJelly code.
"""

from __future__ import annotations

import importlib

_SOURCE = __name__.rsplit(".", 2)[0] + ".stdp_learners"
_NAMES = ("STDPLearner", "MSTDPLearner", "MSTDPETLearner", "stdp_linear_single_step", "stdp_conv2d_single_step",
          "stdp_conv1d_single_step", "stdp_multi_step", "mstdp_linear_single_step", "mstdpet_linear_single_step")


def __getattr__(name: str):
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        source = importlib.import_module(_SOURCE)
    except ImportError as error:
        if getattr(error, "name", None) != _SOURCE:
            raise
        raise ImportError(f"spikingjelly.activation_based.learning.{name} maps onto {_SOURCE}, which this spikesmith "
                          f"does not have; spikesmith's own STDP is spikesmith.learning") from None
    try:
        return getattr(source, name)
    except AttributeError:
        raise AttributeError(f"spikingjelly.activation_based.learning.{name} has no counterpart in {_SOURCE}; "
                             f"it provides STDPLearner, MSTDPLearner and MSTDPETLearner") from None


__all__ = list(_NAMES)
