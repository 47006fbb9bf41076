"""spikesmith: spiking neural networks on PyTorch."""

__version__ = "0.2.0"

from . import dynamics, functional, layer, metrics, monitor, neuron, surrogate  # noqa: E402
from ._config import is_debug, set_debug  # noqa: E402


def load(path, config: bool = False, map_location: str = "cpu", allow_nonfinite: bool = False):
    """The network of any checkpoint the project writes (trained, STDP, hybrid, converted), in eval mode.

    Read with ``torch.load(weights_only=True)``; ``config=True`` returns ``(net, config)``, the config
    of the run that wrote it. Its checksum is verified and its entries checked; weights holding NaN
    or Inf are refused unless ``allow_nonfinite=True``. See :mod:`spikesmith.loading` (imported on
    first use: it pulls in the training stack).
    """
    from .loading import load as _load

    return _load(path, config=config, map_location=map_location, allow_nonfinite=allow_nonfinite)


__all__ = ["dynamics", "functional", "is_debug", "layer", "load", "metrics", "monitor", "neuron", "set_debug", "surrogate"]
