"""ReSuMe, remote supervised method (Ponulak & Kasinski 2010): learn a desired output spike train.

The desired train S_d and the actual train S_o act on each synapse through the presynaptic trace of an
STDP window ``W(s) = A exp(-s / tau)`` (pre before post): at a desired spike the synapse is potentiated
like STDP, at an actual spike depressed like anti-STDP, each with the non-Hebbian term ``a`` on top:

    dw_i = lr * sum_k (S_d[k] - S_o[k]) (a + A x_i[k]),   x_i[k] = sum_{t_i^f <= t_k} exp(-(t_k - t_i^f) / tau)

so an output spike that coincides with a desired one changes nothing, a missing one pulls the weights of
the afferents that fired just before it up, and a spurious one pushes them down. Applied once per trial.

>>> rule = ReSuMe(lr=0.01, a=0.002, amplitude=1.0, tau=5.0)
>>> dw = rule.update(rule.features(inputs, neuron), actual, desired, neuron)   # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from .timing_neuron import TimingLIF, check_inputs
from .traces import check_positive, decay_factor, exp_trace


def resume_update(pre_trace: Tensor, actual: Tensor, desired: Tensor, lr: float, a: float, amplitude: float) -> Tensor:
    """``dw [n_in]`` from the window trace ``T x n_in`` and the binned ``[T]`` actual and desired trains."""
    error = (desired - actual).to(pre_trace.dtype)                         # +1 desired, -1 actual
    return lr * (a * error.sum() + amplitude * (error @ pre_trace))


@dataclass(frozen=True)
class ReSuMe:
    """ReSuMe with the exponential learning window (``tau`` ms) and the non-Hebbian term ``a``."""

    lr: float = 0.01
    a: float = 0.0
    amplitude: float = 1.0
    tau: float = 5.0

    def __post_init__(self):
        check_positive(self.lr, "ReSuMe", "lr")
        check_positive(self.tau, "ReSuMe", "tau")
        check_positive(self.amplitude, "ReSuMe", "amplitude")
        if isinstance(self.a, bool) or not isinstance(self.a, (int, float)) or not (0 <= self.a < float("inf")):
            raise ValueError(f"ReSuMe: a (the non-Hebbian term) must be a finite number >= 0, got {self.a!r}; "
                             f"pass a=0 to learn with the window alone")

    def features(self, inputs: Tensor, neuron: TimingLIF) -> Tensor:
        """The presynaptic window trace ``x_i[k]`` (``T x n_in``), computed once for frozen inputs."""
        return exp_trace(check_inputs(inputs, "ReSuMe.features"), decay_factor(self.tau, neuron.dt))

    def update(self, features: Tensor, actual: Tensor, desired: Tensor, neuron: TimingLIF) -> Tensor:
        return resume_update(features, actual, desired, self.lr, self.a, self.amplitude)
