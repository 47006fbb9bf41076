"""SpikingJelly's old ``clock_driven.layer``: the containers around plain torch layers and the
stateful layers, as in ``activation_based.layer``.

``SeqToANNContainer`` (stateless layers on ``[T, N, ...]``, time folded into the batch), ``MultiStepContainer``
(single-step modules step by step), ``Dropout`` / ``Dropout2d`` (one mask until ``reset_net``),
``MultiStepDropout`` / ``MultiStepDropout2d`` (the same on ``[T, N, ...]``), ``SynapseFilter``,
``LinearRecurrentContainer``, ``ElementWiseRecurrentContainer``.
"""

from __future__ import annotations

from ..activation_based import layer as _ab
from ..activation_based.layer import (  # noqa: F401  (the old API's names)
    ElementWiseRecurrentContainer,
    LinearRecurrentContainer,
    MultiStepContainer,
    SeqToANNContainer,
    SynapseFilter,
)
from .._missing import missing_name


class Dropout(_ab.Dropout):
    """The old single-step ``Dropout(p=0.5)``: one mask kept until ``reset_net``."""

    def __init__(self, p: float = 0.5, dropout_spikes: bool = False):
        super().__init__(p, step_mode="s")


class Dropout2d(_ab.Dropout2d):
    """The old single-step ``Dropout2d(p=0.2)``: one channel mask kept until ``reset_net``."""

    def __init__(self, p: float = 0.2, dropout_spikes: bool = False):
        super().__init__(p, step_mode="s")


class MultiStepDropout(_ab.Dropout):
    """The old ``MultiStepDropout(p=0.5)``: one mask for all steps of ``[T, N, ...]``."""

    def __init__(self, p: float = 0.5, dropout_spikes: bool = False):
        super().__init__(p, step_mode="m")


class MultiStepDropout2d(_ab.Dropout2d):
    """The old ``MultiStepDropout2d(p=0.2)``: one channel mask for all steps of ``[T, N, C, H, W]``."""

    def __init__(self, p: float = 0.2, dropout_spikes: bool = False):
        super().__init__(p, step_mode="m")


__all__ = ["Dropout", "Dropout2d", "ElementWiseRecurrentContainer", "LinearRecurrentContainer", "MultiStepContainer",
           "MultiStepDropout", "MultiStepDropout2d", "SeqToANNContainer", "SynapseFilter"]


def __getattr__(name: str):
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name in _ab._FROM_SPIKESMITH_LATER:
        return getattr(_ab, name)
    raise missing_name(__name__, name, _ab._NEAREST, __all__)
