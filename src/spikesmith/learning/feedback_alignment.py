"""Feedback alignment (Lillicrap et al. 2016): the backward pass of a linear map sends the error
down through a fixed random matrix ``B`` instead of the transposed weight.

    forward:   y = x W^T + b                 (unchanged)
    backward:  dL/dx = (dL/dy) B             (backprop: (dL/dy) W; B has W's shape, fixed)
               dL/dW = (dL/dy)^T x,  dL/db = sum (dL/dy)   (the usual local gradients)

:func:`aligned` takes a forward result that was already computed and gives it this backward, so
the forward runs once. :data:`ROUTES` says, by module type, how a module's transposed weight is
replaced: an ``nn.Linear`` (and so ``layer.Linear``) through a forward hook, a ``layer.Recurrent``
through its recurrent input ``W_rec S(t-1)`` (the error going back in time meets ``B_rec``).

>>> B = random_feedback(fc.weight, generator)          # U(-1/sqrt(in), 1/sqrt(in)), like W's init
>>> handle = route_feedback(fc, B)                     # fc's backward now uses B; handle.remove() undoes it
"""

from __future__ import annotations

import math
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..layer.recurrent import Recurrent
from ..typeregistry import TypeRegistry


class _Aligned(torch.autograd.Function):
    """Value ``out`` (= x W^T + b, computed by the caller), gradients of a linear map with ``B`` for W^T."""

    @staticmethod
    def forward(ctx, out: Tensor, x: Tensor, weight: Tensor, bias: Optional[Tensor], feedback: Tensor) -> Tensor:
        ctx.save_for_backward(x, feedback)
        ctx.has_bias = bias is not None
        return out

    @staticmethod
    def backward(ctx, grad: Tensor):
        x, feedback = ctx.saved_tensors
        _, need_x, need_w, need_b, _ = ctx.needs_input_grad
        grad_x = grad.matmul(feedback.to(grad.dtype)) if need_x else None
        flat_grad = grad.reshape(-1, grad.shape[-1])
        grad_w = flat_grad.t().matmul(x.reshape(-1, x.shape[-1]).to(grad.dtype)) if need_w else None
        grad_b = flat_grad.sum(0) if (need_b and ctx.has_bias) else None
        return None, grad_x, grad_w, grad_b, None


def aligned(out: Tensor, x: Tensor, weight: Tensor, bias: Optional[Tensor], feedback: Tensor) -> Tensor:
    """``out`` (the value of ``F.linear(x, weight, bias)``) with the feedback-alignment backward:
    the error reaches ``x`` through ``feedback`` (shape of ``weight``), the weight gets ``g^T x``."""
    if feedback.shape != weight.shape:
        raise ValueError(f"feedback alignment: the feedback matrix has shape {list(feedback.shape)}, the weight "
                         f"{list(weight.shape)}; B must have the weight's shape [out_features, in_features]")
    if not torch.is_grad_enabled():
        return out
    return _Aligned.apply(out.detach(), x, weight, bias, feedback)


def random_feedback(weight: Tensor, generator: torch.Generator) -> Tensor:
    """A fixed random ``B`` of ``weight``'s shape, uniform in +-1/sqrt(in_features) (nn.Linear's init range)."""
    bound = 1.0 / math.sqrt(max(weight.shape[-1], 1))
    B = torch.rand(weight.shape, generator=generator, dtype=torch.float32) * (2 * bound) - bound
    return B.to(device=weight.device, dtype=weight.dtype)


class Undo:
    """A handle whose ``remove()`` undoes a change (as a hook handle does)."""

    def __init__(self, undo: Callable[[], None]):
        self._undo = undo

    def remove(self) -> None:
        self._undo()


def _route_linear(module: nn.Linear, feedback: Tensor) -> Undo:
    module.register_buffer("feedback_matrix", feedback, persistent=False)   # moves with .to(), not saved

    def hook(mod, args, out):
        return aligned(out, args[0], mod.weight, mod.bias, mod.feedback_matrix)

    handle = module.register_forward_hook(hook)

    def undo():
        handle.remove()
        del module.feedback_matrix
    return Undo(undo)


def _route_recurrent(module: Recurrent, feedback: Tensor) -> Undo:
    if not isinstance(module.layer_rec, nn.Linear):
        raise ValueError(f"feedback alignment routes a Recurrent whose layer_rec is an nn.Linear, got "
                         f"{type(module.layer_rec).__name__}; use feedback=bp for this layer")
    module.register_buffer("feedback_matrix", feedback, persistent=False)

    def recurrent_input(s_prev: Tensor) -> Tensor:
        rec = module.layer_rec
        mask = module.rec_mask
        weight = rec.weight if mask is None else rec.weight * mask
        B = module.feedback_matrix if mask is None else module.feedback_matrix * mask
        with torch.no_grad():
            out = F.linear(s_prev, weight, rec.bias)
        return aligned(out, s_prev, weight, rec.bias, B)

    module.recurrent_input = recurrent_input          # the instance's own; the class's stays as it is

    def undo():
        del module.recurrent_input
        del module.feedback_matrix
    return Undo(undo)


def _recurrent_weight(module: Recurrent) -> Tensor:
    return module.layer_rec.weight


#: module type -> (the weight whose transpose the backward uses, how to replace it by B)
ROUTES: TypeRegistry[tuple[Callable[[nn.Module], Tensor], Callable[[nn.Module, Tensor], Undo]]] = \
    TypeRegistry("feedback-alignment route")
ROUTES.register(nn.Linear, (lambda m: m.weight, _route_linear))
ROUTES.register(Recurrent, (_recurrent_weight, _route_recurrent))


def route_feedback(module: nn.Module, feedback: Tensor) -> Undo:
    """Make ``module``'s backward send the error through ``feedback`` instead of its weight's
    transpose; returns a handle whose ``remove()`` restores backprop."""
    _, route = ROUTES.lookup(module)
    return route(module, feedback)


def feedback_weight(module: nn.Module) -> Tensor:
    """The weight of ``module`` whose transpose feedback alignment replaces (B gets its shape)."""
    weight_of, _ = ROUTES.lookup(module)
    return weight_of(module)
