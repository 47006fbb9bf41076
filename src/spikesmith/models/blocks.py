"""Building blocks shared by the reference models: neurons and activations by name.

Every model is built twice from one layer list: as an SNN (step-mode layers in ``'m'`` mode
and spiking neurons) and as its ANN twin (plain torch layers and an activation in place of
each neuron). Both have the same ``state_dict`` keys for the weights.
"""

from __future__ import annotations

from functools import partial
from typing import Callable

from torch import nn

from ..neuron import NEURONS  # noqa: F401  (re-exported: spikesmith.models.NEURONS)
from .activations import QCFS, ClipReLU
from .neuron_spec import NeuronSpec

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "clip": lambda: nn.Hardtanh(0.0, 1.0),
    "tcl": ClipReLU,                        # clamp(x, 0, lambda), lambda learned (starts at 1)
    "qcfs": QCFS,                           # Bu et al. 2022, L = 4 levels, lambda learned
    "qcfs8": partial(QCFS, levels=8),       # L = 8 levels
}


def make_neuron(name: str, surrogate: str | None = None, **kwargs) -> nn.Module:
    """A multi-step neuron by its registered name (``if``, ``lif``, ``plif``, ``alif``, ...) and its
    constructor arguments, checked by :class:`~spikesmith.models.neuron_spec.NeuronSpec`."""
    if surrogate is not None:
        kwargs["surrogate_function"] = surrogate
    return NeuronSpec(name, kwargs).build()


def make_activation(name: str) -> nn.Module:
    """The ANN twin's activation by name (``relu``, ``clip``, ``tcl``, ``qcfs``, ``qcfs8``)."""
    key = name.lower()
    if key not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; known activations: {', '.join(sorted(ACTIVATIONS))}")
    return ACTIVATIONS[key]()


def forward_static_prefix(layers, x_seq):
    """Run ``layers`` on ``x_seq`` (``T x N x ...``), computing the leading stateless layers once
    when every time step is the same tensor (a direct-encoded input: ``x_seq.stride(0) == 0``).

    The outputs equal running every layer on the full sequence (batch-norm's batch mean and
    biased variance over T identical copies are those of one copy), at 1/T of the cost for that
    prefix. Only BN's running variance differs slightly: its unbiased correction uses N*H*W
    values instead of T*N*H*W.
    """
    from ..module import MemoryModule

    T = x_seq.shape[0]
    static = x_seq.dim() > 1 and x_seq.stride(0) == 0 and T > 1
    for module in layers:
        if static and not isinstance(module, MemoryModule):
            y = module(x_seq[:1])
            x_seq = y.expand(T, *y.shape[1:])
            continue
        static = False
        x_seq = module(x_seq)
    return x_seq


class TwinSequential(nn.Sequential):
    """A layer list built either as an SNN or as its ANN twin (``is_ann``).

    The SNN computes its leading stateless layers once for a direct-encoded input
    (``forward_static_prefix``); the ANN runs as a plain ``nn.Sequential``.
    """

    def __init__(self, *layers: nn.Module, ann: bool):
        super().__init__(*layers)
        self.is_ann = ann

    def forward(self, x):
        return super().forward(x) if self.is_ann else forward_static_prefix(self, x)
