"""Train one output LIF to fire a target spike train with a spike-timing rule (ReSuMe, Chronotron, SPAN).

A rule is any object with ``features(inputs, neuron) -> T x n_in`` (what it reads of the inputs, computed
once for frozen inputs) and ``update(features, actual, desired, neuron) -> dw [n_in]`` (a pure function of
the binned actual and desired trains). ``SpikeTimingNeuron`` holds the weights; ``fit`` runs trials:
simulate, measure, apply the rule's change, and records the van Rossum and Victor–Purpura distances to
the target before the first change and after every one.

>>> cell = SpikeTimingNeuron(400, TimingLIF(dt=0.5), init_mean=0.01, init_std=0.01, seed=0)
>>> history = cell.fit(inputs, target_ms, ChronotronE(lr=0.02), epochs=300)       # doctest: +SKIP
>>> history.van_rossum[0], history.van_rossum[-1]                                   # doctest: +SKIP
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Callable, Optional

import torch
from torch import Tensor, nn

from ..metrics import as_spike_times as check_spike_times
from ..metrics import van_rossum, victor_purpura
from .timing_neuron import TimingLIF, check_inputs, simulate, spike_times_of, synaptic_current, target_train

DISTANCE_TAU = 5.0                       # ms: the van Rossum tau the history records
DISTANCE_Q = 1.0 / 5.0                   # 1/ms: the Victor–Purpura cost the history records


@dataclass
class TimingHistory:
    """Distances to the target before training (entry 0) and after each trial's change."""

    van_rossum: list[float] = field(default_factory=list)
    victor_purpura: list[float] = field(default_factory=list)
    spike_counts: list[int] = field(default_factory=list)
    output_times: Optional[Tensor] = None                  # the last simulated output (ms)

    def fall(self, which: str = "van_rossum") -> float:
        """The relative fall of a distance from its first to its last entry (1.0: reached 0)."""
        values = getattr(self, which)
        return 1.0 - values[-1] / values[0] if values and values[0] > 0 else 0.0


def _check_rule(rule: object) -> object:
    if not (callable(getattr(rule, "features", None)) and callable(getattr(rule, "update", None))):
        raise TypeError(f"rule must have features(inputs, neuron) and update(features, actual, desired, neuron) "
                        f"(ReSuMe, ChronotronE, ChronotronI, SPAN), got {type(rule).__name__}")
    return rule


class SpikeTimingNeuron(nn.Module):
    """One current-based LIF output neuron with ``n_in`` plastic weights (no gradient: the rules set them)."""

    def __init__(self, n_in: int, neuron: Optional[TimingLIF] = None, *, init_mean: float = 0.0,
                 init_std: float = 0.01, seed: Optional[int] = None):
        super().__init__()
        if isinstance(n_in, bool) or not isinstance(n_in, numbers.Integral) or n_in < 1:
            raise ValueError(f"SpikeTimingNeuron: n_in must be a positive int (the number of afferents), got {n_in!r}")
        self.neuron = TimingLIF() if neuron is None else neuron
        if not isinstance(self.neuron, TimingLIF):
            raise TypeError(f"SpikeTimingNeuron: neuron must be a TimingLIF, got {type(self.neuron).__name__}")
        for name, value in (("init_mean", init_mean), ("init_std", init_std)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise ValueError(f"SpikeTimingNeuron: {name} must be a finite number, got {value!r}")
        if init_std < 0:
            raise ValueError(f"SpikeTimingNeuron: init_std must be >= 0, got {init_std}; pass its absolute value")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
            raise ValueError(f"SpikeTimingNeuron: seed must be an int >= 0 or None, got {seed!r}")
        generator = torch.Generator().manual_seed(int(seed)) if seed is not None else None
        w = init_mean + init_std * torch.randn(int(n_in), generator=generator, dtype=torch.float64)
        self.weight = nn.Parameter(w, requires_grad=False)

    def forward(self, inputs: Tensor) -> Tensor:
        """The binned output spikes ``[T]`` for the input spikes ``T x n_in``."""
        current = synaptic_current(check_inputs(inputs, "SpikeTimingNeuron").to(torch.float64), self.neuron)
        return simulate(current, self.weight, self.neuron)[0]

    def fit(self, inputs: Tensor, target_ms, rule, epochs: int, *, distance_tau: float = DISTANCE_TAU,
            distance_q: float = DISTANCE_Q, progress: Optional[Callable] = None) -> TimingHistory:
        """Train for ``epochs`` trials on the frozen ``inputs`` toward the target times ``target_ms``.

        ``progress``: an optional wrapper of the epoch range (``tqdm.tqdm``).
        """
        rule = _check_rule(rule)
        if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 0:
            raise ValueError(f"fit: epochs must be an int >= 0, got {epochs!r}")
        inputs = check_inputs(inputs, "fit").to(torch.float64)
        dt = self.neuron.dt
        desired = target_train(target_ms, inputs.shape[0], dt, "fit")      # the rules see it on the grid,
        target_times = check_spike_times(target_ms, "fit", "target")         # the distances use the true times
        current = synaptic_current(inputs, self.neuron)
        features = rule.features(inputs, self.neuron).to(torch.float64)
        history = TimingHistory()
        steps = range(int(epochs) + 1)
        for epoch in (progress(steps) if progress else steps):
            actual = simulate(current, self.weight, self.neuron)[0]
            times = spike_times_of(actual, dt)
            history.van_rossum.append(van_rossum(times, target_times, distance_tau))
            history.victor_purpura.append(victor_purpura(times, target_times, distance_q))
            history.spike_counts.append(int(actual.sum()))
            history.output_times = times
            if epoch < epochs:
                with torch.no_grad():
                    self.weight += rule.update(features, actual, desired, self.neuron)
                if not bool(torch.isfinite(self.weight).all()):
                    raise ValueError(f"fit: the weights became NaN or infinite after trial {epoch + 1} of "
                                     f"{type(rule).__name__}; lower its lr (got {getattr(rule, 'lr', '?')})")
        return history
