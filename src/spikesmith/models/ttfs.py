"""``--model ttfs``: a time-to-first-spike network trained with exact spike-time gradients (Mostafa 2017).

Each pixel ``x`` in [0, 1] is one input spike at ``(1 - x) * window`` (a black pixel is silent),
on ``levels`` shared latencies; every neuron is a non-leaky integrate-and-fire neuron with
exponentially decaying synaptic current that fires once (``learning.ttfs``), with a learned
reference spike at time 0 per neuron as its bias. The class is the output neuron that fires first:
the network returns ``-sharpness * t_out`` as class scores (``1 x N x classes``), so the run's
cross-entropy and argmax work on spike times, and the gradient is exact (closed-form spike times,
autograd through them).

An output neuron that never fires counts as firing at ``SILENT_DELAY`` after the input window plus
how far its total input weight falls short of the threshold, so cross-entropy can push the right
one to fire. The ANN twin (``ann=True``) is the ReLU network of the same widths.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Optional, Sequence

import torch
from torch import Tensor, nn

from ..learning.ttfs import first_spike_times, first_spike_times_levels, latency_levels
from .blocks import make_activation
from .dbn_family import parse_hidden
from .options import ModelInput, ModelOptions, option
from .registry import MODELS

__all__ = ["TTFSConfig", "TTFSNet"]

#: how long after the input window a silent output neuron counts as firing (synaptic time constants)
SILENT_DELAY = 2.0
#: the mean total input weight of a neuron at initialisation, over its active inputs (> 1: most fire)
INIT_DRIVE = 2.5


@dataclass
class TTFSConfig(ModelOptions):
    default_encoder: ClassVar[str] = "direct"
    ann_twin: ClassVar[Optional[str]] = "ReLU MLP"
    run_defaults: ClassVar[dict] = {"T": 1, "encoder": "direct", "loss": "ce", "lr": 1e-3, "epochs": 30}

    hidden: str = option("340", "hidden layer widths, comma-separated")
    window: float = option(3.0, "input window: a pixel x fires at (1 - x) * window (synaptic time constants)")
    levels: int = option(17, "latency levels of the input code (17: the digits' own grey levels)")
    sharpness: float = option(4.0, "class score = -sharpness * output spike time (the softmax temperature)")

    def __post_init__(self):
        super().__post_init__()
        owner = "TTFS"
        self.hidden = ",".join(map(str, parse_hidden(self.hidden, owner)))
        self.check(isinstance(self.levels, int) and not isinstance(self.levels, bool) and self.levels >= 2,
                   f"levels must be an int >= 2, got {self.levels!r}; e.g. 17")
        for key in ("window", "sharpness"):
            value = getattr(self, key)
            self.check(isinstance(value, (int, float)) and math.isfinite(value) and value > 0,
                       f"{key} must be a number > 0, got {value!r}")

    def arguments(self, data: ModelInput) -> dict[str, Any]:
        if data.temporal:
            raise ValueError(f"TTFS codes each pixel as one spike time, so it needs a static dataset, got the "
                             f"temporal input {tuple(data.sample_shape)}; use digits, fashion_mnist or mnist")
        return {"in_features": data.features, "num_classes": data.num_classes,
                "hidden": parse_hidden(self.hidden, "TTFS"), "window": float(self.window), "levels": self.levels,
                "sharpness": float(self.sharpness)}


_D = TTFSConfig


@MODELS.register("ttfs", config=TTFSConfig)
class TTFSNet(nn.Module):
    """pixels -> latencies -> [non-leaky IF, one spike each] x len(hidden) -> first output spike."""

    def __init__(self, in_features: int = 64, num_classes: int = 10, hidden: Sequence[int] = (340,),
                 window: float = _D.window, levels: int = _D.levels, sharpness: float = _D.sharpness,
                 ann: bool = False, activation: str = "relu"):
        super().__init__()
        TTFSConfig(hidden=",".join(map(str, hidden)), window=window, levels=levels, sharpness=sharpness)
        self.widths = [int(in_features), *map(int, hidden), int(num_classes)]
        self.window, self.levels, self.sharpness, self.is_ann = float(window), int(levels), float(sharpness), bool(ann)
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for fan_in, fan_out in zip(self.widths[:-1], self.widths[1:]):
            # about half the inputs active: a mean drive of INIT_DRIVE over them, spread 1/sqrt(fan_in)
            mean = 2 * INIT_DRIVE / fan_in
            self.weights.append(nn.Parameter(mean + torch.randn(fan_in, fan_out) / math.sqrt(fan_in)))
            self.biases.append(nn.Parameter(torch.zeros(fan_out)))
        self.activation = make_activation(activation) if ann else None

    def spike_times(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Output spike times, whether each fired and its causal weight sum, for pixels ``N x ...``."""
        onehot, times = latency_levels(x.flatten(1), self.levels, self.window)
        t, fired, total = first_spike_times_levels(onehot, times, self.weights[0], self.biases[0])
        for weight, bias in zip(self.weights[1:], self.biases[1:]):
            t, fired, total = first_spike_times(t, weight, bias)
        return t, fired, total

    def forward(self, x: Tensor) -> Tensor:
        """Spiking: ``1 x N x ...`` (T = 1, the direct encoder) -> ``1 x N x classes`` of ``-sharpness * t``;
        the twin (``ann=True``): ``N x ...`` -> ``N x classes``."""
        if self.is_ann:
            h = x.flatten(1)
            for i, (weight, bias) in enumerate(zip(self.weights, self.biases)):
                h = h @ weight + bias
                if i < len(self.weights) - 1:
                    h = self.activation(h)
            return h
        if not isinstance(x, Tensor) or x.dim() < 3 or x.shape[0] != 1:
            raise ValueError(f"TTFS takes one step of pixels [1, N, ...] (each pixel is coded as a spike time), got "
                             f"shape {list(getattr(x, 'shape', []))}; train it with T=1 and encoder=direct")
        x = x[0].flatten(1)
        if x.shape[1] != self.widths[0]:
            raise ValueError(f"TTFS: the input has {x.shape[1]} values per sample but the network takes "
                             f"{self.widths[0]}; build it for this dataset")
        t, fired, total = self.spike_times(x)
        silent = self.window + SILENT_DELAY + (1 - total).clamp_min(0)
        t = torch.where(fired, t, silent)
        return (-self.sharpness * t).unsqueeze(0)

    def extra_repr(self) -> str:
        return f"widths={self.widths}, window={self.window}, levels={self.levels}, ann={self.is_ann}"
