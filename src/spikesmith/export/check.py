"""``check(model, target)``: every reason a model cannot be deployed exactly on ``'nir'`` or ``'loihi2'``.

Each ``Issue`` names the layer, the problem and the fix, with a severity (see ``export.issues``):
``'error'`` (refused), ``'approximate'`` (refused unless ``approximate=True``: soft reset -> hard reset
to 0, initial potentials -> rest, max -> average pooling, leak potential -> reset potential, with the
accuracy change reported) or ``'precision'`` (exported, not bit-exact: Loihi's 8-bit weights).

What the targets run (spikesmith fires on H >= V_th; NIR and Loihi on a strict >, so results differ only
on exact ties):

NIR   Linear / Affine, Conv1d / Conv2d, Flatten, AvgPool2d, SumPool2d, Scale, Threshold; neurons IF, LIF,
      CubaLIF (hard reset to a fixed V_reset, leaking to v_leak, starting at rest: v_leak, or 0 for IF), LI,
      CubaLI and I readouts. Per-neuron parameters and biases are fine.
loihi2  (Lava-dl netx HDF5) dense and conv layers with per-neuron biases, CUBA neurons only: one current and
      one voltage decay per layer, reset to 0 (the exporter shifts V so that V_reset = 0 when the neuron
      also leaks towards V_reset), start at 0, 8-bit weights. Average pooling is folded into the next
      dense/conv layer; a non-spiking readout is allowed as the last layer (a CUBA neuron that never fires).

This module holds the checks every target shares; each target (``export.nirgraph``, ``export.lava``)
adds its own in its ``check``. Which neurons a target runs comes from their entries in
``export.neurons``.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from ..layer.eval_affine import fold_refusal
from .issues import SEVERITIES, Issue, blocking, raise_for  # noqa: F401  (re-exported: export.check.blocking)
from .neurons import entry_of, rest_of
from .ops import Op, layer_list
from .refusals import refusal_of
from .targets import Target, target_of

UNSUPPORTED_KINDS = ("maxpool", "activation", "batchnorm", "refused", "other")
"""Op kinds no target runs: their issue is the whole story (no target-specific checks follow)."""


def check(model: nn.Module, target: str = "nir", input_shape: Optional[tuple] = None) -> list[Issue]:
    """Every reason ``model`` cannot run exactly on ``target`` (empty: it can), each with its fix.

    Args:
        model: a sequential SNN (or its ANN twin, reported as not spiking), or a ``ConvertedSNN``.
        target: ``'nir'`` or ``'loihi2'`` (any registered target, or a ``Target``).
        input_shape: one sample's shape, e.g. ``(1, 28, 28)``; needed to resolve adaptive pooling
            (a converted network knows its own).
    """
    target = target_of(target)
    return target.check(layer_list(model, input_shape))


def check_target(target) -> str:
    """The canonical name of a target (any accepted spelling); the error lists the registered targets."""
    return target_of(target).name


def check_ops(ops: list[Op], target) -> list[Issue]:
    """The issues of a layer list on ``target`` (a name or a ``Target``)."""
    return target_of(target).check(ops)


def each_op(ops: list[Op]):
    """``(op, previous op or None, next op or None, is_last)`` for every op, in order."""
    for i, op in enumerate(ops):
        last = i == len(ops) - 1
        yield op, ops[i - 1] if i else None, None if last else ops[i + 1], last


# ----------------------------------------------------------------------------- shared checks
def _tensor_values(v) -> Tensor:
    return v.detach().double() if isinstance(v, Tensor) else torch.tensor(float(v), dtype=torch.float64)


def same(a, b) -> bool:
    """Whether two parameters (floats or broadcastable tensors) are equal everywhere."""
    a, b = _tensor_values(a), _tensor_values(b)
    try:
        return bool(torch.equal(*torch.broadcast_tensors(a, b)))
    except RuntimeError:
        return False


def scalar(v) -> bool:
    """Whether a parameter has one value (a float, or a tensor whose entries are all equal)."""
    return not isinstance(v, Tensor) or v.numel() == 1 or bool((v == v.flatten()[0]).all())


def describe(v) -> str:
    if isinstance(v, Tensor) and v.numel() > 1:
        return f"tensor{list(v.shape)}"
    return f"{float(v):g}"


def unsupported_neuron(op: Op, target: Target, last: bool = False) -> Optional[Issue]:
    """The issue of a neuron ``target`` cannot run (refused by name, or without an entry); None if it can.

    ``last``: the neuron is the network's last layer (where Loihi takes a non-spiking readout).
    """
    entry = entry_of(op.module)
    reason = None if entry is None else entry.refusal(target.name)
    if entry is not None and reason is None and target.runs(entry, last):
        return None
    name = type(op.module).__name__
    because = f" ({reason})" if reason else ""
    return Issue(op.label, f"{name} has no {target.name} equivalent{because}", f"use {target.neuron_hint}")


def dynamics_issues(op: Op) -> list[Issue]:
    """What no target's neurons do: step hooks, a soft reset, an initial potential other than rest."""
    m, label = op.module, op.label
    out: list[Issue] = []
    if m._step_hooks:
        out.append(Issue(label, "step hooks change the dynamics and cannot be exported", "remove the step hooks"))
    spiking = m.emits_spikes
    if spiking and m.v_reset is None:
        out.append(Issue(label, "soft reset (v_reset=None, reset by subtraction): the target's neurons reset to a "
                                "fixed potential",
                         "train with a hard reset (v_reset=0.0), or export with approximate=True (hard reset to 0)",
                         "approximate"))
    rest = rest_of(m) if not (spiking and m.v_reset is None) else 0.0
    if not same(m.v_init, rest):
        out.append(Issue(label, f"initial potential V(0) differs from the rest potential ({describe(rest)}): the "
                                f"target's neurons start at rest",
                         "leave v_init at its default, or export with approximate=True (start at rest)",
                         "approximate"))
    return out


