"""``SynapseFilter``: an exponential synaptic current driven by spikes (SpikingJelly's layer).

For t = 0 .. T-1, with I(-1) = 0 and decay 1/tau (``learnable``: 1/tau = sigmoid(w)):

    I(t) = I(t-1) - (1 - S(t)) I(t-1) / tau + S(t)

A spike sets the current to I(t-1) + 1 (no decay at that step); without one it decays by 1/tau.
The current is state: ``reset()`` / ``functional.reset_net`` set it back to 0.

>>> syn = SynapseFilter(tau=10.0, step_mode="m")
>>> syn(spikes).shape == spikes.shape              # spikes [T, N, ...]
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor, nn

from ..dynamics import scan
from ..module import MemoryModule
from ._seq import check_seq, check_tensor


def synapse_filter_step(x: Tensor, current: Tensor, decay) -> Tensor:
    """One step of the filter: I' = I - (1 - X) I decay + X."""
    return current - (1.0 - x) * current * decay + x


class SynapseFilter(MemoryModule):
    """The current I(t) of an exponential synapse fed by ``x`` (spikes or any input).

    Args:
        tau: the time constant in steps, > 1.
        learnable: learn 1/tau as sigmoid(w) (w initialised to -log(tau - 1)).
        step_mode: ``'s'`` (input ``[N, ...]``) or ``'m'`` (input ``[T, N, ...]``).
    """

    def __init__(self, tau: float = 100.0, learnable: bool = False, step_mode: str = "s"):
        super().__init__(step_mode)
        if isinstance(tau, bool) or not isinstance(tau, (int, float)) or not tau > 1:
            raise ValueError(f"SynapseFilter: tau must be a number > 1 (the decay 1/tau lies in (0, 1)), got {tau!r}")
        self.learnable = bool(learnable)
        if self.learnable:
            self.w = nn.Parameter(torch.as_tensor(-math.log(float(tau) - 1.0)))
        else:
            self.tau = float(tau)
        self.register_memory("out_i", None)

    def decay(self):
        """1/tau: ``sigmoid(w)`` when learnable, else the fixed ``1 / tau``."""
        return self.w.sigmoid() if self.learnable else 1.0 / self.tau

    def _current(self, like: Tensor) -> Tensor:
        current: Optional[Tensor] = self.out_i
        if current is None:
            return torch.zeros_like(like)
        if current.shape != like.shape:
            raise ValueError(f"{self.layer_name()}: input of shape {list(like.shape)} differs from the current's "
                             f"shape {list(current.shape)}; call spikesmith.functional.reset_net(net) between batches")
        return current

    def _step(self, x: Tensor, current: Tensor):
        current = synapse_filter_step(x, current, self.decay())
        return current, current

    def forward(self, x: Tensor) -> Tensor:
        if self.step_mode == "s":
            check_tensor(x, self)
            out, self.out_i = self._step(x, self._current(x))
            return out
        check_seq(x, self, "[T, N, ...]")
        out, self.out_i = scan(self._step, x, self._current(x[0]))
        return out

    def extra_repr(self) -> str:
        tau = round(float(1.0 / self.w.detach().sigmoid()), 4) if self.learnable else self.tau
        return f"tau={tau}, learnable={self.learnable}, step_mode={self.step_mode!r}"
