"""Direct feedback alignment (Nokland 2016): the output error goes straight to every hidden layer
through a fixed random matrix, not back through the layers above.

    e        = dL/dy                        (the error at the network's output, per step)
    dL/dh_l := e B_l                        (B_l: [classes, width of layer l], fixed random)

and from ``h_l`` (a layer's spikes, or its activation in the ANN twin) down to its own weights the
gradient is the usual local one: through the neuron's surrogate derivative into ``W_l``, so
``dL/dW_l = ((e B_l) * sigma'(u_l))^T h_{l-1}`` for a neuron without memory. Nothing that arrives
at ``h_l`` from the layers above is used.

Two taps do it. :func:`tap_output` wraps the network's output: its backward records ``e`` in a
:class:`OutputError` and passes ``e`` on unchanged (the last layer learns from it as in backprop).
:func:`tap_hidden` wraps a hidden layer's output: its backward drops the gradient that arrives from
above and returns ``e B_l``. The error reaches the hidden taps only through the output tap, so it
is always recorded before they run.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


class OutputError:
    """Holds the output error of the current backward pass (``None`` before it is recorded)."""

    def __init__(self):
        self.error: Tensor | None = None

    def clear(self) -> None:
        self.error = None


class _OutputTap(torch.autograd.Function):
    @staticmethod
    def forward(ctx, out: Tensor, store: OutputError) -> Tensor:
        ctx.store = store
        return out.view_as(out)

    @staticmethod
    def backward(ctx, grad: Tensor):
        ctx.store.error = grad.detach()
        return grad, None


class _HiddenTap(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h: Tensor, store: OutputError, feedback: Tensor) -> Tensor:
        ctx.store, ctx.feedback = store, feedback
        ctx.shape = h.shape
        return h.view_as(h)

    @staticmethod
    def backward(ctx, grad: Tensor):
        e = ctx.store.error
        if e is None:
            raise ValueError("direct feedback alignment: a hidden layer's backward ran before the output error was "
                             "recorded; the loss must be computed from the network's output (the tapped tensor)")
        if e.shape[:-1] != ctx.shape[:-1]:
            raise ValueError(f"direct feedback alignment: the output error has shape {list(e.shape)}, the hidden "
                             f"layer's output {list(ctx.shape)}; they must agree in every dimension but the last "
                             f"(one error per step and sample), so this model cannot use feedback=dfa")
        return e.matmul(ctx.feedback.to(e.dtype)), None, None


def tap_output(out: Tensor, store: OutputError) -> Tensor:
    """``out`` unchanged; its backward records the error ``dL/dout`` in ``store``."""
    if not torch.is_grad_enabled() or not out.requires_grad:
        return out
    return _OutputTap.apply(out, store)


def tap_hidden(h: Tensor, store: OutputError, feedback: Tensor) -> Tensor:
    """``h`` unchanged; its backward returns ``store.error @ feedback`` in place of the gradient from above."""
    if h.shape[-1] != feedback.shape[-1]:
        raise ValueError(f"direct feedback alignment: the feedback matrix has {feedback.shape[-1]} columns, the "
                         f"hidden layer {h.shape[-1]} units; B_l must be [classes, units of layer l]")
    if not torch.is_grad_enabled() or not h.requires_grad:
        return h
    return _HiddenTap.apply(h, store, feedback)


def random_direct_feedback(classes: int, units: int, generator: torch.Generator) -> Tensor:
    """A fixed random ``B_l`` ``[classes, units]``, uniform in +-1/sqrt(classes)."""
    bound = 1.0 / math.sqrt(max(classes, 1))
    return torch.rand((classes, units), generator=generator) * (2 * bound) - bound
