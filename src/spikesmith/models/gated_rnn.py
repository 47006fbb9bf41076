"""SLSTM / SGRU: a stacked spiking LSTM or GRU (``layer.SpikingLSTM`` / ``layer.SpikingGRU``) with a
linear readout, for sequences such as sequential Fashion-MNIST (``--model slstm``, ``--model sgru``).

    S_1 = SpikingLSTM_1(X),  S_l = SpikingLSTM_l(S_{l-1})        (spikes; see layer.gated_variants)
    Y(t) = W_out S_L(t) + b                                      (readout='mean': every step, averaged by the loss)
    Y    = W_out S_L(T) + b                                      (readout='last': the final step only)

Input ``T x N x features``; output ``T x N x classes`` (``1 x N x classes`` for ``readout='last'``).
The ANN twin (``ann=True``) is an ordinary ``nn.LSTM`` / ``nn.GRU`` of the same hidden size and
layer count, with the same readout; the spiking options (variant, threshold, reset, signed
output, time gate, surrogate) do not apply to it, and it has no ``activation`` to choose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Optional

from torch import Tensor, nn

from .. import layer
from ..layer.gated_variants import GRU_VARIANTS, LSTM_VARIANTS
from ..registry import Registry
from ..surrogate import get as get_surrogate
from .options import ModelInput, ModelOptions, option
from .registry import MODELS

__all__ = ["GATED_READOUTS", "GatedRNNOptions", "SGRU", "SGRUConfig", "SLSTM", "SLSTMConfig"]

GATED_READOUTS: Registry = Registry("gated readout")
"""How the last layer's output becomes class scores: a ``T x N x H -> K x N x H`` selection."""
GATED_READOUTS.register("mean", lambda h: h)           # every step; the loss and the prediction average over T
GATED_READOUTS.register("last", lambda h: h[-1:])      # the final step only

#: the snnTorch variant's membrane o * tanh(syn) lies in (-1, 1): at snnTorch's threshold of 1 it never fires
SNNTORCH_THRESHOLD = 0.5
#: the only activation the ANN twins accept: the one every run passes (TrainConfig's default); an LSTM has none
_NO_ACTIVATION = "relu"


@dataclass
class GatedRNNOptions(ModelOptions):
    """Options shared by ``slstm`` and ``sgru``; ``VARIANTS`` is the family's variant registry."""

    VARIANTS: ClassVar[Registry]

    hidden: int = option(128, "neurons per layer")
    layers: int = option(1, "stacked layers")
    variant: str = option("spikingjelly", "the formulation: spikingjelly (Heaviside gates, spikes h = o c) or "
                                          "snntorch (an LSTM/GRU cell over the membrane, spikes H(mem - threshold))",
                          ("spikingjelly", "snntorch"))
    threshold: Optional[float] = option(None, f"the snntorch variant's firing threshold (default: "
                                              f"{SNNTORCH_THRESHOLD}, as its membrane lies in (-1, 1)); "
                                              f"spikingjelly's gates have none")
    reset: Optional[str] = option(None, "the snntorch variant's reset after a spike: none, subtract or zero "
                                        "(default: none, snnTorch's); spikingjelly has none")
    signed_output: str = option("none", "signed values as two spike channels, sent on as their difference "
                                        "pos - neg (hidden features) or as the pair of trains (2 x hidden)",
                                ("none", "difference", "pair"))
    time_gate: str = option("none", "a phased-LSTM time gate: the cells update only in the open phase of a "
                                    "learnable oscillation (periods e to T steps)", ("none", "phased"))
    readout: str = option("mean", "mean: read every step's spikes (the loss averages over T); last: the final "
                                  "step's only", ("mean", "last"))
    surrogate: Optional[str] = option(None, "surrogate spike function of the gates and outputs, e.g. atan or "
                                            "'sigmoid:alpha=4' (default: the variant's, fastsigmoid:slope=10 for "
                                            "spikingjelly, atan for snntorch)")

    def __post_init__(self):
        super().__post_init__()
        self.check(isinstance(self.hidden, int) and self.hidden >= 1, f"hidden must be >= 1, got {self.hidden!r}")
        self.check(isinstance(self.layers, int) and self.layers >= 1, f"layers must be >= 1, got {self.layers!r}")
        resets = self.VARIANTS.get(self.variant).resets
        if self.variant == "spikingjelly":
            self.check(self.threshold is None, f"threshold applies to variant 'snntorch' only (spikingjelly's gates "
                                               f"spike at 0), got {self.threshold!r}; pass variant=snntorch or no "
                                               f"threshold")
        elif self.threshold is not None:
            self.check(math.isfinite(self.threshold) and self.threshold > 0,
                       f"threshold must be a positive number, got {self.threshold!r}")
        if self.reset is not None:
            self.check(self.reset in resets, f"variant {self.variant!r} takes reset in {list(resets)}, got "
                                             f"{self.reset!r}" + ("; the reset is the snntorch variant's option"
                                                                  if resets == ("none",) else ""))
        try:
            get_surrogate(self.surrogate)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{self.owner()}: {err}") from None

    def arguments(self, data: ModelInput) -> dict[str, Any]:
        if not data.temporal or len(data.sample_shape) != 2:
            raise ValueError(f"{self.owner()} needs a temporal dataset (samples T x features, "
                             f"such as sfmnist), got input shape {tuple(data.sample_shape)}")
        return {"in_features": data.step_shape[-1], "num_classes": data.num_classes, "hidden": self.hidden,
                "layers": self.layers, "variant": self.variant, "threshold": self.threshold, "reset": self.reset,
                "signed_output": self.signed_output, "time_gate": self.time_gate,
                "time_gate_period": float(data.sample_shape[0]), "readout": self.readout,
                "surrogate": self.surrogate}

    @property
    def neuron_name(self) -> Optional[str]:
        return f"{self.variant} variant"

    def layer_options(self, time_gate_period: float) -> dict[str, Any]:
        """The options of ``layer.SpikingLSTM`` / ``SpikingGRU`` these stand for."""
        options: dict[str, Any] = {"variant": self.variant, "surrogate_function": self.surrogate,
                                   "reset_mechanism": self.reset}
        if self.variant == "snntorch":
            options["threshold"] = SNNTORCH_THRESHOLD if self.threshold is None else self.threshold
        if self.signed_output != "none":
            options.update(signed=True, signed_output=self.signed_output)
        if self.time_gate != "none":
            options.update(time_gate=self.time_gate,
                           time_gate_options={"tau_min": min(math.e, time_gate_period), "tau_max": time_gate_period})
        return options


