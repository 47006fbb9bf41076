"""``check(model, target)``: every reason a model cannot be deployed exactly on ``'nir'`` or ``'loihi2'``.

Each ``Issue`` names the layer, the problem and the fix, with a severity:

- ``'error'``: the exporter refuses (an unsupported layer or neuron, step hooks, ...);
- ``'approximate'``: the exporter refuses unless ``approximate=True``, which changes the model to what
  the target runs (soft reset -> hard reset to 0, initial potentials -> rest, max -> average pooling,
  leak potential -> reset potential) and reports the accuracy change;
- ``'precision'``: exported as it is but not bit-exact (Loihi's 8-bit weights, 12-bit decays); the
  Lava reference simulation measures the difference.

What the targets run (spikesmith fires on H >= V_th; NIR and Loihi on a strict >, so results differ only
on exact ties):

NIR   Linear / Affine, Conv1d / Conv2d, Flatten, AvgPool2d, SumPool2d, Scale, Threshold; neurons IF, LIF,
      CubaLIF (hard reset to a fixed V_reset, leaking to v_leak, starting at rest: v_leak, or 0 for IF), LI,
      CubaLI and I readouts. Per-neuron parameters and biases are fine.
loihi2  (Lava-dl netx HDF5) dense and conv layers with per-neuron biases, CUBA neurons only: one current and
      one voltage decay per layer, reset to 0 (the exporter shifts V so that V_reset = 0 when the neuron
      also leaks towards V_reset), start at 0, 8-bit weights. Average pooling is folded into the next
      dense/conv layer; a non-spiking readout is allowed as the last layer (a CUBA neuron that never fires).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import Tensor, nn

from ..neuron import (
    AdLIFNode,
    CubaLIFNode,
    CubaLINode,
    IFNode,
    IntegratorNode,
    LIFNode,
    NonSpikingLIFNode,
    ParametricLIFNode,
)
from .ops import Op, layer_list

TARGETS = ("nir", "loihi2")
SEVERITIES = ("error", "approximate", "precision")

NIR_NEURONS = (IFNode, LIFNode, ParametricLIFNode, CubaLIFNode, NonSpikingLIFNode, IntegratorNode, CubaLINode)
READOUTS = (NonSpikingLIFNode, IntegratorNode, CubaLINode)
LAVA_NEURONS = (IFNode, LIFNode, ParametricLIFNode, CubaLIFNode)

#: Neurons NIR cannot hold, keyed by class, with the reason the exporter gives.
NIR_REFUSED = {
    AdLIFNode: "NIR has no adaptive LIF node: its neurons (IF, LIF, CubaLIF, LI, I) have no adaptation "
               "variable, and adLIF's w is fed by the membrane potential and the spikes (w = beta w + a u + b s)",
}

SUPPORTED = {
    "nir": "Linear, Conv1d/Conv2d, Flatten, AvgPool2d (and AdaptiveAvgPool2d with even windows), SumPool2d, Scale, "
           "Threshold, BatchNorm right after a conv/linear layer (folded), Dropout (dropped); neurons IFNode, LIFNode, "
           "ParametricLIFNode, CubaLIFNode; readouts IntegratorNode, NonSpikingLIFNode, CubaLINode",
    "loihi2": "Linear, Conv2d, Flatten, AvgPool2d before a conv/linear layer (folded into it), BatchNorm right after "
              "a conv/linear layer (folded), Dropout (dropped); neurons IFNode, LIFNode, ParametricLIFNode, "
              "CubaLIFNode; as the last layer a readout IntegratorNode, NonSpikingLIFNode or CubaLINode",
}


@dataclass
class Issue:
    """One reason a layer cannot be deployed exactly."""

    layer: str
    problem: str
    fix: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"[{self.severity}] {self.layer}: {self.problem}. Fix: {self.fix}"


def check_target(target: str) -> str:
    if target not in TARGETS:
        raise ValueError(f"target must be one of {', '.join(map(repr, TARGETS))}, got {target!r}")
    return target


def check(model: nn.Module, target: str = "nir", input_shape: Optional[tuple] = None) -> list[Issue]:
    """Every reason ``model`` cannot run exactly on ``target`` (empty: it can), each with its fix.

    Args:
        model: a sequential SNN (or its ANN twin, reported as not spiking), or a ``ConvertedSNN``.
        target: ``'nir'`` or ``'loihi2'``.
        input_shape: one sample's shape, e.g. ``(1, 28, 28)``; needed to resolve adaptive pooling
            (a converted network knows its own).
    """
    check_target(target)
    return check_ops(layer_list(model, input_shape), target)


def check_ops(ops: list[Op], target: str) -> list[Issue]:
    issues: list[Issue] = []
    for i, op in enumerate(ops):
        last = i == len(ops) - 1
        issues += _op_issues(op, target, last, ops[i - 1] if i else None, ops[i + 1] if not last else None)
    return issues


def _tensor_values(v) -> Tensor:
    return v.detach().double() if isinstance(v, Tensor) else torch.tensor(float(v), dtype=torch.float64)


def _same(a, b) -> bool:
    a, b = _tensor_values(a), _tensor_values(b)
    try:
        return bool(torch.equal(*torch.broadcast_tensors(a, b)))
    except RuntimeError:
        return False


def _scalar(v) -> bool:
    return not isinstance(v, Tensor) or v.numel() == 1 or bool((v == v.flatten()[0]).all())


def rest_of(m: nn.Module):
    """The potential a NIR/Lava neuron starts at: v_leak (LIF, CubaLIF, LI), else 0 (IF, I)."""
    if isinstance(m, (LIFNode, CubaLIFNode)):
        return m.rest_potential()
    if isinstance(m, NonSpikingLIFNode):
        return m.v_rest
    if isinstance(m, CubaLINode):
        return m.v_leak
    return 0.0


def _neuron_issues(op: Op, target: str, last: bool, prev: Optional[Op]) -> list[Issue]:
    m, label = op.module, op.label
    supported = LAVA_NEURONS + (READOUTS if last else ()) if target == "loihi2" else NIR_NEURONS
    if target == "nir" and type(m) in NIR_REFUSED:
        return [Issue(label, f"{type(m).__name__} cannot be exported to NIR: {NIR_REFUSED[type(m)]}",
                      "keep it in PyTorch, or use LIFNode (NIR LIF) or CubaLIFNode (NIR CubaLIF) where adaptation "
                      "is not needed")]
    if type(m) not in supported:
        if target == "loihi2" and type(m) in READOUTS:
            return [Issue(label, "a non-spiking readout is only supported as the last layer on Loihi",
                          "end the network with it, or use a spiking neuron here")]
        alt = "LIFNode (NIR LIF) or CubaLIFNode (NIR CubaLIF)" if target == "nir" else \
            "LIFNode, IFNode or CubaLIFNode (Loihi's CUBA neuron)"
        return [Issue(label, f"{type(m).__name__} has no {target} equivalent", f"use {alt}")]
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
    if not _same(m.v_init, rest):
        out.append(Issue(label, f"initial potential V(0) differs from the rest potential ({_describe(rest)}): the "
                                f"target's neurons start at rest",
                         "leave v_init at its default, or export with approximate=True (start at rest)",
                         "approximate"))
    if target == "loihi2":
        out += _lava_neuron_issues(op, m, label, spiking, prev)
    return out


def _lava_neuron_issues(op: Op, m, label: str, spiking: bool, prev: Optional[Op]) -> list[Issue]:
    out: list[Issue] = []
    taus = {"tau": getattr(m, "tau", None)} if isinstance(m, (LIFNode, NonSpikingLIFNode)) else {}
    if isinstance(m, (CubaLIFNode, CubaLINode)):
        taus = {"tau_syn": m.tau_syn, "tau_mem": m.tau_mem}
    for name, value in taus.items():
        if value is not None and not _scalar(value):
            out.append(Issue(label, f"per-neuron {name}: Loihi's CUBA decays are one per layer",
                             f"use one {name} per layer (a float)"))
    if spiking and m.v_reset is not None and not _same(rest_of(m), m.v_reset):
        out.append(Issue(label, "the neuron leaks towards v_leak but resets to v_reset: Loihi's CUBA neuron "
                                "leaks towards and resets to the same potential",
                         "set v_leak=None, or export with approximate=True (leak towards v_reset)", "approximate"))
    if spiking and not _scalar(m.v_threshold) and (prev is None or prev.kind not in ("linear", "conv")):
        out.append(Issue(label, "per-neuron thresholds need a dense/conv layer right before the neuron (they are "
                                "folded into its weights)", "use one threshold per layer"))
    if isinstance(m, CubaLIFNode) and prev is not None and prev.kind in ("linear", "conv") \
            and getattr(prev.module, "bias", None) is not None and not _same(m.tau_syn, 1.0):
        out.append(Issue(label, "a bias into a synaptic current (tau_syn > 1): Lava adds biases to the voltage",
                         "train without bias before CubaLIFNode, or use tau_syn=1"))
    return out


def _describe(v) -> str:
    if isinstance(v, Tensor) and v.numel() > 1:
        return f"tensor{list(v.shape)}"
    return f"{float(v):g}"


def _op_issues(op: Op, target: str, last: bool, prev: Optional[Op], nxt: Optional[Op]) -> list[Issue]:
    label, m, kind = op.label, op.module, op.kind
    if kind == "neuron":
        return _neuron_issues(op, target, last, prev)
    if kind == "maxpool":
        pool = getattr(m, "pool", m)
        two_d = isinstance(pool, nn.MaxPool2d)
        return [Issue(label, f"max pooling has no {target} equivalent (the max of per-step spikes is not an "
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
    if kind == "other":
        alt = SUPPORTED[target]
        what = "AdaptiveAvgPool2d with uneven windows" if isinstance(m, nn.AdaptiveAvgPool2d) else type(m).__name__
        return [Issue(label, f"{what} has no {target} equivalent", f"supported: {alt}")]
    out: list[Issue] = []
    if kind == "conv" and getattr(m, "padding_mode", "zeros") != "zeros":
        out.append(Issue(label, f"padding_mode={m.padding_mode!r}", "use zero padding"))
    if kind == "avgpool":
        if m.ceil_mode or m.divisor_override is not None:
            out.append(Issue(label, "ceil_mode / divisor_override average pooling", "use plain AvgPool2d"))
        if not m.count_include_pad and _nonzero(m.padding):
            out.append(Issue(label, "count_include_pad=False with padding", "use count_include_pad=True or no padding"))
    if target == "loihi2":
        out += _lava_layer_issues(op, nxt)
    return out


def _nonzero(p) -> bool:
    return any(int(v) != 0 for v in (p if isinstance(p, (tuple, list)) else (p,)))


def _lava_layer_issues(op: Op, nxt: Optional[Op]) -> list[Issue]:
    label, m, kind = op.label, op.module, op.kind
    if kind in ("threshold",):
        return [Issue(label, "a Threshold layer has no Lava netx block", "use a spiking neuron")]
    if kind == "sumpool":
        return [Issue(label, "SumPool2d has no Lava netx block", "use AvgPool2d before a conv/linear layer")]
    if kind == "conv" and isinstance(m, nn.Conv1d):
        return [Issue(label, "Conv1d has no Lava netx block", "use Conv2d with a height of 1")]
    if kind == "avgpool" and (nxt is None or nxt.kind not in ("linear", "conv", "flatten", "avgpool", "scale")):
        return [Issue(label, "average pooling must be followed by a conv or dense layer (it is folded into it; "
                             "netx reads no pooling layer)", "put a conv or linear layer after the pooling")]
    if kind in ("linear", "conv"):
        from .lava import weight_error

        out = []
        if nxt is None or nxt.kind != "neuron":
            where = "ends the network" if nxt is None else f"is followed by {nxt.label}"
            out.append(Issue(label, f"the layer {where}, not by a neuron: netx blocks are a synapse and its neuron "
                                    f"(a membrane readout needs a readout neuron)",
                             "end with a readout neuron, e.g. append IntegratorNode(step_mode='m') (the argmax of its "
                             "last potential is that of the mean output), or train with readout='spike'"))
        err = weight_error(m.weight)
        if err > 0:
            out.append(Issue(label, f"weights are quantised to 8 bits with a power-of-two scale (largest error "
                                    f"{err:.3g} of the largest weight)",
                             "accept it (see the reference simulation in to_lava's report) or train with quantised "
                             "weights", "precision"))
        return out
    return []


def blocking(issues: list[Issue], approximate: bool) -> list[Issue]:
    """The issues that stop an export (with or without ``approximate``)."""
    stop = {"error"} if approximate else {"error", "approximate"}
    return [i for i in issues if i.severity in stop]


def raise_for(issues: list[Issue], target: str, approximate: bool) -> None:
    bad = blocking(issues, approximate)
    if not bad:
        return
    hint = "" if approximate or not any(i.severity == "approximate" for i in bad) else \
        "\n(approximate=True handles the issues marked [approximate] and reports the accuracy change)"
    raise ValueError(f"the model cannot be exported to {target} exactly:\n" + "\n".join(f"  {i}" for i in bad) + hint)
