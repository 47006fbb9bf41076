"""SpikingJelly's ``backend=`` names mapped onto spikesmith's, with one notice per process.

SpikingJelly        spikesmith
``'torch'``     ->  ``'torch'`` (the ``scan`` reference loop, as SpikingJelly's own torch backend)
``'cupy'``      ->  ``'auto'``  (the fused kernel of the input's device: C++ on the CPU, Triton on CUDA)
``'triton'``    ->  ``'auto'``  (the same; our ``'triton'`` is an error on CPU inputs, SpikingJelly code
                                 that names it must still run)
spikesmith's own names (``'auto'``, ``'cpu'``) pass unchanged (``'triton'`` is read as SpikingJelly's). Anything else is a ValueError naming both lists.
"""

from __future__ import annotations

import sys
import warnings

from ...neuron import BACKENDS

#: SpikingJelly backend name -> the spikesmith backend that runs it.
SJ_BACKENDS = {"torch": "torch", "cupy": "auto", "triton": "auto"}


class SpikingJellyBackendNotice(UserWarning):
    """A SpikingJelly backend name (``'cupy'``, ``'triton'``) was mapped onto a spikesmith backend."""


_noticed: set = set()


def outside_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first caller outside spikesmith (the user's line)."""
    level, frame = 2, sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("spikesmith"):
        frame, level = frame.f_back, level + 1
    return level


def map_backend(backend: str, owner: str) -> str:
    """The spikesmith backend for SpikingJelly's ``backend`` (a notice the first time one is mapped)."""
    if backend in BACKENDS and SJ_BACKENDS.get(backend, backend) == backend:
        return backend
    if backend not in SJ_BACKENDS:
        raise ValueError(f"{owner}: unknown backend {backend!r}; SpikingJelly's names {sorted(SJ_BACKENDS)} and "
                         f"spikesmith's {BACKENDS} are accepted")
    target = SJ_BACKENDS[backend]
    if backend not in _noticed:
        _noticed.add(backend)
        warnings.warn(f"spikesmith.compat.spikingjelly: backend={backend!r} runs as spikesmith's backend={target!r} "
                      f"(the fused kernel of the input's device where it applies, else scan); this notice is shown "
                      f"once", SpikingJellyBackendNotice, stacklevel=outside_stacklevel())
    return target


def supported_backends(step_mode: str) -> tuple:
    """What SpikingJelly lists as a neuron's backends: ``('torch',)`` single-step; multi-step adds the
    fused ones (which here map onto ours)."""
    return ("torch",) if step_mode == "s" else ("torch", "cupy", "triton")
