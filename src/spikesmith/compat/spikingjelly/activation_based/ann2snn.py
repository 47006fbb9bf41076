"""SpikingJelly's ``activation_based.ann2snn``: ``Converter(dataloader, mode='max' | '99.9%' | float)`` with
SpikingJelly's semantics, from ``spikesmith.compat.spikingjelly.ann2snn_converter`` (imported on first use).

spikesmith's own conversion is ``spikesmith.conversion``.
"""

from __future__ import annotations

import importlib

_SOURCE = __name__.rsplit(".", 2)[0] + ".ann2snn_converter"


def __getattr__(name: str):
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        source = importlib.import_module(_SOURCE)
    except ImportError as error:
        if getattr(error, "name", None) != _SOURCE:
            raise
        raise ImportError(f"spikingjelly.activation_based.ann2snn.{name} maps onto {_SOURCE}, which this spikesmith "
                          f"does not have; spikesmith's own ANN-to-SNN conversion is spikesmith.conversion") from None
    try:
        return getattr(source, name)
    except AttributeError:
        raise AttributeError(f"spikingjelly.activation_based.ann2snn.{name} has no counterpart in {_SOURCE}; use "
                             f"Converter, or spikesmith.conversion") from None

