"""SpikingJelly's old ``clock_driven.neuron`` on the compat neurons of ``activation_based.neuron``.

Single-step (``step_mode='s'``): ``BaseNode`` (custom neurons with ``neuronal_charge(self, x)``), ``IFNode``,
``LIFNode``, ``ParametricLIFNode``. Multi-step (input ``[T, N, ...]``): ``MultiStepIFNode``,
``MultiStepLIFNode``, ``MultiStepParametricLIFNode``, with the old argument order ``(..., detach_reset,
backend='torch', lava_s_cale=64)``. Their ``v_seq`` is kept only with ``store_v_seq=True`` (the old API
always kept it; keeping it runs on ``scan``).
"""

from __future__ import annotations

from ..activation_based import neuron as _ab
from ..activation_based.neuron import BaseNode, ThresholdNotAboveResetWarning  # noqa: F401  (the old API's names)
from .._missing import missing_name


class IFNode(_ab.IFNode):
    """The old single-step ``IFNode(v_threshold, v_reset, surrogate_function, detach_reset)``."""

    def __init__(self, v_threshold: float = 1.0, v_reset=0.0, surrogate_function=None, detach_reset: bool = False,
                 cupy_fp32_inference: bool = False):
        super().__init__(v_threshold, v_reset, surrogate_function, detach_reset, "s")


class LIFNode(_ab.LIFNode):
    """The old single-step ``LIFNode(tau, decay_input, v_threshold, v_reset, surrogate_function, detach_reset)``."""

    def __init__(self, tau: float = 2.0, decay_input: bool = True, v_threshold: float = 1.0, v_reset=0.0,
                 surrogate_function=None, detach_reset: bool = False, cupy_fp32_inference: bool = False):
        super().__init__(tau, decay_input, v_threshold, v_reset, surrogate_function, detach_reset, "s")


class ParametricLIFNode(_ab.ParametricLIFNode):
    """The old single-step ``ParametricLIFNode(init_tau, decay_input, v_threshold, v_reset, ...)``."""

    def __init__(self, init_tau: float = 2.0, decay_input: bool = True, v_threshold: float = 1.0, v_reset=0.0,
                 surrogate_function=None, detach_reset: bool = False):
        super().__init__(init_tau, decay_input, v_threshold, v_reset, surrogate_function, detach_reset, "s")


class MultiStepIFNode(_ab.IFNode):
    """The old ``MultiStepIFNode``: ``IFNode`` on whole sequences ``[T, N, ...]``."""

    def __init__(self, v_threshold: float = 1.0, v_reset=0.0, surrogate_function=None, detach_reset: bool = False,
                 backend: str = "torch", lava_s_cale: int = 1 << 6, store_v_seq: bool = False):
        super().__init__(v_threshold, v_reset, surrogate_function, detach_reset, "m", store_v_seq, backend)
        self.lava_s_cale = lava_s_cale


class MultiStepLIFNode(_ab.LIFNode):
    """The old ``MultiStepLIFNode``: ``LIFNode`` on whole sequences ``[T, N, ...]`` (Spikformer's neuron)."""

    def __init__(self, tau: float = 2.0, decay_input: bool = True, v_threshold: float = 1.0, v_reset=0.0,
                 surrogate_function=None, detach_reset: bool = False, backend: str = "torch",
                 lava_s_cale: int = 1 << 6, store_v_seq: bool = False):
        super().__init__(tau, decay_input, v_threshold, v_reset, surrogate_function, detach_reset, "m", store_v_seq,
                         backend)
        self.lava_s_cale = lava_s_cale


class MultiStepParametricLIFNode(_ab.ParametricLIFNode):
    """The old ``MultiStepParametricLIFNode``: ``ParametricLIFNode`` on whole sequences ``[T, N, ...]``."""

    def __init__(self, init_tau: float = 2.0, decay_input: bool = True, v_threshold: float = 1.0, v_reset=0.0,
                 surrogate_function=None, detach_reset: bool = False, backend: str = "torch",
                 store_v_seq: bool = False):
        super().__init__(init_tau, decay_input, v_threshold, v_reset, surrogate_function, detach_reset, "m",
                         store_v_seq, backend)


__all__ = ["BaseNode", "IFNode", "LIFNode", "MultiStepIFNode", "MultiStepLIFNode", "MultiStepParametricLIFNode",
           "ParametricLIFNode", "ThresholdNotAboveResetWarning"]


def __getattr__(name: str):
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    raise missing_name(__name__, name, _ab._NEAREST, __all__)
