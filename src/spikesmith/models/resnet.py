"""Spiking ResNet with SEW residuals (Fang et al., NeurIPS 2021) and its ANN twin.

SEW basic block:  S_out = g(SN(BN(Conv(SN(BN(Conv(S_in)))))), shortcut(S_in))
with g = ADD (default), AND (a * b) or IAND ((1 - a) * b); the shortcut is the identity or
Conv1x1-BN-SN when the shape changes. The ANN twin is the usual basic block with ReLU after the add.

``SpikingResNet(layers=(2, 2, 2, 2), width=64)`` is ResNet-18-shaped; ``small_input=True`` uses a 3x3
stem without max pooling (28x28 / 32x32 images). SNN input ``T x N x C x H x W`` -> ``T x N x classes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Optional, Sequence

from torch import Tensor, nn

from .. import layer
from .blocks import make_activation
from .neuron_spec import NeuronSpec
from .options import ModelInput, SpikingOptions, option
from .registry import MODELS

CONNECTS = ("add", "and", "iand")
DEPTHS = {"resnet10": (1, 1, 1, 1), "resnet18": (2, 2, 2, 2), "resnet34": (3, 4, 6, 3)}


@dataclass
class SpikingResNetConfig(SpikingOptions):
    # channels_last: a training step ran 1.04-1.08x faster than in NCHW in three of four runs (3975.7 vs 3665.9
    # ms: batch 8, 1 thread, load 10; one run at load 18 gave 0.79x; bench_convnet.py --models resnet,
    # bench/results/layout_defaults/bench_convnet_models.txt)
    run_defaults: ClassVar[dict] = {"channels_last": True}

    arch: str = option("resnet18", "blocks per stage", tuple(DEPTHS))
    width: float = option(1.0, "channel multiplier: the first stage has 64 x width channels")

    def __post_init__(self):
        super().__post_init__()
        self.check(self.width > 0, "width must be > 0")

    def arguments(self, data: ModelInput) -> dict:
        return {"layers": DEPTHS[self.arch], "in_channels": data.step_shape[0], "num_classes": data.num_classes,
                "width": max(1, round(64 * self.width)), "small_input": data.step_shape[-1] <= 64,
                **self.neuron_options()}


_D = SpikingResNetConfig


class _Builder:
    def __init__(self, ann: bool, spec: NeuronSpec, activation: str):
        self.ann, self.spec, self.activation = ann, spec, activation
        self.lib = nn if ann else layer
        self.mode = {} if ann else {"step_mode": "m"}

    def act(self) -> nn.Module:
        return make_activation(self.activation) if self.ann else self.spec.build()

    def conv_bn(self, cin, cout, k, stride) -> list[nn.Module]:
        return [self.lib.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False, **self.mode),
                self.lib.BatchNorm2d(cout, **self.mode)]


class SEWBasicBlock(nn.Module):
    def __init__(self, b: _Builder, cin: int, cout: int, stride: int, connect: str):
        super().__init__()
        if connect not in CONNECTS:
            raise ValueError(f"connect must be one of {', '.join(CONNECTS)}, got {connect!r}")
        self.ann, self.connect = b.ann, connect
        self.body = nn.Sequential(*b.conv_bn(cin, cout, 3, stride), b.act(), *b.conv_bn(cout, cout, 3, 1))
        self.body_act = b.act()
        self.shortcut = (nn.Sequential(*b.conv_bn(cin, cout, 1, stride), *([] if b.ann else [b.act()]))
                         if stride != 1 or cin != cout else nn.Identity())

    def forward(self, x: Tensor) -> Tensor:
        short = self.shortcut(x)
        if self.ann:
            return self.body_act(self.body(x) + short)
        out = self.body_act(self.body(x))
        if self.connect == "add":
            return out + short
        if self.connect == "and":
            return out * short
        return (1.0 - out) * short


@MODELS.register("resnet", config=SpikingResNetConfig)
class SpikingResNet(nn.Module):
    def __init__(
        self,
        layers: Sequence[int] = DEPTHS[_D.arch],
        in_channels: int = 3,
        num_classes: int = 10,
        width: int = 64,
        small_input: bool = True,
        connect: str = "add",
        neuron: str = _D.neuron,
        surrogate: Optional[str] = _D.surrogate,
        tau: Optional[float] = _D.tau,
        detach_reset: bool = _D.detach_reset,
        ann: bool = False,
        activation: str = "relu",
    ):
        super().__init__()
        spec = SpikingResNetConfig(neuron=neuron, surrogate=surrogate, tau=tau, detach_reset=detach_reset).neuron_spec()
        b = _Builder(ann, spec, activation)
        self.is_ann = ann
        stem = b.conv_bn(in_channels, width, 3 if small_input else 7, 1 if small_input else 2) + [b.act()]
        if not small_input:
            stem.append(b.lib.MaxPool2d(3, 2, padding=1, **b.mode))
        self.stem = nn.Sequential(*stem)
        blocks, cin = [], width
        for i, n in enumerate(layers):
            cout = width * 2**i
            for j in range(n):
                blocks.append(SEWBasicBlock(b, cin, cout, 2 if (j == 0 and i > 0) else 1, connect))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(b.lib.AdaptiveAvgPool2d(1, **b.mode), b.lib.Flatten(**b.mode),
                                  b.lib.Linear(cin, num_classes, **b.mode))

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.blocks(self.stem(x)))
