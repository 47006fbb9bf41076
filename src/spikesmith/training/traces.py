"""Presynaptic traces for OTTT: a weight layer's gradient taken with the trace of its input.

Without its reset, a leaky neuron after a weight layer integrates ``U[t] = lambda U[t-1] + g(W X[t])``
(``lambda = 1 - 1/tau`` for LIF, 1 for IF, ``g`` what lies between: batch norm, the LIF's input
scale 1/tau). With the state cut from the graph at every step, backpropagating the instantaneous
loss L_t through step t alone gives ``dL_t/dU[t]``; the part of the temporal dependence that runs
through the membrane's own leak is ``dU[t]/dW = sum_{tau <= t} lambda^(t - tau) X[tau]`` (through
``g``'s derivative at step t), so OTTT (Xiao et al., NeurIPS 2022) takes

    dL_t/dW = delta_t^T a_hat[t],    a_hat[t] = lambda a_hat[t-1] + X[t],   a_hat[-1] = 0,

where ``delta_t`` is the gradient at the layer's output. Only ``a_hat`` is kept from step to step:
one tensor of the input's shape per layer, whatever T. The gradient for the layer's input (the
error sent down to the layer before) is the usual one, ``W^T delta_t``: the forward value is the
layer applied to X[t], unchanged.

``lambda`` is that of the first neuron after the layer (``MEMBRANE_DECAY``, by neuron class). A
layer that no neuron follows before the next weight layer or the network's end (the membrane
readout ``Linear(hidden, classes)``) has no membrane: lambda = 0, its gradient is exact at every
step. Layers of ``TRACED_LAYERS`` (Linear, Conv1d/2d/3d) are traced; batch norm keeps its own
per-step gradient; a stateful module other than a neuron or dropout between a layer and its neuron,
a neuron whose decay is unknown, or a decay that differs between neurons of one layer (it would need
one trace per synapse, not per input) is refused by name.

    >>> with presynaptic_traces(net):        # net in step mode 's', one step per call
    ...     for t in range(T):
    ...         loss_at(net(x[t]), t).backward(); functional.detach_net(net)
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..layer import Dropout
from ..module import MemoryModule
from ..neuron import BaseNode, IFNode, LIFNode
from ..typeregistry import TypeRegistry

__all__ = ["MEMBRANE_DECAY", "TRACED_LAYERS", "TracedOp", "Synapse", "presynaptic_traces", "synapse_plan",
           "traced"]


# ----------------------------------------------------------------------------- the neurons' leak
#: neuron class -> ``f(neuron) -> lambda``: how much of the membrane is kept from one step to the next
MEMBRANE_DECAY: TypeRegistry[Callable[[BaseNode], object]] = TypeRegistry("OTTT membrane decay")
MEMBRANE_DECAY.register(IFNode, lambda node: 1.0)
# LIF and its subclasses (PLIF: the learned 1/tau, read at each step; ALIF: the same membrane leak)
MEMBRANE_DECAY.register(LIFNode, lambda node: 1.0 - node.decay())


def membrane_decay(node: BaseNode) -> float:
    """The neuron's lambda as one number (detached), or a ValueError naming the neuron."""
    entry = MEMBRANE_DECAY.get(node, None)
    if entry is None:
        known = ", ".join(cls.__name__ for cls in MEMBRANE_DECAY.classes())
        raise ValueError(f"OTTT needs the membrane decay of {node.layer_name()} ({type(node).__name__}), which it does "
                         f"not know (it knows {known} and their subclasses); use one of those neurons, or "
                         f"online=sltt, which needs no trace")
    value = entry(node)
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(f"OTTT: {node.layer_name()} has a per-neuron decay (tau of shape {list(value.shape)}); "
                             f"one trace per input serves one decay per layer only: give a scalar tau, or use "
                             f"online=sltt")
        value = float(value.detach())
    return float(value)


