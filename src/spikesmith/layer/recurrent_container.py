"""SpikingJelly's recurrent containers: a module fed back its own previous output.

``ElementWiseRecurrentContainer(sub_module, f)``:  Y(t) = sub_module(f(Y(t-1), X(t)))
``LinearRecurrentContainer(sub_module, n_in, n_out)``:  Y(t) = sub_module(rc([X(t), Y(t-1)]))
with Y(-1) = 0 and ``rc = nn.Linear(n_in + n_out, n_in, bias)`` acting on the concatenation along the
last dim. Time runs step by step in both step modes; ``sub_module`` is driven one step at a time
(switched to ``step_mode='s'`` at every forward). Y(t-1) is state: ``reset()`` sets it back to zeros of
the next input's shape; ``functional.reset_net(net)`` also resets ``sub_module``.
(``spikesmith.layer.Recurrent`` is the more general recurrent layer: a recurrent weight from the
output onto the input current, masked self connections.)

>>> rc = LinearRecurrentContainer(neuron.IFNode(), in_features=4, out_features=4, step_mode="m")
>>> rc(torch.rand(8, 2, 4)).shape
torch.Size([8, 2, 4])
"""

from __future__ import annotations

from typing import Callable, Optional

import torch
from torch import Tensor, nn

from .. import reset_check
from ..dynamics import scan
from ..module import MemoryModule
from ._seq import check_seq, check_tensor, pin_single_step


class _FeedbackContainer(MemoryModule):
    """The time loop shared by both containers; a subclass defines ``step_input`` and ``zero_output``."""

    def __init__(self, sub_module: nn.Module, step_mode: str):
        super().__init__(step_mode)
        if not isinstance(sub_module, nn.Module):
            raise TypeError(f"{type(self).__name__}: sub_module must be an nn.Module, got {type(sub_module).__name__}")
        self.sub_module = sub_module
        self.register_memory("y", None)

    def step_input(self, x: Tensor, y: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def zero_output(self, x: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def _previous(self, x: Tensor) -> Tensor:
        y: Optional[Tensor] = self.y
        zero = self.zero_output(x)
        if y is None:
            return zero
        if y.shape != zero.shape:
            raise ValueError(f"{self.layer_name()}: the previous output has shape {list(y.shape)}, this input needs "
                             f"{list(zero.shape)}; call spikesmith.functional.reset_net(net) between batches")
        return y

    def _step(self, x: Tensor, y: Tensor):
        y = self.sub_module(self.step_input(x, y))
        return y, y

    def forward(self, x: Tensor) -> Tensor:
        pin_single_step(self)
        if self.step_mode == "s":
            check_tensor(x, self)
            out, self.y = self._step(x, self._previous(x))
            return out
        check_seq(x, self, "[T, N, ...]")
        with reset_check.continuing():  # the sub-module's steps are one multi-step call
            out, self.y = scan(self._step, x, self._previous(x[0]))
        return out


class ElementWiseRecurrentContainer(_FeedbackContainer):
    """Y(t) = sub_module(element_wise_function(Y(t-1), X(t))), Y(-1) = 0 (same shape as X(t)).

    Args:
        sub_module: the module fed back (usually a neuron).
        element_wise_function: ``f(y_prev, x)``, e.g. ``lambda y, x: x + y``.
        step_mode: ``'s'`` or ``'m'``.
    """

    def __init__(self, sub_module: nn.Module, element_wise_function: Callable[[Tensor, Tensor], Tensor],
                 step_mode: str = "s"):
        if not callable(element_wise_function):
            raise TypeError("ElementWiseRecurrentContainer: element_wise_function must be callable, e.g. "
                            f"lambda y, x: x + y, got {type(element_wise_function).__name__}")
        super().__init__(sub_module, step_mode)
        self.element_wise_function = element_wise_function

    def step_input(self, x: Tensor, y: Tensor) -> Tensor:
        return self.element_wise_function(y, x)

    def zero_output(self, x: Tensor) -> Tensor:
        return torch.zeros_like(x)

    def extra_repr(self) -> str:
        return f"element_wise_function={self.element_wise_function}, step_mode={self.step_mode!r}"


class LinearRecurrentContainer(_FeedbackContainer):
    """Y(t) = sub_module(rc(cat(X(t), Y(t-1)))), Y(-1) = 0, ``rc = nn.Linear(in + out, in, bias)``.

    Args:
        sub_module: maps ``[N, *, in_features]`` to ``[N, *, out_features]``.
        in_features, out_features: the sizes of X(t) and Y(t) (last dim).
        bias: the bias of ``rc``.
        step_mode: ``'s'`` or ``'m'``.
    """

    def __init__(self, sub_module: nn.Module, in_features: int, out_features: int, bias: bool = True,
                 step_mode: str = "s"):
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"LinearRecurrentContainer: {name} must be a positive int, got {value!r}")
        super().__init__(sub_module, step_mode)
        self.sub_module_out_features = out_features
        self.rc = nn.Linear(in_features + out_features, in_features, bias)

    def step_input(self, x: Tensor, y: Tensor) -> Tensor:
        return self.rc(torch.cat((x, y), dim=-1))

    def _previous(self, x: Tensor) -> Tensor:
        in_features = self.rc.in_features - self.sub_module_out_features
        if x.dim() == 0 or x.shape[-1] != in_features:
            raise ValueError(f"{self.layer_name()} expects one step of shape [N, *, in_features={in_features}], got "
                             f"shape {list(x.shape)}")
        return super()._previous(x)

    def zero_output(self, x: Tensor) -> Tensor:
        return x.new_zeros(*x.shape[:-1], self.sub_module_out_features)

    def extra_repr(self) -> str:
        return f"out_features={self.sub_module_out_features}, step_mode={self.step_mode!r}"
