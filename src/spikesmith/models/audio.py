"""Audio presets for spike trains of cochlea channels (SHD, SSC, ``spoken_digits``): ``audio_fcsnn`` and
``audio_rsnn``, with adaptive neurons, learnable delays and a membrane readout as in the SHD papers
(adLIF: Bittar & Garner 2022; DCLS delays and 700 -> 140 channel binning: Hammouamri et al. 2024).

    X: T x N x C spikes (C = 700 for SHD; any C works)
    binning:   X'[t, n, j] = sum_{c in bin j} X[t, n, c]        (C -> ceil(C / g) bins, g = ceil(C / channel_bins))
    per layer: I = synapses(X')  (delays none | fixed | learnable),  [BatchNorm],  S = neuron(I)
               (audio_rsnn: S(t) = neuron(I(t) + W_rec S(t-1)), no self connections),  Dropout over time
    readout:   V(t) = NonSpikingLIF(W_out S(t))   (a leaky integrator's membrane, no spikes)
    output:    V, T x N x classes, whose mean over T the loss takes (readout_time='mean'), or
               max_t V(t) as 1 x N x classes (readout_time='max', the max-over-time of Cramer et al.)

The reset stays in the backward pass (``detach_reset=False``, as the adLIF authors' code): with it
cut, the adaptation w, driven by the membrane before its reset, feeds the gradient back unchecked; on
one batch of spoken digits the first layer's weight gradient had a norm of 10^4 (0.09 with the reset
kept), and the adLIF presets stayed at chance for their first epochs.

``params``: choose ``hidden`` so that the whole network has about that many parameters, every delay
counted (``models.delays.count_parameters``), so that variants (LIF / adLIF, feed-forward / recurrent,
with or without delays) compare at one size: ``--model audio_rsnn --params 100000``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Optional

import torch
from torch import Tensor, nn

from .. import layer
from ..module import StepModule
from ..neuron import NonSpikingLIFNode
from .delays import count_parameters, delay_synapse
from .neuron_spec import accepted_arguments
from .options import DELAYS, DelayOptions, ModelInput, SpikingOptions, _neuron_help, option
from .registry import MODELS

__all__ = ["AudioFCSNN", "AudioFCSNNConfig", "AudioRSNN", "AudioRSNNConfig", "ChannelBinning", "READOUT_TIMES",
           "hidden_for_params"]

READOUT_TIMES = ("mean", "max")


class ChannelBinning(StepModule):
    """Sum of each ``group`` adjacent channels of the last dim: ``[..., C] -> [..., ceil(C / group)]``
    (the last bin sums what is left). Stateless; the same in either step mode."""

    def __init__(self, group: int, step_mode: str = "m"):
        super().__init__(step_mode)
        if isinstance(group, bool) or not isinstance(group, int) or group < 1:
            raise ValueError(f"ChannelBinning: group must be a positive int (channels per bin), got {group!r}")
        self.group = group

    def forward(self, x: Tensor) -> Tensor:
        C = x.shape[-1]
        bins = math.ceil(C / self.group)
        pad = bins * self.group - C
        if pad:
            x = torch.nn.functional.pad(x, (0, pad))
        return x.unflatten(-1, (bins, self.group)).sum(-1)

    def extra_repr(self) -> str:
        return f"group={self.group}, step_mode={self.step_mode!r}"


def binning_group(channels: int, channel_bins: int) -> int:
    """Channels per bin so that ``channels`` become at most ``channel_bins`` bins (1: none; 0 bins: none)."""
    return 1 if channel_bins == 0 or channel_bins >= channels else math.ceil(channels / channel_bins)


@dataclass
class AudioConfig(DelayOptions, SpikingOptions):
    """The options of both audio presets (``audio_fcsnn`` and ``audio_rsnn``)."""

    hidden: int = option(256, "neurons per hidden layer (params: chosen to fit instead)")
    layers: int = option(2, "hidden layers")
    channel_bins: int = option(140, "sum the input channels into at most this many bins (700 -> 140); 0: no binning")
    readout_time: str = option("mean", "the readout membrane over time that the loss sees: its mean over T, or its "
                                       "max (one step)", READOUT_TIMES)
    tau_out: float = option(10.0, "time constant of the non-spiking readout, in steps")
    batchnorm: bool = option(True, "batch normalisation of each hidden layer's input current")
    dropout: float = option(0.1, "dropout of each hidden layer's spikes (one mask per sequence)")
    params: Optional[int] = option(None, "choose hidden so that the network has about this many parameters, delays "
                                         "counted (matches variants within a few percent)")
    neuron: str = option("adlif", _neuron_help)
    delays: str = option("learnable", "synaptic delays of each hidden layer's input synapses", DELAYS)
    detach_reset: bool = option(False, "cut the reset out of the backward pass (kept here: cut, the adLIF's "
                                       "adaptation, which follows the membrane before its reset, makes the "
                                       "gradients explode and the network stays at chance)")

    #: whether the hidden layers feed their spikes back (set by each preset)
    recurrent: ClassVar[bool] = False

    def __post_init__(self):
        super().__post_init__()
        for name in ("hidden", "layers"):
            v = getattr(self, name)
            self.check(isinstance(v, int) and not isinstance(v, bool) and v >= 1, f"{name} must be a positive int, "
                                                                                   f"got {v!r}")
        self.check(isinstance(self.channel_bins, int) and not isinstance(self.channel_bins, bool)
                   and self.channel_bins >= 0, f"channel_bins must be an int >= 0, got {self.channel_bins!r}")
        self.check(isinstance(self.tau_out, (int, float)) and self.tau_out > 1, f"tau_out must be > 1 step, got "
                                                                               f"{self.tau_out!r}")
        self.check(isinstance(self.dropout, (int, float)) and 0 <= self.dropout < 1, f"dropout must lie in [0, 1), "
                                                                                    f"got {self.dropout!r}")
        self.check(self.params is None or (isinstance(self.params, int) and self.params >= 1),
                   f"params must be a positive int (a parameter budget) or None, got {self.params!r}")

    def arguments(self, data: ModelInput) -> dict:
        if not data.temporal or len(data.sample_shape) != 2:
            raise ValueError(f"{self.owner()} needs a temporal dataset of channels (samples T x channels), got input "
                             f"shape {tuple(data.sample_shape)}")
        args = {"in_features": data.step_shape[-1], "num_classes": data.num_classes, "hidden": self.hidden,
                "layers": self.layers, "channel_bins": self.channel_bins, "readout_time": self.readout_time,
                "tau_out": self.tau_out, "batchnorm": self.batchnorm, "dropout": self.dropout,
                **self.neuron_options(), "delays": self.delays, "max_delay": self.max_delay}
        self.delay_arguments(data)                                  # max_delay against the data's T
        if self.params is not None:
            args["hidden"] = hidden_for_params(MODELS.get(self.family), args, self.params)
        return args

    @property
    def family(self) -> str:
        return "audio_rsnn" if self.recurrent else "audio_fcsnn"


def hidden_for_params(cls: type, arguments: dict, budget: int) -> int:
    """The ``hidden`` whose network ``cls(**arguments)`` has the parameter count nearest ``budget``
    (delays counted); the count grows with hidden, so a bisection finds it. Torch's random stream is
    left as it was (each trial network draws its weights in a forked stream)."""
    def count(hidden: int) -> int:
        with torch.random.fork_rng():
            return count_parameters(cls(**{**arguments, "hidden": hidden}))

    lo, hi = 1, 2
    while count(hi) < budget:
        lo, hi = hi, hi * 2
        if hi > 1 << 16:
            raise ValueError(f"params={budget} needs more than {1 << 16} neurons per layer; lower the budget")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if count(mid) < budget else (lo, mid)
    return min((lo, hi), key=lambda h: abs(count(h) - budget))


class _AudioSNN(nn.Module):
    """Binning -> (synapses -> [BN] -> neuron [recurrent] -> dropout) x layers -> Linear -> leaky readout."""

    recurrent: ClassVar[bool] = False
    config: ClassVar[type] = AudioConfig

    def __init__(self, in_features: int = 700, num_classes: int = 20, hidden: int = AudioConfig.hidden,
                 layers: int = AudioConfig.layers, channel_bins: int = AudioConfig.channel_bins,
                 readout_time: str = AudioConfig.readout_time, tau_out: float = AudioConfig.tau_out,
                 batchnorm: bool = AudioConfig.batchnorm, dropout: float = AudioConfig.dropout,
                 neuron: str = AudioConfig.neuron, surrogate: Optional[str] = AudioConfig.surrogate,
                 tau: Optional[float] = AudioConfig.tau, detach_reset: bool = AudioConfig.detach_reset,
                 delays: str = AudioConfig.delays, max_delay: int = AudioConfig.max_delay,
                 ann: bool = False, activation: str = "relu"):
        super().__init__()
        options = self.config(hidden=hidden, layers=layers, channel_bins=channel_bins, readout_time=readout_time,
                              tau_out=tau_out, batchnorm=batchnorm, dropout=dropout, neuron=neuron,
                              surrogate=surrogate, tau=tau, detach_reset=detach_reset, delays=delays,
                              max_delay=max_delay)
        if ann:
            raise ValueError(f"{options.owner()} has no ANN twin (its delays and adaptive neurons are the point); "
                             f"train the spiking network")
        group = binning_group(in_features, channel_bins)
        self.binning = ChannelBinning(group) if group > 1 else None
        width = math.ceil(in_features / group)
        spec = options.neuron_spec()
        shaped = "shape" in accepted_arguments(spec.neuron_class)     # adLIF: its parameters' shape, now
        blocks = []
        for _ in range(layers):
            extra = {"shape": (hidden,)} if shaped else {}
            parts = [delay_synapse(delays, width, hidden, max_delay, bias=not batchnorm)]
            if batchnorm:
                parts.append(layer.BatchNorm1d(hidden, step_mode="m"))
            if self.recurrent:
                parts.append(layer.Recurrent(None, spec.build(step_mode="s", **extra), hidden_size=hidden,
                                             self_connections=False, step_mode="m"))
            else:
                parts.append(spec.build(**extra))
            if dropout > 0:
                parts.append(layer.Dropout(dropout, step_mode="m"))
            blocks.append(nn.Sequential(*parts))
            width = hidden
        self.hidden_layers = nn.Sequential(*blocks)
        self.readout = layer.Linear(hidden, num_classes, step_mode="m")
        self.readout_neuron = NonSpikingLIFNode(tau=float(tau_out), step_mode="m")
        self.readout_time = readout_time

    def forward(self, x_seq: Tensor) -> Tensor:
        if self.binning is not None:
            x_seq = self.binning(x_seq)
        v = self.readout_neuron(self.readout(self.hidden_layers(x_seq)))
        return v.max(0, keepdim=True).values if self.readout_time == "max" else v


@dataclass
class AudioFCSNNConfig(AudioConfig):
    recurrent: ClassVar[bool] = False


@dataclass
class AudioRSNNConfig(AudioConfig):
    recurrent: ClassVar[bool] = True


@MODELS.register("audio_fcsnn", config=AudioFCSNNConfig)
class AudioFCSNN(_AudioSNN):
    """Feed-forward audio preset (see the module docstring)."""

    recurrent = False
    config = AudioFCSNNConfig


@MODELS.register("audio_rsnn", config=AudioRSNNConfig)
class AudioRSNN(_AudioSNN):
    """Recurrent audio preset (see the module docstring)."""

    recurrent = True
    config = AudioRSNNConfig
