"""Fused multi-step neuron kernels that replace ``dynamics.scan`` (which stays as the oracle).

A neuron describes its dynamics as a ``KernelSpec`` (a charge kind and its named parameters,
``contract``); each charge kind is one table entry in ``charges/`` with its step and derivative in
C++ and Triton, and each surrogate declares its own derivative code
(``SurrogateFunction.kernel_code``). From those the kernels are generated: C++ compiled with OpenMP
on first use (``cpu``; cached on disk, see ``_build``) and Triton (``gpu``). ``backend`` chooses
between them and ``scan``: the neurons' ``backend='auto'`` (the default) takes the fused kernel for
float32 inputs where one applies.

>>> spec = KernelSpec("lif", params={"decay": 0.5}, surrogate=surrogate.Sigmoid())
>>> s_seq, (v_T,) = kernels.run("cpu", spec, x_seq, [0.0])
>>> s_seq, v_T, _ = kernels.multi_step(x_seq, 0.0, charge="lif", v_threshold=1.0, v_reset=0.0,
...                                    decay=0.5, surrogate=surrogate.Sigmoid())

The kernels are the custom ops ``torch.ops.spikesmith.neuron_forward`` / ``neuron_backward``
(``ops``), so ``torch.compile`` traces a fused neuron as one node.

This package imports only torch, ``dynamics``, ``surrogate`` and ``registry``.
"""

from . import charges
from .allocator import reuse_freed_memory, reusing_freed_memory
from .backend import BACKENDS, check_backend, choose, run
from .checkpoint import time_checkpoint
from .contract import CHARGES, ChargeCode, ChargeKind, KernelSpec
from .cpu import available, multi_step, unavailable_reason
from .fused import DEFAULT_TIME_CHUNK

__all__ = [
    "BACKENDS", "CHARGES", "ChargeCode", "ChargeKind", "DEFAULT_TIME_CHUNK", "KernelSpec",
    "available", "charges", "check_backend", "choose", "multi_step", "reuse_freed_memory", "reusing_freed_memory",
    "run", "time_checkpoint", "unavailable_reason",
]
