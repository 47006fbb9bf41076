"""FCSNN: the two-layer fully connected LIF network of the seed tutorial.

784 -> hidden -> classes, LIF neurons, rate-coded output; with Poisson input this is
SpikingJelly's clock-driven ``lif_fc_mnist`` example with a hidden layer.

SNN input ``T x N x C x H x W`` (or ``T x N x features``), output ``T x N x classes``: spikes
(``readout='spike'``) or the last Linear's output per step (``readout='membrane'``).
ANN twin (``ann=True``): input ``N x ...``, output logits ``N x classes``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from torch import nn

from .. import layer
from .blocks import TwinSequential, make_activation
from .options import READOUTS, ModelInput, SpikingOptions, option
from .registry import MODELS


@dataclass
class FCSNNConfig(SpikingOptions):
    hidden: int = option(196, "hidden layer width")
    readout: str = option("membrane", "end in a spiking neuron (spike) or in the last Linear's output (membrane)",
                          READOUTS)

    def __post_init__(self):
        super().__post_init__()
        self.check(self.hidden >= 1, "hidden must be >= 1")

    def arguments(self, data: ModelInput) -> dict:
        return {"in_shape": data.step_shape, "num_classes": data.num_classes, "hidden": self.hidden,
                "readout": self.readout, **self.neuron_options()}


_D = FCSNNConfig


@MODELS.register("fcsnn", config=FCSNNConfig)
class FCSNN(TwinSequential):
    """Flatten -> Linear(in, hidden) -> neuron -> Linear(hidden, classes) [-> neuron if ``readout='spike'``]."""

    def __init__(
        self,
        in_shape: tuple[int, ...] = (1, 28, 28),
        num_classes: int = 10,
        hidden: int = _D.hidden,
        neuron: str = _D.neuron,
        surrogate: Optional[str] = _D.surrogate,
        tau: Optional[float] = _D.tau,
        readout: str = _D.readout,
        detach_reset: bool = _D.detach_reset,
        ann: bool = False,
        activation: str = "relu",
    ):
        options = FCSNNConfig(hidden=hidden, readout=readout, neuron=neuron, surrogate=surrogate, tau=tau,
                              detach_reset=detach_reset)
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
            spec = options.neuron_spec()
            layers = [
                layer.Flatten(step_mode="m"),
                layer.Linear(in_features, hidden, bias=False, step_mode="m"),
                spec.build(),
                layer.Linear(hidden, num_classes, bias=False, step_mode="m"),
            ]
            if readout == "spike":
                layers.append(spec.build())
            super().__init__(*layers, ann=False)
