"""Keep freed memory in the process instead of handing it back to the OS after every tensor.

glibc serves allocations above its mmap threshold (at most 32 MiB by default) with fresh ``mmap``
pages, so every large activation of every training step pays page faults again: writing a fresh
64 MiB tensor took 17-24 ms here against 6 ms into a reused one. ``reuse_freed_memory()`` raises
the mmap and trim thresholds (``mallopt``) so freed blocks are reused, as GPU caching allocators
do. The cost: the process keeps its peak memory until it exits.

It is a process-wide setting, so the library never applies it on import; ``spikesmith train`` turns
it on (``--reuse-memory false`` to keep glibc's defaults), and benchmarks say when it is on.
"""

from __future__ import annotations

import ctypes
import ctypes.util

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_enabled = False


def reuse_freed_memory(max_block: int = 1 << 30) -> bool:
    """Serve blocks up to ``max_block`` bytes from the reusable heap; True if glibc accepted it."""
    global _enabled
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to do
        return False
    ok = bool(mallopt(_M_MMAP_THRESHOLD, int(max_block))) and bool(mallopt(_M_TRIM_THRESHOLD, (1 << 31) - 1))
    _enabled = _enabled or ok
    return ok


def reusing_freed_memory() -> bool:
    """Whether ``reuse_freed_memory()`` has been applied in this process."""
    return _enabled
