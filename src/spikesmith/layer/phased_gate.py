"""The phased-LSTM time gate (Neil, Pfeiffer & Liu, 2016): a cell updates only while its gate is open.

Every neuron has a learnable period ``tau``, phase shift ``shift`` and open ratio ``r_on``. At time t

    phi = ((t - shift) mod tau) / tau                                  (the phase, in [0, 1))
    k   = 2 phi / r_on        if phi < r_on / 2                        (opening)
          2 - 2 phi / r_on    if r_on / 2 <= phi < r_on                (closing)
          alpha phi           otherwise                                (closed: a small leak)

and the cell's state moves only by the openness k:

    state_t = k * new_state_t + (1 - k) * state_{t-1}                  (c_t = k c~_t + (1 - k) c_{t-1})

With alpha = 0 a closed cell keeps its state exactly; alpha > 0 (default 1e-3, as in the paper) lets
a little of the update, and of the gradient, through. The gate is fully open (k = 1) only at the
peak phi = r_on / 2, so ``tau = 1`` step with ``shift = -r_on / 2`` opens it fully at every step,
which makes the cell the plain one.

Time is the step index times ``dt`` (t = 0, dt, 2 dt, ... from the last reset). Initial values
follow the paper: tau log-uniform in [tau_min, tau_max] (in units of t), shift uniform in [0, tau),
r_on = 0.05. tau and r_on are clamped to stay positive (and r_on <= 1) when used.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ..registry import Registry
from .gated_variants import State


def _check_positive(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"PhasedTimeGate: {name} must be a positive finite number, got {value!r}")
    return float(value)


class PhasedTimeGate(nn.Module):
    """A per-neuron oscillating openness k_t in [0, 1] and the state mix it drives."""

    def __init__(self, hidden_size: int, tau_min: float = math.e, tau_max: float = math.exp(6.0),
                 r_on: float = 0.05, alpha: float = 1e-3):
        super().__init__()
        tau_min, tau_max = _check_positive(tau_min, "tau_min"), _check_positive(tau_max, "tau_max")
        if tau_max < tau_min:
            raise ValueError(f"PhasedTimeGate: tau_max={tau_max} is below tau_min={tau_min}; swap them")
        r_on = _check_positive(r_on, "r_on")
        if r_on > 1:
            raise ValueError(f"PhasedTimeGate: r_on is the open fraction of a period, in (0, 1], got {r_on}")
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 <= alpha <= 1:
            raise ValueError(f"PhasedTimeGate: the closed-phase leak alpha must be in [0, 1], got {alpha!r}")
        tau = torch.empty(hidden_size).uniform_(math.log(tau_min), math.log(tau_max)).exp()
        self.tau = nn.Parameter(tau)
        self.shift = nn.Parameter(torch.rand(hidden_size) * tau)
        self.r_on = nn.Parameter(torch.full((hidden_size,), r_on))
        self.alpha = float(alpha)

    def openness(self, t: Tensor) -> Tensor:
        """k at times ``t`` (any shape; the neuron dimension is appended last)."""
        t = t.to(self.tau.dtype).unsqueeze(-1)
        tau = self.tau.clamp_min(1e-6)
        r_on = self.r_on.clamp(1e-6, 1.0)
        phi = torch.remainder(t - self.shift, tau) / tau
        rising = 2.0 * phi / r_on
        return torch.where(phi < 0.5 * r_on, rising,
                           torch.where(phi < r_on, 2.0 - rising, self.alpha * phi))

    @staticmethod
    def mix(new: State, old: State, k: Tensor) -> State:
        """k * new + (1 - k) * old, for every state tensor."""
        return tuple(k * n + (1.0 - k) * o for n, o in zip(new, old))

    def extra_repr(self) -> str:
        return f"hidden_size={self.tau.numel()}, alpha={self.alpha}"


TIME_GATES: Registry[type] = Registry("time_gate")
"""Time gates by name (``time_gate='phased'``)."""
TIME_GATES.register("phased", PhasedTimeGate)
