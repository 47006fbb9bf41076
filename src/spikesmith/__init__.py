"""spikesmith: spiking neural networks on PyTorch."""

__version__ = "0.2.0"

from . import dynamics, functional, layer, monitor, neuron, surrogate  # noqa: E402
from ._config import is_debug, set_debug  # noqa: E402

__all__ = ["dynamics", "functional", "is_debug", "layer", "monitor", "neuron", "set_debug", "surrogate"]
