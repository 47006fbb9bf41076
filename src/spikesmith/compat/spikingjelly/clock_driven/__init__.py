"""SpikingJelly's old API, ``spikingjelly.clock_driven`` (SpikingJelly 0.0.0.0.x), on spikesmith.

What research code pinned to it uses: ``neuron.MultiStepLIFNode`` / ``MultiStepParametricLIFNode`` /
``MultiStepIFNode`` (whole sequences ``[T, N, ...]``, ``backend='cupy'`` mapped onto our fused kernels with
one notice), the single-step ``IFNode`` / ``LIFNode`` / ``ParametricLIFNode`` and ``BaseNode`` for custom
neurons, ``layer.SeqToANNContainer`` / ``MultiStepContainer`` around plain torch layers, ``functional.reset_net``,
``surrogate``, ``encoding`` and ``base``: the same modules as ``activation_based``'s.
"""

from . import base, encoding, functional, layer, neuron, surrogate

__all__ = ["base", "encoding", "functional", "layer", "neuron", "surrogate"]