@dataclass
class SLSTMConfig(GatedRNNOptions):
    VARIANTS: ClassVar[Registry] = LSTM_VARIANTS
    ann_twin: ClassVar[Optional[str]] = "nn.LSTM"


@dataclass
class SGRUConfig(GatedRNNOptions):
    VARIANTS: ClassVar[Registry] = GRU_VARIANTS
    ann_twin: ClassVar[Optional[str]] = "nn.GRU"


_D = GatedRNNOptions


class _GatedClassifier(nn.Module):
    """Shared body of ``SLSTM`` and ``SGRU``: the recurrent stack (spiking, or torch's for the twin)
    and a linear readout of the steps ``readout`` selects."""

    CONFIG: type[GatedRNNOptions]
    SPIKING: type[nn.Module]
    TWIN: type[nn.RNNBase]

    def __init__(
        self,
        in_features: int = 28,
        num_classes: int = 10,
        hidden: int = _D.hidden,
        layers: int = _D.layers,
        variant: str = _D.variant,
        threshold: Optional[float] = _D.threshold,
        reset: Optional[str] = _D.reset,
        signed_output: str = _D.signed_output,
        time_gate: str = _D.time_gate,
        time_gate_period: float = 28.0,
        readout: str = _D.readout,
        surrogate: Optional[str] = _D.surrogate,
        ann: bool = False,
        activation: str = _NO_ACTIVATION,
    ):
        super().__init__()
        owner = self.CONFIG.owner()
        options = self.CONFIG(hidden=hidden, layers=layers, variant=variant, threshold=threshold, reset=reset,
                              signed_output=signed_output, time_gate=time_gate, readout=readout, surrogate=surrogate)
        for name, value in (("in_features", in_features), ("num_classes", num_classes)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
        if isinstance(time_gate_period, bool) or not isinstance(time_gate_period, (int, float)) \
                or not math.isfinite(time_gate_period) or time_gate_period <= 0:
            raise ValueError(f"{owner}: time_gate_period (the sequence length, in steps) must be positive, "
                             f"got {time_gate_period!r}")
        self.is_ann = bool(ann)
        self.readout_name = options.readout
        if self.is_ann:
            if activation != _NO_ACTIVATION:
                raise ValueError(f"{owner}: the ANN twin is an {self.CONFIG.ann_twin} with its own sigmoid/tanh "
                                 f"gates, so activation does not "
                                 f"apply; leave it at {_NO_ACTIVATION!r}, got {activation!r}")
            self.rnn = self.TWIN(in_features, options.hidden, num_layers=options.layers)
            width = options.hidden
        else:
            self.rnn = self.SPIKING(in_features, options.hidden, num_layers=options.layers, step_mode="m",
                                    **options.layer_options(float(time_gate_period)))
            width = self.rnn.output_size
        self.readout = nn.Linear(width, num_classes)

    def forward(self, x_seq: Tensor) -> Tensor:
        """``T x N x in_features`` -> ``T x N x classes`` (``readout='mean'``) or ``1 x N x classes`` ('last')."""
        if x_seq.dim() != 3:
            raise ValueError(f"{self.CONFIG.owner()} expects a sequence [T, N, features], got shape "
                             f"{list(x_seq.shape)}")
        h = self.rnn(x_seq)[0] if self.is_ann else self.rnn(x_seq)
        return self.readout(GATED_READOUTS.get(self.readout_name)(h))


@MODELS.register("slstm", config=SLSTMConfig)
class SLSTM(_GatedClassifier):
    """A stacked spiking LSTM (layer.SpikingLSTM) with a linear readout; its ANN twin is an nn.LSTM."""

    CONFIG = SLSTMConfig
    SPIKING = layer.SpikingLSTM
    TWIN = nn.LSTM


@MODELS.register("sgru", config=SGRUConfig)
class SGRU(_GatedClassifier):
    """A stacked spiking GRU (layer.SpikingGRU) with a linear readout; its ANN twin is an nn.GRU."""

    CONFIG = SGRUConfig
    SPIKING = layer.SpikingGRU
    TWIN = nn.GRU

