"""The Chronotron (Florian 2012): E-learning, the gradient of a Victor–Purpura error, and I-learning.

**E-learning.** The actual output train is aligned with the desired one by the Victor–Purpura edit
(``metrics.victor_purpura_alignment``, cost ``q`` per ms moved): some actual spikes are moved onto
desired ones (pairs S), the other actual spikes must be removed (F+), the other desired spikes inserted
(F-). The error is lowered by raising the membrane where a spike is missing, lowering it where one is
spurious and moving each paired spike toward its target. With ``lambda_i(t)``, afferent i's PSP (the
membrane's derivative in w_i below threshold, resets ignored):

    dw_i = lr * [ sum_{t in F-} lambda_i(t) - sum_{t in F+} lambda_i(t)
                  + shift_gain * sum_{(t_o, t_d) in S} (t_o - t_d) lambda_i(t_o) ]

(a late spike, t_o > t_d, is moved earlier by raising the weights that lead up to it; ``shift_gain`` in
1/ms is ``gamma_r / tau_q^2`` of the paper, the weight of a shift against an insertion).

**I-learning.** A local, plausible variant: at every desired spike the synapses are potentiated by their
synaptic current, at every actual spike depressed by it,

    dw_i = lr * [ sum_{t_d} I_i(t_d) - sum_{t_o} I_i(t_o) ]

so coinciding spikes cancel. Both are applied once per trial.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..metrics import victor_purpura_alignment
from .timing_neuron import TimingLIF, check_inputs, membrane_response, spike_times_of, synaptic_current
from .traces import check_positive


def e_learning_update(psp: Tensor, actual: Tensor, desired: Tensor, dt: float, lr: float, q: float,
                      shift_gain: float) -> Tensor:
    """``dw [n_in]`` from the PSPs ``T x n_in`` and the binned ``[T]`` trains (step ``dt`` ms)."""
    t_out, t_des = spike_times_of(actual, dt), spike_times_of(desired, dt)
    edit = victor_purpura_alignment(t_out, t_des, q)
    step_out, step_des = actual.nonzero()[:, 0], desired.nonzero()[:, 0]
    signal = torch.zeros(psp.shape[0], dtype=psp.dtype)
    signal.index_add_(0, step_des[list(edit.only_b)], torch.ones(len(edit.only_b), dtype=psp.dtype))
    signal.index_add_(0, step_out[list(edit.only_a)], -torch.ones(len(edit.only_a), dtype=psp.dtype))
    if edit.pairs:
        i_out = torch.tensor([i for i, _ in edit.pairs])
        i_des = torch.tensor([j for _, j in edit.pairs])
        lag = (t_out[i_out] - t_des[i_des]).to(psp.dtype)
        signal.index_add_(0, step_out[i_out], shift_gain * lag)
    return lr * (signal @ psp)


def i_learning_update(current: Tensor, actual: Tensor, desired: Tensor, lr: float) -> Tensor:
    """``dw [n_in]`` from the synaptic currents ``T x n_in`` and the binned ``[T]`` trains."""
    return lr * ((desired - actual).to(current.dtype) @ current)


@dataclass(frozen=True)
class ChronotronE:
    """Chronotron E-learning: the gradient of the Victor–Purpura error (``q`` in 1/ms)."""

    lr: float = 0.01
    q: float = 0.2
    shift_gain: float = 0.2

    def __post_init__(self):
        for name in ("lr", "q", "shift_gain"):
            check_positive(getattr(self, name), "ChronotronE", name)

    def features(self, inputs: Tensor, neuron: TimingLIF) -> Tensor:
        """Each afferent's PSP ``lambda_i[k]`` (``T x n_in``)."""
        return membrane_response(synaptic_current(check_inputs(inputs, "ChronotronE.features"), neuron), neuron)

    def update(self, features: Tensor, actual: Tensor, desired: Tensor, neuron: TimingLIF) -> Tensor:
        return e_learning_update(features, actual, desired, neuron.dt, self.lr, self.q, self.shift_gain)


@dataclass(frozen=True)
class ChronotronI:
    """Chronotron I-learning: potentiate by the synaptic current at desired spikes, depress at actual ones."""

    lr: float = 0.01

    def __post_init__(self):
        check_positive(self.lr, "ChronotronI", "lr")

    def features(self, inputs: Tensor, neuron: TimingLIF) -> Tensor:
        """Each afferent's synaptic current ``I_i[k]`` (``T x n_in``)."""
        return synaptic_current(check_inputs(inputs, "ChronotronI.features"), neuron)

    def update(self, features: Tensor, actual: Tensor, desired: Tensor, neuron: TimingLIF) -> Tensor:
        return i_learning_update(features, actual, desired, self.lr)
