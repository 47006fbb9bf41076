"""Containers that run plain (single-step) modules over a sequence ``[T, N, ...]``.

``SeqToANNContainer(*modules)``: stateless modules, all steps in one call on the folded batch,

    Y = unflatten(f(flatten(X_seq, 0, 1)), (T, N))       i.e.  Y[t] = f(X[t]).

``MultiStepContainer(*modules)``: stateful modules (neurons), step after step,

    Y[t] = f(X[t]; state after step t-1),   t = 0 .. T-1.

``StepModeContainer(stateful, *modules)``: follows ``step_mode`` (and so
``functional.set_step_mode``): ``'s'`` runs the modules on one step, ``'m'`` runs them as one of
the two containers above. It wraps a torch layer that has no step mode of its own.

All three are ``nn.Sequential`` (keys ``0.weight``, ...) and drive their children in single-step
mode: a child step module is switched to ``step_mode='s'`` at every forward, whatever
``set_step_mode`` set on the network.

>>> conv_bn = SeqToANNContainer(nn.Conv2d(2, 8, 3), nn.BatchNorm2d(8))
>>> conv_bn(torch.rand(4, 16, 2, 32, 32)).shape         # T=4, N=16
torch.Size([4, 16, 8, 30, 30])
"""

from __future__ import annotations

from torch import Tensor, nn

from ..module import MemoryModule, StepModule
from ._seq import check_seq, fold_time, loop_time, pin_single_step


class SeqToANNContainer(nn.Sequential):
    """Apply stateless modules to ``[T, N, ...]`` with time folded into the batch (always multi-step).

    BatchNorm inside pools its training statistics over all T x N samples.
    """

    def __init__(self, *modules: nn.Module):
        super().__init__(*modules)
        for name, module in self.named_modules():
            if isinstance(module, MemoryModule):
                raise TypeError(
                    f"SeqToANNContainer runs its modules on all steps at once, so they must be stateless; "
                    f"module {name!r} is a stateful {type(module).__name__}: put it in a MultiStepContainer "
                    f"or use it with step_mode='m' outside the container"
                )

    def forward(self, x_seq: Tensor):
        check_seq(x_seq, self, "[T, N, ...]")
        pin_single_step(self)
        return fold_time(super().forward, x_seq)


class MultiStepContainer(nn.Sequential):
    """Apply (stateful) single-step modules to ``[T, N, ...]`` one step at a time (always multi-step)."""

    def forward(self, x_seq: Tensor):
        check_seq(x_seq, self, "[T, N, ...]")
        pin_single_step(self)
        return loop_time(super().forward, x_seq)


class StepModeContainer(nn.Sequential, StepModule):
    """Single-step modules run according to ``step_mode``.

    Args:
        stateful: whether the modules keep state across steps. ``'m'`` mode then loops over
            time (as ``MultiStepContainer``); otherwise it folds time into the batch (as
            ``SeqToANNContainer``).
        *modules: the modules, applied in order.
        step_mode: ``'s'`` (input ``[N, ...]``) or ``'m'`` (input ``[T, N, ...]``).
    """

    def __init__(self, stateful: bool, *modules: nn.Module, step_mode: str = "s"):
        if not isinstance(stateful, bool):
            raise TypeError(
                f"StepModeContainer: the first argument is stateful (a bool), got {type(stateful).__name__}; "
                f"write StepModeContainer(False, nn.LayerNorm(8)) for stateless modules"
            )
        super().__init__(*modules)
        self.stateful = stateful
        self.step_mode = step_mode

    def forward(self, x: Tensor):
        pin_single_step(self)
        if self.step_mode == "s":
            return super().forward(x)
        check_seq(x, self, "[T, N, ...]")
        return (loop_time if self.stateful else fold_time)(super().forward, x)

    def extra_repr(self) -> str:
        return f"stateful={self.stateful}, step_mode={self.step_mode!r}"
