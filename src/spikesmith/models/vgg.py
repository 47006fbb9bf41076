"""Spiking VGG builders (and their ANN twins) for larger inputs.

    features:   [Conv3x3 - BN - neuron] x n, Pool2 between stages (ceil mode, so small inputs work)
    classifier: AdaptiveAvgPool(1) - Flatten - Linear(C, classes) [- neuron with readout='spike']

``spiking_vgg('vgg11', width=0.25)`` scales every stage's channels; ``pool='avg'`` keeps the
network convertible/hardware friendly. SNN input ``T x N x C x H x W`` -> ``T x N x classes``.
"""

from __future__ import annotations

from typing import Sequence, Union

from torch import nn

from .. import layer
from .blocks import TwinSequential, make_activation, make_neuron, neuron_kwargs

CONFIGS: dict[str, list] = {
    "vgg5": [64, "P", 128, 128, "P"],
    "vgg11": [64, "P", 128, "P", 256, 256, "P", 512, 512, "P", 512, 512, "P"],
    "vgg13": [64, 64, "P", 128, 128, "P", 256, 256, "P", 512, 512, "P", 512, 512, "P"],
    "vgg16": [64, 64, "P", 128, 128, "P", 256, 256, 256, "P", 512, 512, 512, "P", 512, 512, 512, "P"],
}


class SpikingVGG(TwinSequential):
    def __init__(
        self,
        config: Union[str, Sequence] = "vgg11",
        in_channels: int = 3,
        num_classes: int = 10,
        width: float = 1.0,
        pool: str = "max",
        neuron: str = "lif",
        surrogate: str | None = "atan",
        tau: float = 2.0,
        readout: str = "membrane",
        detach_reset: bool = True,
        bias: bool = False,
        ann: bool = False,
        activation: str = "relu",
    ):
        if isinstance(config, str):
            if config not in CONFIGS:
                raise ValueError(f"unknown VGG config {config!r}; known: {', '.join(CONFIGS)} or a list like [64, 'P', 128]")
            config = CONFIGS[config]
        if pool not in ("max", "avg"):
            raise ValueError(f"SpikingVGG: pool must be 'max' or 'avg', got {pool!r}")
        if readout not in ("spike", "membrane"):
            raise ValueError(f"SpikingVGG: readout must be 'spike' or 'membrane', got {readout!r}")
        lib = nn if ann else layer
        mode = {} if ann else {"step_mode": "m"}

        def act():
            if ann:
                return make_activation(activation)
            return make_neuron(neuron, surrogate, detach_reset=detach_reset, **neuron_kwargs(neuron, tau))

        layers: list[nn.Module] = []
        channels = in_channels
        for item in config:
            if item == "P":
                layers.append(lib.MaxPool2d(2, 2, ceil_mode=True, **mode) if pool == "max"
                              else lib.AvgPool2d(2, 2, ceil_mode=True, **mode))
                continue
            out = max(1, int(round(int(item) * width)))
            layers += [lib.Conv2d(channels, out, 3, padding=1, bias=bias, **mode), lib.BatchNorm2d(out, **mode), act()]
            channels = out
        layers += [lib.AdaptiveAvgPool2d(1, **mode), lib.Flatten(**mode), lib.Linear(channels, num_classes, **mode)]
        if readout == "spike" and not ann:
            layers.append(act())
        super().__init__(*layers, ann=ann)
