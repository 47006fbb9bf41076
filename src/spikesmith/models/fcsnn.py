"""FCSNN: the fully connected LIF network of the seed tutorial.

784 -> hidden -> classes, LIF neurons, rate-coded output; with Poisson input this is
SpikingJelly's clock-driven ``lif_fc_mnist`` example with a hidden layer. ``depth`` stacks more
hidden layers of the same width (784 -> hidden -> ... -> hidden -> classes).

SNN input ``T x N x C x H x W`` (or ``T x N x features``), output ``T x N x classes``: spikes
(``readout='spike'``) or the last Linear's output per step (``readout='membrane'``).
ANN twin (``ann=True``): input ``N x ...``, output logits ``N x classes``.

``delays`` (``fixed`` or ``learnable``, up to ``max_delay`` steps) gives each hidden layer's input
synapses a delay each (``models.delays``); the readout stays a plain Linear. Delays need a temporal
input ``T x N x features`` with T > max_delay, and have no ANN twin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from torch import nn

from .. import layer
from ..learning.feedback import FEEDBACK_PLANS, FeedbackPlan
from .blocks import TwinSequential, make_activation
from .delays import delay_synapse, refuse_delays_for_feedback
from .options import READOUTS, DelayOptions, ModelInput, SpikingOptions, option
from .registry import MODELS


@dataclass
class FCSNNConfig(DelayOptions, SpikingOptions):
    hidden: int = option(196, "hidden layer width")
    depth: int = option(1, "number of hidden layers, each hidden wide")
    readout: str = option("membrane", "end in a spiking neuron (spike) or in the last Linear's output (membrane)",
                          READOUTS)

    def __post_init__(self):
        super().__post_init__()
        self.check(self.hidden >= 1, "hidden must be >= 1")
        self.check(isinstance(self.depth, int) and not isinstance(self.depth, bool) and self.depth >= 1,
                   f"depth must be a positive int (the number of hidden layers), got {self.depth!r}")

    def _depth_argument(self) -> dict:
        """``depth`` only when it is not the default: the arguments of a one-layer network stay those
        its checkpoints stored before ``depth`` existed (a resume compares them)."""
        return {} if self.depth == type(self).depth else {"depth": self.depth}

    def arguments(self, data: ModelInput) -> dict:
        return {"in_shape": data.step_shape, "num_classes": data.num_classes, "hidden": self.hidden,
                **self._depth_argument(), "readout": self.readout, **self.neuron_options(),
                **self.delay_arguments(data)}


_D = FCSNNConfig


@MODELS.register("fcsnn", config=FCSNNConfig)
class FCSNN(TwinSequential):
    """Flatten -> (Linear -> neuron) x depth -> Linear(hidden, classes) [-> neuron if ``readout='spike'``]."""

    def __init__(
        self,
        in_shape: tuple[int, ...] = (1, 28, 28),
        num_classes: int = 10,
        hidden: int = _D.hidden,
        depth: int = _D.depth,
        neuron: str = _D.neuron,
        surrogate: Optional[str] = _D.surrogate,
        tau: Optional[float] = _D.tau,
        readout: str = _D.readout,
        detach_reset: bool = _D.detach_reset,
        ann: bool = False,
        activation: str = "relu",
        delays: str = _D.delays,
        max_delay: int = _D.max_delay,
    ):
        options = FCSNNConfig(hidden=hidden, depth=depth, readout=readout, neuron=neuron, surrogate=surrogate, tau=tau,
                              detach_reset=detach_reset, delays=delays, max_delay=max_delay)
        if ann and delays != "none":
            raise ValueError(f"FCSNN: delays={delays!r} has no ANN twin (its ANN sees one static input); train the "
                             f"spiking network, or use delays='none' for the twin")
        widths = [math.prod(in_shape)] + [hidden] * depth
        if ann:
            hidden_layers = [m for a, b in zip(widths, widths[1:])
                             for m in (nn.Linear(a, b, bias=False), make_activation(activation))]
            super().__init__(nn.Flatten(), *hidden_layers, nn.Linear(hidden, num_classes, bias=False), ann=True)
        else:
            spec = options.neuron_spec()
            hidden_layers = [m for a, b in zip(widths, widths[1:])
                             for m in (delay_synapse(delays, a, b, max_delay), spec.build())]
            layers = [layer.Flatten(step_mode="m"), *hidden_layers,
                      layer.Linear(hidden, num_classes, bias=False, step_mode="m")]
            if readout == "spike":
                layers.append(spec.build())
            super().__init__(*layers, ann=False)


@FEEDBACK_PLANS.register(FCSNN)
def _fcsnn_feedback(model: FCSNN) -> FeedbackPlan:
    """Every Linear carries the error down; each hidden layer's neuron (activation) output gets DFA's."""
    refuse_delays_for_feedback(model)
    children = list(model)
    linears = [i for i, m in enumerate(children) if isinstance(m, nn.Linear)]
    return FeedbackPlan(routes=[children[i] for i in linears], hidden=[(children[i + 1], children[i].out_features) for i in linears[:-1]],
                        num_classes=children[linears[-1]].out_features)

