"""What autograd keeps for the backward pass, measured: ``SavedTensorsMeter``.

Within the block, every tensor a graph saves for backward is counted by its storage (a storage
saved by several operations, such as a weight used at every step, counts once) until the graph
that holds it is freed; ``peak`` is the largest total alive at one time, in bytes. BPTT holds T
steps' graphs at once, so its peak grows with T; online training holds one step's
(``training.online``).

    >>> with SavedTensorsMeter() as meter:
    ...     loss = (w * x).sum(); loss.backward()
    >>> meter.peak, meter.live_bytes          # bytes of w's and x's storages, then 0 after the backward
"""

from __future__ import annotations

import weakref

import torch
from torch import Tensor

__all__ = ["SavedTensorsMeter"]


class _Saved:
    """A saved tensor, held by the graph; when the graph drops it, the meter is told."""

    __slots__ = ("tensor", "__weakref__")

    def __init__(self, tensor: Tensor):
        self.tensor = tensor


class SavedTensorsMeter:
    """Counts the bytes of the storages autograd saves for backward while the block runs: ``live_bytes``
    now, ``peak`` the most at any time, ``saves`` how many tensors were saved in all."""

    def __init__(self):
        self._live: dict[int, list[int]] = {}      # storage address -> [bytes, references]
        self.live_bytes = 0
        self.peak = 0
        self.saves = 0
        self._hooks = None

    def _pack(self, tensor: Tensor) -> _Saved:
        storage = tensor.untyped_storage()
        key = storage.data_ptr()
        entry = self._live.get(key)
        if entry is None:
            entry = self._live[key] = [storage.nbytes(), 0]
            self.live_bytes += entry[0]
            self.peak = max(self.peak, self.live_bytes)
        entry[1] += 1
        self.saves += 1
        held = _Saved(tensor)
        weakref.finalize(held, self._release, key)
        return held

    def _release(self, key: int) -> None:
        entry = self._live[key]
        entry[1] -= 1
        if entry[1] == 0:
            self.live_bytes -= entry[0]
            del self._live[key]

    @staticmethod
    def _unpack(held: _Saved) -> Tensor:
        return held.tensor

    def __enter__(self) -> "SavedTensorsMeter":
        if self._hooks is not None:
            raise RuntimeError("SavedTensorsMeter: already measuring; use a new meter for a nested block")
        self._hooks = torch.autograd.graph.saved_tensors_hooks(self._pack, self._unpack)
        self._hooks.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._hooks.__exit__(*exc)
        self._hooks = None