# ----------------------------------------------------------------------------- the traced layers
@dataclass(frozen=True)
class TracedOp:
    """A weight layer as OTTT traces it: ``forward(module, x)`` its output, ``grad_input(module, x_shape,
    g)`` the gradient for its input, ``grad_weight(module, a_hat, g)`` the weight's gradient with the
    trace ``a_hat`` in place of the input, ``grad_bias(g)`` the bias's; ``unsupported(module)`` says
    why a configuration of the layer cannot be traced (None: it can). The layer is linear in its
    input, so the gradients are those of the plain layer."""

    forward: Callable[[nn.Module, Tensor], Tensor]
    grad_input: Callable[[nn.Module, torch.Size, Tensor], Tensor]
    grad_weight: Callable[[nn.Module, Tensor, Tensor], Tensor]
    grad_bias: Callable[[Tensor], Tensor]
    unsupported: Callable[[nn.Module], Optional[str]] = lambda module: None


TRACED_LAYERS: TypeRegistry[TracedOp] = TypeRegistry("OTTT traced layer")


def _linear_weight_grad(module: nn.Linear, a_hat: Tensor, g: Tensor) -> Tensor:
    return g.reshape(-1, g.shape[-1]).t().matmul(a_hat.reshape(-1, a_hat.shape[-1]).to(g.dtype))


TRACED_LAYERS.register(nn.Linear, TracedOp(
    forward=lambda m, x: F.linear(x, m.weight, m.bias),
    grad_input=lambda m, shape, g: g.matmul(m.weight.to(g.dtype)),
    grad_weight=_linear_weight_grad,
    grad_bias=lambda g: g.reshape(-1, g.shape[-1]).sum(0),
))


def _conv_op(dims: int) -> TracedOp:
    grad_in = getattr(torch.nn.grad, f"conv{dims}d_input")
    grad_w = getattr(torch.nn.grad, f"conv{dims}d_weight")

    def options(m):
        return dict(stride=m.stride, padding=m.padding, dilation=m.dilation, groups=m.groups)

    def unsupported(m) -> Optional[str]:
        if m.padding_mode != "zeros" or isinstance(m.padding, str):
            return (f"padding={m.padding!r}, padding_mode={m.padding_mode!r} (OTTT's convolution gradients take "
                    f"numeric zero padding)")
        return None

    return TracedOp(
        forward=lambda m, x: m._conv_forward(x, m.weight, m.bias),
        grad_input=lambda m, shape, g: grad_in(shape, m.weight.to(g.dtype), g, **options(m)),
        grad_weight=lambda m, a_hat, g: grad_w(a_hat.to(g.dtype), m.weight.shape, g, **options(m)),
        grad_bias=lambda g: g.sum(dim=[d for d in range(g.dim()) if d != 1]),
        unsupported=unsupported,
    )


for _dims, _cls in ((1, nn.Conv1d), (2, nn.Conv2d), (3, nn.Conv3d)):
    TRACED_LAYERS.register(_cls, _conv_op(_dims))


class _WithTrace(torch.autograd.Function):
    """``op.forward(module, x)`` whose backward gives the weight the trace's gradient.

    Saves the trace only (not ``x``): the input's gradient needs no input, the layer being linear."""

    @staticmethod
    def forward(ctx, x: Tensor, a_hat: Tensor, weight: Tensor, bias: Optional[Tensor], module: nn.Module,
                op: TracedOp) -> Tensor:
        ctx.module, ctx.op, ctx.x_shape, ctx.has_bias = module, op, x.shape, bias is not None
        ctx.save_for_backward(a_hat)
        return op.forward(module, x)

    @staticmethod
    def backward(ctx, g: Tensor):
        (a_hat,) = ctx.saved_tensors
        module, op = ctx.module, ctx.op
        grad_x = op.grad_input(module, ctx.x_shape, g) if ctx.needs_input_grad[0] else None
        grad_w = op.grad_weight(module, a_hat, g) if ctx.needs_input_grad[2] else None
        grad_b = op.grad_bias(g) if ctx.has_bias and ctx.needs_input_grad[3] else None
        return grad_x, None, grad_w, grad_b, None, None


