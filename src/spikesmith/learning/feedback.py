"""Training with random feedback: ``--feedback bp | fa | dfa`` for the networks that say where
their errors flow (a :class:`FeedbackPlan` registered for the model's type in :data:`FEEDBACK_PLANS`).

- ``bp``: backpropagation, nothing changes;
- ``fa``: feedback alignment (:mod:`.feedback_alignment`), every weight in ``plan.routes`` sends the
  error down through its own fixed random ``B`` instead of ``W^T``;
- ``dfa``: direct feedback alignment (:mod:`.direct_feedback`), the output error reaches every layer
  in ``plan.hidden`` through a fixed random ``B_l``; the recurrent weights in ``plan.recurrent``
  (whose error goes back in time inside their layer) use feedback alignment, so no weight is ever
  sent backwards.

The random matrices come from their own generator seeded by ``seed`` (the global random stream is
untouched, and a resumed run draws the same ones); they are buffers that move with ``model.to()``
and are not saved (a trained network runs forward as it always did).

>>> handle = attach_feedback(model, "dfa", seed=0)   # train as usual; handle.remove() restores backprop
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import torch
from torch import nn

from ..typeregistry import TypeRegistry
from .direct_feedback import OutputError, random_direct_feedback, tap_hidden, tap_output
from .feedback_alignment import Undo, feedback_weight, random_feedback, route_feedback

FEEDBACK_MODES = ("bp", "fa", "dfa")


@dataclass
class FeedbackPlan:
    """Where a network's errors flow.

    Attributes:
        routes: the modules whose transposed weight carries the error down in backprop (``fa``
            replaces each by a random ``B``); any type in ``feedback_alignment.ROUTES``.
        hidden: ``(module, units)`` for each hidden layer: the module whose output is the layer's
            (``dfa`` sends ``e B_l`` there) and its width.
        recurrent: the recurrent modules (``dfa`` routes them as ``fa`` does).
        num_classes: the width of the output error.
    """

    routes: list[nn.Module]
    hidden: list[tuple[nn.Module, int]]
    num_classes: int
    recurrent: list[nn.Module] = field(default_factory=list)


#: model type -> function(model) -> FeedbackPlan, registered next to each model that supports it
FEEDBACK_PLANS: TypeRegistry[Callable[[nn.Module], FeedbackPlan]] = TypeRegistry("random-feedback plan")


def check_feedback(mode: str, model_cls: type, model_name: str, rate_reg: float = 0.0) -> None:
    """Refuse, in one line naming the fix, a feedback mode the model or the run cannot use."""
    if mode not in FEEDBACK_MODES:
        raise ValueError(f"feedback must be {', '.join(FEEDBACK_MODES[:-1])} or {FEEDBACK_MODES[-1]}, got {mode!r}")
    if mode == "bp":
        return
    if model_cls not in FEEDBACK_PLANS:
        supported = ", ".join(sorted(getattr(c, "__name__", str(c)).lower() for c in FEEDBACK_PLANS.classes()))
        raise ValueError(f"--feedback {mode}: model {model_name} does not support random feedback (it has layers, "
                         f"such as convolutions, whose error paths are not defined for it); use --feedback bp, or a "
                         f"fully connected or recurrent model ({supported})")
    if mode == "dfa" and rate_reg > 0:
        raise ValueError(f"--feedback dfa with rate_reg={rate_reg}: the rate regulariser's gradient reaches the hidden "
                         f"spikes from above, which direct feedback replaces by the projected output error; set "
                         f"rate_reg=0 or use --feedback fa")


class FeedbackHandle:
    """What :func:`attach_feedback` changed; ``remove()`` restores backprop. ``direct_matrices``:
    DFA's ``B_l``, one per hidden layer of the plan, in its order (empty for bp and fa)."""

    def __init__(self, mode: str, undo: list, direct_matrices: Optional[list] = None):
        self.mode, self._undo = mode, undo
        self.direct_matrices = list(direct_matrices or [])

    def remove(self) -> None:
        while self._undo:
            self._undo.pop().remove()


def attach_feedback(model: nn.Module, mode: str, seed: int = 0) -> FeedbackHandle:
    """Train ``model`` with ``mode`` (``bp``, ``fa`` or ``dfa``) from now on (see the module docstring)."""
    check_feedback(mode, type(model), type(model).__name__.lower())
    undo: list = []
    if mode == "bp":
        return FeedbackHandle(mode, undo)
    plan = FEEDBACK_PLANS.lookup(model)(model)
    generator = torch.Generator().manual_seed(int(seed) * 1_000_003 + 0xFEED)
    if mode == "fa":
        for module in plan.routes:
            undo.append(route_feedback(module, random_feedback(feedback_weight(module), generator)))
        return FeedbackHandle(mode, undo)
    for module in plan.recurrent:
        undo.append(route_feedback(module, random_feedback(feedback_weight(module), generator)))
    store = OutputError()
    undo.append(model.register_forward_pre_hook(lambda mod, args: store.clear()))
    undo.append(model.register_forward_hook(lambda mod, args, out: tap_output(out, store)))
    device = next(model.parameters()).device
    matrices = []
    for module, units in plan.hidden:
        matrices.append(random_direct_feedback(plan.num_classes, units, generator).to(device))
        undo.append(_tap(module, store, matrices[-1]))
    return FeedbackHandle(mode, undo, matrices)


def _tap(module: nn.Module, store: OutputError, feedback: torch.Tensor) -> Undo:
    """``module``'s output gets DFA's error through ``feedback`` (kept by the hook, not by the module:
    a neuron checks that its buffers broadcast to its input)."""
    handle = module.register_forward_hook(
        lambda mod, args, out: tap_hidden(out, store, feedback.to(out.device, out.dtype)))
    return Undo(handle.remove)
