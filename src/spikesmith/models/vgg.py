"""Spiking VGG builders (and their ANN twins) for larger inputs.

    features:   [Conv3x3 - BN - neuron] x n, Pool2 between stages (ceil mode, so small inputs work)
    classifier: AdaptiveAvgPool(1) - Flatten - Linear(C, classes) [- neuron with readout='spike']

``SpikingVGG('vgg11', width=0.25)`` scales every stage's channels; ``pool='avg'`` keeps the
network convertible/hardware friendly. SNN input ``T x N x C x H x W`` -> ``T x N x classes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Optional, Sequence, Union

from torch import nn

from .. import layer
from .blocks import TwinSequential, make_activation
from .options import POOLS, READOUTS, ModelInput, SpikingOptions, option
from .registry import MODELS

CONFIGS: dict[str, list] = {
    "vgg5": [64, "P", 128, 128, "P"],
    "vgg11": [64, "P", 128, "P", 256, 256, "P", 512, 512, "P", 512, 512, "P"],
    "vgg13": [64, 64, "P", 128, 128, "P", 256, 256, "P", 512, 512, "P", 512, 512, "P"],
    "vgg16": [64, 64, "P", 128, 128, "P", 256, 256, 256, "P", 512, 512, 512, "P", 512, 512, 512, "P"],
}


@dataclass
class SpikingVGGConfig(SpikingOptions):
    # NCHW: a training step in channels_last ran at 0.94-0.96x the speed in three runs (1248.3 vs 1307.8 ms:
    # batch 8, 1 thread, load 10; bench_convnet.py --models vgg, bench/results/layout_defaults/bench_convnet_models.txt)
    run_defaults: ClassVar[dict] = {"channels_last": False}

    arch: str = option("vgg11", "the layer plan", tuple(CONFIGS))
    width: float = option(1.0, "channel multiplier of every stage")
    pool: str = option("max", "avg converts exactly and runs on neuromorphic hardware", POOLS)
    readout: str = option("membrane", "end in a spiking neuron (spike) or in the last Linear's output (membrane)",
                          READOUTS)

    def __post_init__(self):
        super().__post_init__()
        self.check(self.width > 0, "width must be > 0")

    def arguments(self, data: ModelInput) -> dict:
        return {"config": self.arch, "in_channels": data.step_shape[0], "num_classes": data.num_classes,
                "width": self.width, "pool": self.pool, "readout": self.readout, **self.neuron_options()}


_D = SpikingVGGConfig


@MODELS.register("vgg", config=SpikingVGGConfig)
class SpikingVGG(TwinSequential):
    def __init__(
        self,
        config: Union[str, Sequence] = _D.arch,
        in_channels: int = 3,
        num_classes: int = 10,
        width: float = _D.width,
        pool: str = _D.pool,
        neuron: str = _D.neuron,
        surrogate: Optional[str] = _D.surrogate,
        tau: Optional[float] = _D.tau,
        readout: str = _D.readout,
        detach_reset: bool = _D.detach_reset,
        bias: bool = False,
        ann: bool = False,
        activation: str = "relu",
    ):
        if isinstance(config, str):
            if config not in CONFIGS:
                raise ValueError(f"unknown VGG config {config!r}; known: {', '.join(CONFIGS)} or a list like [64, 'P', 128]")
            config = CONFIGS[config]
        options = SpikingVGGConfig(width=width, pool=pool, readout=readout, neuron=neuron, surrogate=surrogate,
                                   tau=tau, detach_reset=detach_reset)
        spec = options.neuron_spec()
        lib = nn if ann else layer
        mode = {} if ann else {"step_mode": "m"}

        def act():
            return make_activation(activation) if ann else spec.build()

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