def traced(module: nn.Module, x: Tensor, a_hat: Tensor) -> Tensor:
    """``module(x)``, with the weight's gradient taken from ``a_hat`` (same shape as ``x``)."""
    op = TRACED_LAYERS.lookup(module)
    if a_hat.shape != x.shape:
        raise ValueError(f"OTTT: the trace of {type(module).__name__}'s input has shape {list(a_hat.shape)}, the "
                         f"input {list(x.shape)}; reset the traces between batches (presynaptic_traces)")
    return _WithTrace.apply(x, a_hat.detach(), module.weight, module.bias, module, op)


# ----------------------------------------------------------------------------- the plan and the context
@dataclass
class Synapse:
    """A traced layer, the neuron whose leak sets its trace's decay (None: no neuron, lambda = 0), and
    the running trace of its input (None until the first step)."""

    layer: nn.Module
    neuron: Optional[BaseNode]
    trace: Optional[Tensor] = None

    def decay(self) -> float:
        return 0.0 if self.neuron is None else membrane_decay(self.neuron)

    def step(self, x: Tensor) -> Tensor:
        """One step: update the trace with this step's input, apply the layer with it."""
        if getattr(self.layer, "step_mode", "s") != "s":
            raise ValueError(f"OTTT traces one step per call: {type(self.layer).__name__} is in step_mode="
                             f"{self.layer.step_mode!r}; set_step_mode(net, 's') first (online_step does)")
        x_now = x.detach()
        self.trace = x_now.clone() if self.trace is None else self.decay() * self.trace + x_now
        return traced(self.layer, x, self.trace)


def _leaves(module: nn.Module) -> Iterator[nn.Module]:
    """The network's layers in forward order: traced layers, stateful modules and childless modules."""
    if module in TRACED_LAYERS or isinstance(module, MemoryModule) or not any(True for _ in module.children()):
        yield module
        return
    for child in module.children():
        yield from _leaves(child)


def synapse_plan(model: nn.Module) -> list[Synapse]:
    """Each traced layer of ``model`` (an ``nn.Sequential``-like net whose children run in order) with
    the first neuron after it; a stateful module that is neither a neuron nor dropout is refused."""
    layers = list(_leaves(model))
    for module in layers:
        if isinstance(module, MemoryModule) and not isinstance(module, (BaseNode, Dropout)):
            inside = any(m in TRACED_LAYERS for m in module.modules())
            raise ValueError(f"OTTT cannot trace through the stateful {type(module).__name__} (its state is not a "
                             f"neuron's membrane with a known leak{', and it loops over weight layers' if inside else ''}); "
                             f"use online=sltt, or a network of weight layers and neurons (fcsnn, csnn)")
    plan = []
    for i, layer in enumerate(layers):
        if layer not in TRACED_LAYERS:
            continue
        reason = TRACED_LAYERS.lookup(layer).unsupported(layer)
        if reason is not None:
            raise ValueError(f"OTTT cannot trace {type(layer).__name__} with {reason}; use online=sltt, or zero "
                             f"padding given as numbers")
        neuron = None
        for later in layers[i + 1:]:
            if later in TRACED_LAYERS:
                break
            if isinstance(later, BaseNode):
                neuron = later
                break
        if neuron is not None:
            membrane_decay(neuron)      # an unknown or per-neuron decay is refused now, not at the first step
        plan.append(Synapse(layer, neuron))
    if not plan:
        raise ValueError(f"OTTT found no layer to trace in {type(model).__name__} (it traces "
                         f"{', '.join(c.__name__ for c in TRACED_LAYERS.classes())})")
    return plan


@contextmanager
def presynaptic_traces(model: nn.Module) -> Iterator[list[Synapse]]:
    """Within the block, every traced layer of ``model`` keeps the trace of its input and gives its
    weight the trace's gradient (one step per call: the model runs in step mode ``'s'``). The traces
    start at zero on entry; on exit the layers are as they were (nothing is added to ``state_dict``)."""
    plan = synapse_plan(model)
    for synapse in plan:
        if "forward" in vars(synapse.layer):
            raise ValueError(f"OTTT: {type(synapse.layer).__name__} already has its forward replaced "
                             f"(presynaptic_traces entered twice on one model?)")
        object.__setattr__(synapse.layer, "forward", synapse.step)
    try:
        yield plan
    finally:
        for synapse in plan:
            vars(synapse.layer).pop("forward", None)
            synapse.trace = None
