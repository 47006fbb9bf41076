"""SpikingJelly's ``activation_based.encoding``: ``PoissonEncoder`` with SpikingJelly's semantics.

``PoissonEncoder(step_mode='s')(x)`` draws one step: a spike where ``torch.rand_like(x) <= x``, with the
output of ``x``'s shape and dtype, for any ``x`` (values outside [0, 1] simply never or always fire).
Call it once per time step. (spikesmith's own ``spikesmith.encoding.PoissonEncoder`` is stricter: it takes
``T``, returns ``[T, ...]``, checks the range and fires on ``<``.)
"""

from __future__ import annotations

import torch
from torch import Tensor

from ....module import StepModule
from .._missing import missing_name


class StatelessEncoder(StepModule):
    """An encoder without state: the same ``forward`` in both step modes."""

    def __init__(self, step_mode: str = "s"):
        super().__init__(step_mode)


class PoissonEncoder(StatelessEncoder):
    """Bernoulli spikes with P(spike) = x, one step per call: ``(rand_like(x) <= x)`` in ``x``'s dtype."""

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or not x.is_floating_point():
            got = x.dtype if isinstance(x, Tensor) else type(x).__name__
            raise TypeError(f"PoissonEncoder expects a floating-point tensor of firing probabilities, got {got}; "
                            f"convert it first, e.g. x.float()")
        return torch.rand_like(x).le(x).to(x)


_NEAREST = {
    "LatencyEncoder": "spikesmith.encoding.LatencyEncoder (its own arguments)",
    "PeriodicEncoder": "spikesmith.encoding.RateEncoder",
    "WeightedPhaseEncoder": "spikesmith.encoding.RateEncoder",
    "PopulationEncoder": "spikesmith.encoding.PopulationEncoder",
    "GaussianTuningCurveEncoder": "spikesmith.encoding.PopulationEncoder",
    "StatefulEncoder": "StatelessEncoder, or a MemoryModule of your own",
}

__all__ = ["PoissonEncoder", "StatelessEncoder"]


def __getattr__(name: str):
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    raise missing_name(__name__, name, _NEAREST, __all__)
