"""Training memory bounded in T: run a multi-step network over time chunks with checkpointing.

    out = time_checkpoint(net, x_seq, time_chunk=8)      # = net(x_seq), T x N x ...

The network runs chunk by chunk (``x_seq.split(time_chunk)``) under
``torch.utils.checkpoint`` (non-reentrant): the forward keeps, per chunk, only the chunk's input
(a view of ``x_seq``) and the state of every stateful module at the chunk's start; the backward
recomputes one chunk at a time. Activation memory is then that of ``time_chunk`` steps plus one
state per chunk: a network trains at T = 64 with about the memory of T = 8, for about one more
forward pass of time. Per neuron and step the kept state is 4 / time_chunk bytes (8 / time_chunk
for ALIF): 0.5 bytes with ``time_chunk=8``.

Stateful modules are found by duck typing (``memory_names()``, as ``MemoryModule``); their state
after the call is the state at the end of the sequence, as with ``net(x_seq)``. Caveat of any
recomputation: BatchNorm running statistics are updated once more per chunk in the backward
(dropout masks are reproduced: the RNG state is kept).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from .. import reset_check


def _stateful(net: nn.Module) -> list[tuple[nn.Module, list[str]]]:
    return [(m, list(m.memory_names())) for m in net.modules() if callable(getattr(m, "memory_names", None))]


def _get(mods) -> list[Any]:
    return [getattr(m, n) for m, names in mods for n in names]


def _set(mods, values) -> None:
    it = iter(values)
    for m, names in mods:
        for n in names:
            object.__setattr__(m, n, next(it))


def time_checkpoint(net: nn.Module, x_seq: Tensor, time_chunk: int = 8) -> Tensor:
    """``net(x_seq)`` for a multi-step ``net``, with activations recomputed chunk by chunk in backward.

    Args:
        net: a network in multi-step mode (input ``T x N x ...``, output ``T x ...``).
        x_seq: the input sequence.
        time_chunk: steps per chunk (>= 1).
    """
    if isinstance(time_chunk, bool) or not isinstance(time_chunk, int) or time_chunk < 1:
        raise ValueError(f"time_checkpoint: time_chunk must be a positive int, got {time_chunk!r}")
    if not isinstance(x_seq, Tensor) or x_seq.dim() < 1 or x_seq.shape[0] == 0:
        raise ValueError(f"time_checkpoint expects a [T, N, ...] tensor with T >= 1, got {x_seq!r:.80}")
    if not torch.is_grad_enabled():
        return net(x_seq)
    mods = _stateful(net)

    def run(x_chunk: Tensor, *state):
        # runs in the forward and again in the backward: leave the modules' state as it was
        before = _get(mods)
        try:
            _set(mods, state)
            y = net(x_chunk)
            return (y, *_get(mods))
        finally:
            _set(mods, before)

    outs = []
    with reset_check.continuing():       # the chunks are one sequence: only the first is checked
        for x_chunk in x_seq.split(time_chunk):
            y, *state = checkpoint(run, x_chunk, *_get(mods), use_reentrant=False)
            _set(mods, state)
            outs.append(y)
    return outs[0] if len(outs) == 1 else torch.cat(outs)
