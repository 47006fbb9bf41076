"""Helpers shared by the step-mode-aware layers: input checks, folding time, step loops.

A multi-step tensor is ``T x N x ...``. A layer that treats every time step alike (no state)
runs once on the folded batch:

    X_seq: [T, N, ...]  --flatten(0, 1)-->  [T*N, ...]  --layer-->  [T*N, ...']  --unflatten-->  [T, N, ...']

A stateful module must instead see the steps one after the other (``spikesmith.dynamics.scan``).
"""

from __future__ import annotations

from typing import Callable, Union

from torch import Tensor, nn

from ..dynamics import scan
from ..module import MemoryModule, StepModule, check_dims, check_tensor, owner_name  # noqa: F401

Output = Union[Tensor, tuple]


def check_seq(x, module: nn.Module, layout: str, dims: tuple[int, ...] = (), min_dims: int = 2) -> None:
    """Check a multi-step input (see ``spikesmith.module.check_dims``)."""
    check_dims(x, module, layout, dims, min_dims, step_mode="m")


def fold_time(fn: Callable[[Tensor], Output], x_seq: Tensor) -> Output:
    """Apply ``fn`` to ``x_seq`` with time folded into the batch; unfold every output tensor."""
    T, N = x_seq.shape[0], x_seq.shape[1]
    y = fn(x_seq.flatten(0, 1))
    if isinstance(y, tuple):
        return tuple(part.unflatten(0, (T, N)) for part in y)
    return y.unflatten(0, (T, N))


def loop_time(fn: Callable[[Tensor], Output], x_seq: Tensor) -> Output:
    """Apply ``fn`` to every step of ``x_seq`` in order (``scan`` over ``unbind(0)``); stack."""

    def step(x: Tensor, state: None):
        return fn(x), state

    out, _ = scan(step, x_seq, None)
    return out


def pin_single_step(parent: nn.Module) -> None:
    """Put every step module below ``parent`` (not ``parent`` itself) in single-step mode.

    Containers that drive their children one step (or one folded batch) at a time call this at
    every forward, so that ``functional.set_step_mode(net, 'm')`` on the whole network cannot
    switch a child to a layout it would not receive.
    """
    for child in parent.children():
        for module in child.modules():
            if isinstance(module, StepModule) and module.step_mode != "s":
                module.step_mode = "s"


def has_memory(module: nn.Module) -> bool:
    """Whether ``module`` or one of its submodules carries state across steps."""
    return any(isinstance(m, MemoryModule) for m in module.modules())
