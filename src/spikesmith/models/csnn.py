"""CSNN: the convolutional SNN of the PLIF paper (Fang et al., ICCV 2021) for Fashion-MNIST.

    {Conv3x3 - BN - neuron - Pool2} x 2 -> AdaptiveAvgPool(7x7) -> Flatten
    -> Linear(C*7*7, C*4*4) -> neuron -> Linear(C*4*4, classes) -> readout

The adaptive pooling lets any input size work (event frames are 2 x 34 x 34 or larger).
``pool='avg'`` gives a network neuromorphic hardware can run. ``readout='spike'`` ends in a
spiking neuron (rate-coded output); ``readout='membrane'`` ends in the last Linear's output per
step (the membrane input of a non-leaky readout), whose mean over T are the logits.
The paper's network is ``channels=128, neuron='plif', readout='spike'``; the defaults are
those ``spikesmith train`` has always used (32 channels, LIF, membrane readout).

SNN input ``T x N x C x H x W``, output ``T x N x classes``. ANN twin: ``N x C x H x W`` -> logits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Optional

from torch import nn

from .. import layer
from .blocks import TwinSequential, make_activation
from .options import POOLS, READOUTS, ModelInput, SpikingOptions, option
from .registry import MODELS


@dataclass
class CSNNConfig(SpikingOptions):
    default_encoder: ClassVar[str] = "direct"
    # NCHW: a training step in channels_last ran at 0.76x and 0.77x the speed (530.2 vs 691.3 ms: batch 64, 1
    # thread, load 10; bench_convnet.py --models csnn, bench/results/layout_defaults/bench_convnet_models.txt)
    run_defaults: ClassVar[dict] = {"channels_last": False}

    channels: int = option(32, "channels of both conv layers (the hidden Linear has 16x as many units)")
    pool: str = option("max", "avg runs on neuromorphic hardware", POOLS)
    readout: str = option("membrane", "end in a spiking neuron (spike) or in the last Linear's output (membrane)",
                          READOUTS)
    dropout: float = option(0.0, "dropout before each Linear (the same mask over T)")

    def __post_init__(self):
        super().__post_init__()
        self.check(self.channels >= 1, "channels must be >= 1")
        self.check(0 <= self.dropout < 1, "dropout must be in [0, 1)")

    def arguments(self, data: ModelInput) -> dict:
        return {"in_channels": data.step_shape[0], "num_classes": data.num_classes, "channels": self.channels,
                "pool": self.pool, "readout": self.readout, "dropout": self.dropout, **self.neuron_options()}


_D = CSNNConfig


@MODELS.register("csnn", config=CSNNConfig)
class CSNN(TwinSequential):
    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        channels: int = _D.channels,
        pool: str = _D.pool,
        neuron: str = _D.neuron,
        surrogate: Optional[str] = _D.surrogate,
        tau: Optional[float] = _D.tau,
        readout: str = _D.readout,
        detach_reset: bool = _D.detach_reset,
        dropout: float = _D.dropout,
        ann: bool = False,
        activation: str = "relu",
    ):
        options = CSNNConfig(channels=channels, pool=pool, readout=readout, dropout=dropout, neuron=neuron,
                             surrogate=surrogate, tau=tau, detach_reset=detach_reset)
        spec = options.neuron_spec()
        c, hidden = channels, channels * 16
        lib = nn if ann else layer
        mode = {} if ann else {"step_mode": "m"}

        def act():
            return make_activation(activation) if ann else spec.build()

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
