"""Fused multi-step neuron kernels that replace ``dynamics.scan`` (which stays as the oracle).

``cpu``: IF, LIF, PLIF (with the gradient of w) and ALIF, hard and soft reset, ``detach_reset``,
``decay_input`` and every surrogate that declares its kernel form (``SurrogateFunction.kernel_code``), as one autograd Function, compiled from C++ with
OpenMP on first use (about 10 s, cached on disk; see ``_build``). The neurons pick it with
``backend='auto'`` (the default) for float32 CPU inputs and fall back to ``scan`` otherwise.

>>> s_seq, v_T, _ = kernels.multi_step(x_seq, v0, charge="lif", v_threshold=1.0, v_reset=0.0,
...                                    decay=0.5, surrogate=surrogate.Sigmoid())

This package imports only torch, ``dynamics`` and ``surrogate``.
"""

from .allocator import reuse_freed_memory, reusing_freed_memory
from .checkpoint import time_checkpoint
from .cpu import DEFAULT_TIME_CHUNK, FusedNeuronFunction, available, multi_step, surrogate_spec, unavailable_reason

__all__ = [
    "DEFAULT_TIME_CHUNK", "FusedNeuronFunction", "available", "multi_step", "reuse_freed_memory",
    "reusing_freed_memory", "surrogate_spec", "time_checkpoint", "unavailable_reason",
]
