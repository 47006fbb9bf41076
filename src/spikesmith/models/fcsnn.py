"""FCSNN: the two-layer fully connected LIF network of the seed tutorial.

784 -> hidden -> classes, LIF neurons (tau=2), rate-coded output; with Poisson input this is
SpikingJelly's clock-driven ``lif_fc_mnist`` example with a hidden layer.

SNN input ``T x N x C x H x W`` (or ``T x N x features``), output spikes ``T x N x classes``.
ANN twin (``ann=True``): input ``N x ...``, output logits ``N x classes``.
"""

from __future__ import annotations

import math

from torch import nn

from .. import layer
from .blocks import TwinSequential, make_activation, make_neuron, neuron_kwargs


class FCSNN(TwinSequential):
    """Flatten -> Linear(in, hidden) -> neuron -> Linear(hidden, classes) -> neuron (``readout='spike'``)
    or the last Linear's output per step (``readout='membrane'``)."""

    def __init__(
        self,
        in_shape: tuple[int, ...] = (1, 28, 28),
        num_classes: int = 10,
        hidden: int = 196,
        neuron: str = "lif",
        surrogate: str | None = "atan",
        tau: float = 2.0,
        readout: str = "spike",
        detach_reset: bool = True,
        ann: bool = False,
        activation: str = "relu",
    ):
        if readout not in ("spike", "membrane"):
            raise ValueError(f"FCSNN: readout must be 'spike' or 'membrane', got {readout!r}")
        in_features = math.prod(in_shape)
        if ann:
            super().__init__(
                nn.Flatten(),
                nn.Linear(in_features, hidden, bias=False),
                make_activation(activation),
                nn.Linear(hidden, num_classes, bias=False),
                ann=True,
            )
        else:
            kw = {**neuron_kwargs(neuron, tau), "detach_reset": detach_reset}
            layers = [
                layer.Flatten(step_mode="m"),
                layer.Linear(in_features, hidden, bias=False, step_mode="m"),
                make_neuron(neuron, surrogate, **kw),
                layer.Linear(hidden, num_classes, bias=False, step_mode="m"),
            ]
            if readout == "spike":
                layers.append(make_neuron(neuron, surrogate, **kw))
            super().__init__(*layers, ann=False)
