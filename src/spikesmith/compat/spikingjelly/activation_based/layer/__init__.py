"""SpikingJelly's ``activation_based.layer``: spikesmith's layers under SpikingJelly's names.

Stateless layers with ``step_mode`` (``Linear``, ``Conv1d/2d/3d``, ``BatchNorm1d/2d/3d``, pooling,
``MaxUnpool1d/2d/3d``, ``Flatten``; ``ConvTranspose1d/2d/3d`` and ``Upsample`` are defined here the same way, and ``Delay``),
``Dropout`` / ``Dropout2d`` (one mask per sequence), the containers
(``SeqToANNContainer``, ``MultiStepContainer``, ``StepModeContainer``, ``ElementWiseRecurrentContainer``,
``LinearRecurrentContainer``) and ``SynapseFilter`` are spikesmith's, whose semantics are SpikingJelly's.
``VotingLayer`` and ``GroupNorm`` come from ``spikesmith.layer`` when it has them. The attention blocks of
SpikingJelly's newer model zoo are in ``layer.attention``, its OTTT containers and ``WSConv2d`` / ``WSLinear`` in
``layer.online_learning`` (and all of them here). Names SpikingJelly has and spikesmith
lacks raise an error naming the nearest spikesmith module.
"""

from __future__ import annotations

import torch
from torch import nn

from ..... import layer as _sf_layer
from .....layer import (  # noqa: F401  (re-exported under SpikingJelly's names)
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveAvgPool3d,
    AvgPool1d,
    AvgPool2d,
    AvgPool3d,
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    Conv1d,
    Conv2d,
    Conv3d,
    Dropout,
    Dropout2d,
    ElementWiseRecurrentContainer,
    Flatten,
    Linear,
    LinearRecurrentContainer,
    MaxPool1d,
    MaxPool2d,
    MaxPool3d,
    MaxUnpool1d,
    MaxUnpool2d,
    MaxUnpool3d,
    MultiStepContainer,
    SeqToANNContainer,
    StepModeContainer,
    SynapseFilter,
)
from .....layer.stepwise import StepwiseLayer
from .....module import StepModule
from ..._missing import missing_name
from ..base import MemoryModule


class ConvTranspose1d(StepwiseLayer, nn.ConvTranspose1d, StepModule):
    """SpikingJelly's ``ConvTranspose1d``: ``torch.nn.ConvTranspose1d`` with ``step_mode``; ``'m'``: ``[T, N, C, L]``."""

    seq_layout, seq_dims, seq_feature = "[T, N, C, L]", (4,), ("in_channels", 2)


class ConvTranspose2d(StepwiseLayer, nn.ConvTranspose2d, StepModule):
    """SpikingJelly's ``ConvTranspose2d``; ``'m'`` input ``[T, N, C, H, W]``."""

    seq_layout, seq_dims, seq_feature = "[T, N, C, H, W]", (5,), ("in_channels", 2)


class ConvTranspose3d(StepwiseLayer, nn.ConvTranspose3d, StepModule):
    """SpikingJelly's ``ConvTranspose3d``; ``'m'`` input ``[T, N, C, D, H, W]``."""

    seq_layout, seq_dims, seq_feature = "[T, N, C, D, H, W]", (6,), ("in_channels", 2)


class Delay(MemoryModule):
    """SpikingJelly's ``Delay(delay_steps)``: Y[t] = X[t - delay_steps], zeros for the first steps. The steps
    not yet given out are state (``reset_net`` empties it)."""

    def __init__(self, delay_steps: int, step_mode: str = "s"):
        if isinstance(delay_steps, bool) or not isinstance(delay_steps, int) or delay_steps < 0:
            raise ValueError(f"Delay: delay_steps must be an int >= 0, got {delay_steps!r}")
        super().__init__(step_mode)
        self._delay_steps = delay_steps
        self.register_memory("queue", [])

    @property
    def delay_steps(self) -> int:
        return self._delay_steps

    def single_step_forward(self, x):
        if self.queue and self.queue[-1].shape != x.shape:
            raise ValueError(f"Delay: input of shape {list(x.shape)} differs from the delayed steps' "
                             f"{list(self.queue[-1].shape)}; call functional.reset_net(net) between batches")
        self.queue = self.queue + [x]
        if len(self.queue) > self._delay_steps:
            y, self.queue = self.queue[0], self.queue[1:]
            return y
        return torch.zeros_like(x)

    def extra_repr(self) -> str:
        return f"delay_steps={self._delay_steps}, step_mode={self.step_mode}"


class Upsample(StepwiseLayer, nn.Upsample, StepModule):
    """SpikingJelly's ``Upsample``: ``torch.nn.Upsample`` with ``step_mode``; ``'m'`` input ``[T, N, C, ...]``."""

    seq_layout, seq_min_dims = "[T, N, C, ...]", 4

#: Built by another part of issue 17 in ``spikesmith.layer``; taken from there when present.
_FROM_SPIKESMITH_LATER = ("VotingLayer", "GroupNorm")

_NEAREST = {
    "TLastSeqToANNContainer": "SeqToANNContainer with the input moved time-first (x.movedim(-1, 0))",
    "TLastMultiStepContainer": "MultiStepContainer with the input moved time-first (x.movedim(-1, 0))",
    "PrintShapeModule": "a forward hook printing x.shape",
    "NeuNorm": "no counterpart yet",
    "DropConnectLinear": "Linear followed by torch.nn.functional.dropout on its weight in your own module",
    "ThresholdDependentBatchNorm2d": "BatchNorm2d",
    "TemporalEffectiveBatchNorm2d": "BatchNorm2d",
    "BatchNormThroughTime2d": "BatchNorm2d",
}

__all__ = [
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
    "ConvTranspose3d", "Delay", "Dropout", "Dropout2d",
    "ElementWiseRecurrentContainer", "Flatten", "Linear", "LinearRecurrentContainer", "MaxPool1d", "MaxPool2d",
    "MaxPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "MultiStepContainer", "SeqToANNContainer",
    "StepModeContainer", "SynapseFilter", "Upsample",
]

from .attention import (  # noqa: E402  (SpikingJelly's layer.attention, built on the layers above)
    ChannelQKAttention,
    MultiDimensionalAttention,
    QKAttention,
    SpikeDrivenSelfAttention,
    SpikingSelfAttention,
    TemporalWiseAttention,
    TokenQKAttention,
)

from .online_learning import (  # noqa: E402
    GradwithTrace,
    OTTTSequential,
    ReplaceforGrad,
    SpikeTraceOp,
    WSConv2d,
    WSLinear,
)

__all__ += ["GradwithTrace", "OTTTSequential", "ReplaceforGrad", "SpikeTraceOp", "WSConv2d", "WSLinear"]
__all__ += ["ChannelQKAttention", "MultiDimensionalAttention", "QKAttention", "SpikeDrivenSelfAttention",
            "SpikingSelfAttention", "TemporalWiseAttention", "TokenQKAttention"]


def __getattr__(name: str):
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name in _FROM_SPIKESMITH_LATER:
        found = getattr(_sf_layer, name, None)
        if found is None:
            raise ImportError(f"spikingjelly.activation_based.layer.{name} maps onto spikesmith.layer.{name}, which "
                              f"this spikesmith does not have yet")
        return found
    raise missing_name(__name__, name, _NEAREST, __all__ + list(_FROM_SPIKESMITH_LATER))
