"""CSNN: the convolutional SNN of the PLIF paper (Fang et al., ICCV 2021) for Fashion-MNIST.

    {Conv3x3 - BN - neuron - Pool2} x 2 -> AdaptiveAvgPool(7x7) -> Flatten
    -> Linear(C*7*7, C*4*4) -> neuron -> Linear(C*4*4, classes) -> readout

The adaptive pooling lets any input size work (event frames are 2 x 34 x 34 or larger).
``pool='avg'`` gives a network neuromorphic hardware can run. ``readout='spike'`` ends in a
spiking neuron (rate-coded output); ``readout='membrane'`` ends in the last Linear's output per
step (the membrane input of a non-leaky readout), whose mean over T are the logits.

SNN input ``T x N x C x H x W``, output ``T x N x classes``. ANN twin: ``N x C x H x W`` -> logits.
"""

from __future__ import annotations

from torch import nn

from .. import layer
from .blocks import TwinSequential, make_activation, make_neuron, neuron_kwargs


class CSNN(TwinSequential):
    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        channels: int = 128,
        pool: str = "max",
        neuron: str = "plif",
        surrogate: str | None = "atan",
        tau: float = 2.0,
        readout: str = "spike",
        detach_reset: bool = True,
        dropout: float = 0.0,
        ann: bool = False,
        activation: str = "relu",
    ):
        if pool not in ("max", "avg"):
            raise ValueError(f"CSNN: pool must be 'max' or 'avg', got {pool!r}")
        if readout not in ("spike", "membrane"):
            raise ValueError(f"CSNN: readout must be 'spike' or 'membrane', got {readout!r}")
        c, hidden = channels, channels * 16
        lib = nn if ann else layer
        mode = {} if ann else {"step_mode": "m"}

        def act():
            if ann:
                return make_activation(activation)
            return make_neuron(neuron, surrogate, detach_reset=detach_reset, **neuron_kwargs(neuron, tau))

        def pool2():
            return lib.MaxPool2d(2, 2, **mode) if pool == "max" else lib.AvgPool2d(2, 2, **mode)

        layers = [
            lib.Conv2d(in_channels, c, 3, padding=1, bias=False, **mode), lib.BatchNorm2d(c, **mode), act(), pool2(),
            lib.Conv2d(c, c, 3, padding=1, bias=False, **mode), lib.BatchNorm2d(c, **mode), act(), pool2(),
            lib.AdaptiveAvgPool2d((7, 7), **mode), lib.Flatten(**mode),
        ]
        if dropout > 0:
            layers.append(nn.Dropout(dropout) if ann else layer.Dropout(dropout, step_mode="m"))
        layers += [lib.Linear(c * 49, hidden, bias=False, **mode), act()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout) if ann else layer.Dropout(dropout, step_mode="m"))
        layers.append(lib.Linear(hidden, num_classes, bias=False, **mode))
        if readout == "spike" and not ann:
            layers.append(act())
        super().__init__(*layers, ann=ann)
