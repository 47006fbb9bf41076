"""LSM: a liquid state machine (``models.LiquidStateMachine``) with a linear readout, as a
``spikesmith train`` family (``--model lsm``). Only the readout is trained; the reservoir is fixed.

    x_seq [T, N, features] -> each step held ``hold`` steps -> liquid -> states at read_times
    z = (concat_r state_r - mean) / std                     (standardised: mean and std of the training set)
    Y = W z + b                                             (output 1 x N x classes)

Two readouts (``readout``): ``ridge`` (default), fitted in closed form on the training set's
liquid states, and ``logistic``, trained by gradient descent on the same states. Either way the
run computes the states once (the liquid is fixed, so every epoch would see the same ones) and
fits the readout on them: see :mod:`spikesmith.run.readout_fit`.

The ANN twin (``ann=True``) has no liquid: the same readout on the raw input, flattened over time
(``T x features`` per sample): with ``readout=logistic`` that is logistic regression on the raw
pixels, the issue's baseline (about 84% on Fashion-MNIST); with ``ridge``, a ridge classifier on them.

Every reservoir default is ``LiquidStateMachine``'s own, read from its signature (``LSM_DEFAULTS``).
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any, Optional

import torch
from torch import Tensor, nn

from .lsm import SYNAPSES, LiquidStateMachine
from .options import ModelInput, ModelOptions, option
from .registry import MODELS

__all__ = ["LSMClassifier", "LSMConfig", "LSM_DEFAULTS", "LSM_READOUTS", "MAX_READ_TIMES", "parse_grid",
           "parse_read_times"]

#: ``LiquidStateMachine``'s keyword defaults: the one place the reservoir's defaults are written
LSM_DEFAULTS: dict[str, Any] = {name: p.default for name, p in inspect.signature(LiquidStateMachine).parameters.items()
                                if p.default is not inspect.Parameter.empty}
LSM_READOUTS = ("ridge", "logistic")
#: at most this many read-out times: the reservoir's memory is measured, not a wide random projection
MAX_READ_TIMES = 3


def parse_grid(text: Any, owner: str = "LSM") -> tuple[int, int, int]:
    """``"15x3x3"`` (or a sequence of three ints) as (x, y, z)."""
    parts = text.lower().split("x") if isinstance(text, str) else text
    try:
        grid = tuple(int(p) for p in parts)
    except (TypeError, ValueError):
        grid = ()
    if len(grid) != 3 or min(grid) < 1:
        raise ValueError(f"{owner}: grid must be three positive ints written XxYxZ, got {text!r}; e.g. 15x3x3")
    return grid


def parse_read_times(text: Any, owner: str = "LSM") -> tuple[int, ...]:
    """``"-1"`` or ``"9,19,-1"`` (or a sequence of ints) as step indices; at most ``MAX_READ_TIMES``."""
    parts = text.split(",") if isinstance(text, str) else ((text,) if isinstance(text, int) else text)
    try:
        times = tuple(int(p) for p in parts)
    except (TypeError, ValueError):
        times = ()
    if not 1 <= len(times) <= MAX_READ_TIMES:
        raise ValueError(f"{owner}: read_times must be 1 to {MAX_READ_TIMES} step indices separated by commas "
                         f"(negative counts from the end), got {text!r}; e.g. -1 or 13,27,-1")
    return times


def _grid_text(grid) -> str:
    return "x".join(str(g) for g in grid)


@dataclass
class LSMConfig(ModelOptions):
    default_encoder = "poisson"
    ann_twin = "the readout on the raw input"

    grid: str = option(_grid_text(LSM_DEFAULTS["grid"]), "the liquid's 3-D grid of LIF neurons, XxYxZ "
                                                         "(4 in 5 excitatory)")
    lam: float = option(LSM_DEFAULTS["lam"], "connection length lambda, in grid units: P(a->b) = C exp(-(D/lam)^2)")
    read_times: str = option("-1", f"steps at which the liquid state is read, up to {MAX_READ_TIMES}, comma "
                                   f"separated, negative from the end (of the held input)")
    readout: str = option("ridge", "ridge: fitted in closed form; logistic: trained by gradient descent "
                                   "(epochs, lr, batch_size, weight_decay)", LSM_READOUTS)
    ridge_alpha: float = option(1.0, "the ridge readout's regularisation, on standardised states")
    reservoir_seed: int = option(LSM_DEFAULTS["seed"], "seed of the reservoir's wiring and weights")
    input_fraction: float = option(LSM_DEFAULTS["input_fraction"], "share of the neurons each input stream reaches")
    input_weight: float = option(LSM_DEFAULTS["input_weight"], "mean input weight onto excitatory neurons "
                                                               "(half onto inhibitory)")
    weight_scale: Optional[float] = option(LSM_DEFAULTS["weight_scale"], "threshold units per nA of the paper's "
                                                                         "recurrent weights (default: the synapse "
                                                                         "kind's, see models.lsm)")
    synapses: str = option(LSM_DEFAULTS["synapses"], "static or dynamic (Tsodyks-Markram, experimental)", SYNAPSES)
    hold: int = option(1, "simulation steps each input step is held for (the liquid sees T x hold steps)")

    def __post_init__(self):
        super().__post_init__()
        parse_grid(self.grid, self.owner())
        parse_read_times(self.read_times, self.owner())
        self.check(isinstance(self.lam, (int, float)) and math.isfinite(self.lam) and self.lam >= 0,
                   f"lam must be a finite number >= 0, got {self.lam!r}; the paper uses 2")
        self.check(isinstance(self.ridge_alpha, (int, float)) and math.isfinite(self.ridge_alpha)
                   and self.ridge_alpha >= 0, f"ridge_alpha must be >= 0, got {self.ridge_alpha!r}")
        self.check(isinstance(self.hold, int) and not isinstance(self.hold, bool) and self.hold >= 1,
                   f"hold must be an int >= 1, got {self.hold!r}")
        self.check(isinstance(self.reservoir_seed, int) and self.reservoir_seed >= 0,
                   f"reservoir_seed must be an int >= 0, got {self.reservoir_seed!r}")
        self.check(isinstance(self.input_fraction, (int, float)) and 0 < self.input_fraction <= 1,
                   f"input_fraction must be in (0, 1], got {self.input_fraction!r}")

    def arguments(self, data: ModelInput) -> dict[str, Any]:
        steps = data.sample_shape[0] if data.temporal else None
        return {"in_features": data.features, "num_classes": data.num_classes, "steps": steps,
                "grid": _grid_text(parse_grid(self.grid)), "lam": self.lam,
                "read_times": ",".join(map(str, parse_read_times(self.read_times))), "readout": self.readout,
                "ridge_alpha": self.ridge_alpha, "reservoir_seed": self.reservoir_seed,
                "input_fraction": self.input_fraction, "input_weight": self.input_weight,
                "weight_scale": self.weight_scale, "synapses": self.synapses, "hold": self.hold}

    @property
    def neuron_name(self) -> Optional[str]:
        return "lif liquid"


_D = LSMConfig


@MODELS.register("lsm", config=LSMConfig)
class LSMClassifier(nn.Module):
    """A fixed liquid (``self.liquid``) and a trained linear readout (``self.readout``) on its
    standardised states; the ANN twin has no liquid and reads the raw input.

    ``steps``: T of a temporal dataset (the ANN twin flattens ``T x in_features``); None for a
    static one, whose samples the run encodes over T (the twin then reads one sample as it is).
    """

    def __init__(self, in_features: int = 28, num_classes: int = 10, steps: Optional[int] = None,
                 grid=_D.grid, lam: float = _D.lam, read_times=_D.read_times, readout: str = _D.readout,
                 ridge_alpha: float = _D.ridge_alpha, reservoir_seed: int = _D.reservoir_seed,
                 input_fraction: float = _D.input_fraction, input_weight: float = _D.input_weight,
                 weight_scale: Optional[float] = _D.weight_scale, synapses: str = _D.synapses, hold: int = _D.hold,
                 ann: bool = False, activation: str = "relu"):
        super().__init__()
        options = LSMConfig(grid=_grid_text(parse_grid(grid)), lam=lam, read_times=",".join(
            str(t) for t in parse_read_times(read_times)), readout=readout, ridge_alpha=ridge_alpha,
            reservoir_seed=reservoir_seed, input_fraction=input_fraction, input_weight=input_weight,
            weight_scale=weight_scale, synapses=synapses, hold=hold)
        for name, value in (("in_features", in_features), ("num_classes", num_classes)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"LSM: {name} must be a positive int, got {value!r}")
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
            raise ValueError(f"LSM: steps (T of a temporal dataset) must be a positive int or None, got {steps!r}")
        self.is_ann = bool(ann)
        self.steps = steps
        self.readout_kind = options.readout
        self.ridge_alpha = float(options.ridge_alpha)
        self.read_times = parse_read_times(options.read_times)
        self.hold = options.hold
        if self.is_ann:
            self.liquid = None
            width = in_features * (steps or 1)
        else:
            self.liquid = LiquidStateMachine(in_features, grid=parse_grid(options.grid), lam=options.lam,
                                             weight_scale=options.weight_scale, synapses=options.synapses,
                                             input_fraction=options.input_fraction,
                                             input_weight=options.input_weight, seed=options.reservoir_seed)
            width = self.liquid.n_neurons * len(self.read_times)
        self.readout = nn.Linear(width, num_classes)
        self.register_buffer("feature_mean", torch.zeros(width))
        self.register_buffer("feature_std", torch.ones(width))

    def liquid_input(self, x_seq: Tensor) -> Tensor:
        """``T x N x ...`` as the liquid's input ``(T hold) x N x in_features``."""
        x_seq = x_seq.flatten(2)
        return x_seq.repeat_interleave(self.hold, dim=0) if self.hold > 1 else x_seq

    def features(self, x: Tensor) -> Tensor:
        """What the readout reads, before standardising: ``N x width``. The liquid's states at
        ``read_times`` (input ``T x N x ...``), or for the twin the raw input (``T x N x F`` for a
        temporal dataset, ``N x ...`` for a static one)."""
        if self.is_ann:
            return x.transpose(0, 1).flatten(1) if self.steps is not None else x.flatten(1)
        if x.dim() < 3:
            raise ValueError(f"LSM expects a sequence [T, N, features], got shape {list(x.shape)}")
        states = self.liquid(self.liquid_input(x), read_times=self.read_times, record_spikes=False).states
        return states.transpose(0, 1).flatten(1)

    def read(self, features: Tensor) -> Tensor:
        """Class scores ``N x classes`` of features ``N x width``."""
        return self.readout((features.to(self.feature_mean) - self.feature_mean) / self.feature_std)

    def forward(self, x: Tensor) -> Tensor:
        """``1 x N x classes``; the twin on a static dataset returns ``N x classes`` (the run adds T)."""
        scores = self.read(self.features(x))
        return scores if self.is_ann and self.steps is None else scores.unsqueeze(0)

    def set_standardisation(self, mean: Tensor, std: Tensor) -> None:
        self.feature_mean.copy_(mean.to(self.feature_mean))
        self.feature_std.copy_(std.to(self.feature_std))