def layer_issues(op: Op, target: Target) -> list[Issue]:
    """The issues of a non-neuron op that hold on every target."""
    label, m, kind = op.label, op.module, op.kind
    if kind == "maxpool":
        pool = getattr(m, "pool", m)
        two_d = isinstance(pool, nn.MaxPool2d)
        return [Issue(label, f"max pooling has no {target.name} equivalent (the max of per-step spikes is not an "
                             f"affine map)",
                      "use average pooling (e.g. build_model(..., pool='avg'))" +
                      (", or export with approximate=True (replaced by average pooling)" if two_d else ""),
                      "approximate" if two_d else "error")]
    if kind == "activation":
        return [Issue(label, f"{type(m).__name__} is an ANN activation, not a spiking neuron",
                      "convert the ANN first (spikesmith.conversion.convert) or export the SNN")]
    if kind == "batchnorm":
        return [Issue(label, "BatchNorm that does not directly follow a conv/linear layer cannot be folded",
                      "place BatchNorm right after a convolution or linear layer")]
    if kind == "refused":
        return [Issue(label, f"no export target runs it: {refusal_of(m)}",
                      "keep this layer out of the exported part of the network (export the layers before it), "
                      "or replace it with layers the target supports")]
    if kind == "other":
        what = "AdaptiveAvgPool2d with uneven windows" if isinstance(m, nn.AdaptiveAvgPool2d) else type(m).__name__
        refused = fold_refusal(m)
        entry = entry_of(m)                       # a neuron-like layer refused by name (the PSN family)
        reason = refused.split(": ", 1)[1] if refused else (entry.refusal(target.name) if entry else None)
        because = f" ({reason})" if reason else ""
        return [Issue(label, f"{what} has no {target.name} equivalent{because}", f"supported: {target.supported}")]
    out: list[Issue] = []
    if kind == "conv" and getattr(m, "padding_mode", "zeros") != "zeros":
        out.append(Issue(label, f"padding_mode={m.padding_mode!r}", "use zero padding"))
    if kind == "avgpool":
        if m.ceil_mode or m.divisor_override is not None:
            out.append(Issue(label, "ceil_mode / divisor_override average pooling", "use plain AvgPool2d"))
        if not m.count_include_pad and _nonzero(m.padding):
            out.append(Issue(label, "count_include_pad=False with padding", "use count_include_pad=True or no padding"))
    return out


def _nonzero(p) -> bool:
    return any(int(v) != 0 for v in (p if isinstance(p, (tuple, list)) else (p,)))
