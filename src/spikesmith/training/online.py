"""Online training through time: OTTT (Xiao et al., NeurIPS 2022) and SLTT (Meng et al., ICCV 2023).

BPTT keeps the graph of every time step until one backward at the end, so its memory grows with T.
The online methods run the network one step at a time (step mode ``'s'``), take the instantaneous
loss of that step's output, backpropagate it at once through that step's layers only ("through
space") and cut the neuron state from the graph before the next step; the T steps' gradients add
up in ``.grad`` and the optimizer steps once per batch. Only one step's graph is alive at a time,
whatever T. The loss is the mean over time of the per-step loss,

    L = (1/T) sum_t l(O[t], y),        dL/dW = (1/T) sum_t dl(O[t], y)/dW  (spatial part of step t),

``l`` the run's loss on one step (cross-entropy of that step's logits for ``loss=ce``; for ``mse``
and ``tet`` their one-step forms), not the loss of the mean output that BPTT takes.

- ``ottt`` (OTTT_A, the accumulating variant; OTTT_O, an update at every step, is not built): each
  weight layer's gradient uses the trace of its input, ``a_hat[t] = lambda a_hat[t-1] + X[t]``, in
  place of X[t] (``training.traces``), which keeps the temporal dependence through the
  postsynaptic membrane's leak.
- ``sltt``: the spatial gradients only, ``dl_t/dW = delta_t^T X[t]``: the gradient of BPTT with every
  temporal path (state to state, through the membrane and the reset) cut. ``k`` (SLTT-K) backpropagates at K
  time steps only, drawn at random for each batch; the other steps run without a graph, and the K
  losses are weighted 1/K (an unbiased estimate of the mean over the T steps).

Both need a feed-forward network of neurons: ``ONLINE_MODELS`` lists the model families they
train (``fcsnn``, ``csnn``); recurrent layers, whose recurrent weights learn only through the
temporal paths these methods drop, are refused. ``spikesmith train --online ottt|sltt [--sltt-k K]``.

    >>> result = online_step(net, x_seq, lambda out, t: F.cross_entropy(out, y), method="ottt")
    >>> opt.step(); functional.reset_net(net)       # result.outputs: T x N x classes, detached
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Callable, NamedTuple, Optional

import torch
from torch import Tensor, nn

from .. import functional
from ..models import CSNN, FCSNN, MODELS
from ..module import StepModule
from ..registry import Registry
from ..typeregistry import TypeRegistry
from .traces import presynaptic_traces

__all__ = ["ONLINE_METHODS", "ONLINE_MODELS", "OnlineMethod", "OnlineResult", "backward_steps", "check_online", "check_online_options",
           "online_step"]


@dataclass(frozen=True)
class OnlineMethod:
    """An online method: whether weight gradients take presynaptic traces (OTTT), and whether it may
    backpropagate at K random steps only (SLTT-K)."""

    traces: bool
    takes_k: bool
    summary: str


ONLINE_METHODS: Registry[OnlineMethod] = Registry("online training method")
ONLINE_METHODS.register("ottt", OnlineMethod(traces=True, takes_k=False, summary=(
    "OTTT_A: instantaneous loss, spatial backprop, weight gradients with presynaptic traces, one update per batch")))
ONLINE_METHODS.register("sltt", OnlineMethod(traces=False, takes_k=True, summary=(
    "SLTT: instantaneous loss, spatial gradients only (temporal paths cut); sltt_k=K: backprop at K random steps")))

#: model class -> why it qualifies: the families ``--online`` trains (feed-forward nets of neurons)
ONLINE_MODELS: TypeRegistry[str] = TypeRegistry("online-trainable model")
ONLINE_MODELS.register(FCSNN, "weight layers and neurons in a row", exact=True)
ONLINE_MODELS.register(CSNN, "conv/BN/pool and linear layers and neurons in a row", exact=True)


class OnlineResult(NamedTuple):
    """``outputs``: the T steps' outputs stacked (``T x N x ...``, detached); ``loss``: the mean over
    time of the per-step loss (detached), the quantity whose gradient was accumulated."""

    outputs: Tensor
    loss: Tensor


def _method(method) -> OnlineMethod:
    return method if isinstance(method, OnlineMethod) else ONLINE_METHODS.get(method)


def backward_steps(T: int, k: Optional[int], generator: Optional[torch.Generator] = None) -> list[bool]:
    """Which of the T steps backpropagate: all (``k`` None), or K distinct ones drawn at random."""
    if k is None:
        return [True] * T
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"sltt_k must be a positive int (the number of time steps that backpropagate), got {k!r}")
    if k > T:
        raise ValueError(f"sltt_k={k} is more than the T={T} time steps of the input; give sltt_k <= T")
    chosen = set(torch.randperm(T, generator=generator)[:k].tolist())
    return [t in chosen for t in range(T)]


def online_step(model: nn.Module, x_seq: Tensor, loss_at: Callable[[Tensor, int], Tensor], method="ottt",
                k: Optional[int] = None, generator: Optional[torch.Generator] = None, amp: bool = False) -> OnlineResult:
    """One batch of online training: ``x_seq`` (``T x N x ...``) through ``model`` one step at a time,
    the gradient of ``loss_at(out_t, t)`` (the loss of step t's output, a scalar) accumulated into
    the parameters' ``.grad`` at each step, the state detached after it. The caller zeroes the
    gradients before and steps the optimizer and resets the network (``functional.reset_net``) after.

    ``method``: ``"ottt"`` or ``"sltt"`` (``ONLINE_METHODS``); ``k``: SLTT-K's number of steps that
    backpropagate (sltt only), drawn with ``generator``; ``amp``: autocast the forward on CUDA.
    The model's step modes are restored on return."""
    spec = _method(method)
    if not isinstance(x_seq, Tensor) or x_seq.dim() < 2:
        raise ValueError(f"online_step expects an input sequence of shape [T, N, ...], got "
                         f"{list(x_seq.shape) if isinstance(x_seq, Tensor) else type(x_seq).__name__}")
    if k is not None and not spec.takes_k:
        raise ValueError("k (SLTT-K's number of backpropagated steps) applies to online=sltt only; "
                         "OTTT backpropagates at every step: drop sltt_k")
    T = x_seq.shape[0]
    if T < 1:
        raise ValueError(f"online_step got an empty sequence (T=0, shape {list(x_seq.shape)}); give T >= 1")
    active = backward_steps(T, k, generator)
    weight = 1.0 / sum(active)
    modes = {m: m.step_mode for m in model.modules() if isinstance(m, StepModule)}
    autocast = (lambda: torch.autocast(x_seq.device.type)) if amp and x_seq.device.type == "cuda" else nullcontext
    outputs, total = [], None
    functional.set_step_mode(model, "s")
    try:
        with presynaptic_traces(model) if spec.traces else nullcontext():
            for t in range(T):
                with torch.set_grad_enabled(active[t] and torch.is_grad_enabled()), autocast():
                    out = model(x_seq[t])
                    loss = loss_at(out, t)
                if loss.requires_grad:
                    (loss * weight).backward()
                functional.detach_net(model)          # nothing of this step's graph reaches the next
                outputs.append(out.detach())
                total = loss.detach() / T if total is None else total + loss.detach() / T
    finally:
        for module, mode in modes.items():
            module.step_mode = mode
    return OnlineResult(torch.stack(outputs), total)


def check_online_options(online: Optional[str], sltt_k: Optional[int]) -> None:
    """The method's name (unknown: the error lists the methods) and ``sltt_k``: a positive int, with
    ``online=sltt`` only."""
    if online is None:
        if sltt_k is not None:
            raise ValueError(f"sltt_k={sltt_k} needs online=sltt (--online sltt); without --online the run is BPTT")
        return
    spec = ONLINE_METHODS.get(online)
    if sltt_k is None:
        return
    if not spec.takes_k:
        raise ValueError(f"sltt_k={sltt_k} applies to --online sltt only (OTTT backpropagates at every step); "
                         f"drop --sltt-k or use --online sltt")
    if isinstance(sltt_k, bool) or not isinstance(sltt_k, int) or sltt_k < 1:
        raise ValueError(f"sltt_k must be an int >= 1 (the number of time steps that backpropagate), got {sltt_k!r}")


def check_online(online: Optional[str], model: str, *, ann: bool = False, feedback: str = "bp", rate_reg: float = 0.0,
                 sltt_k: Optional[int] = None, world_size: int = 1) -> None:
    """Refuse, before any data loads, an online run this module cannot do: an unknown method, a model
    outside ``ONLINE_MODELS``, the ANN twin, random feedback (fa/dfa), the firing-rate regulariser,
    sltt_k without SLTT, several processes. ``online=None``: BPTT, nothing to check but sltt_k."""
    check_online_options(online, sltt_k)
    if online is None:
        return
    name = ONLINE_METHODS.canonical(online)
    cls = MODELS.get(model)
    if cls not in ONLINE_MODELS:
        supported = ", ".join(n for n in MODELS.names() if MODELS.get(n) in ONLINE_MODELS)
        raise ValueError(f"--online {name} does not support --model {MODELS.canonical(model)}: online training runs "
                         f"feed-forward networks of neurons one step at a time, and this family is not one of them "
                         f"(a recurrent net's recurrent weights learn only through the temporal paths online training "
                         f"cuts); supported models: {supported}; train {MODELS.canonical(model)} without --online (BPTT)")
    if ann:
        raise ValueError(f"--online {name} with --ann: the ANN twin has no time steps to train online; drop one of them")
    if feedback != "bp":
        raise ValueError(f"--online {name} with --feedback {feedback}: online training backpropagates each step's "
                         f"error (bp); random feedback (fa, dfa) is its own way of training: drop one of them")
    if rate_reg > 0:
        raise ValueError(f"--online {name} with --rate-reg {rate_reg:g}: the firing-rate regulariser needs the whole "
                         f"sequence's spikes in one graph, which online training never holds; set rate_reg=0")
    if world_size > 1:
        raise ValueError(f"--online {name} runs on one process (its T backward passes per batch are not set up for "
                         f"torchrun's gradient synchronisation); run it without torchrun")
