"""``approximate=True``: switch what a target cannot run to the nearest thing it can, and say what it cost.

Changes (each listed in the report):

- soft reset (reset by subtraction, ``v_reset=None``) -> hard reset to 0;
- initial potentials V(0) != rest -> start at rest (NIR and Loihi neurons start at rest);
- max pooling -> average pooling with the same window;
- (loihi2) a leak potential that differs from the reset potential -> leak towards the reset potential.

The report gives the float model's accuracy (or its agreement with the approximated network when no
labels are given) next to the approximated network's, on the data passed to the exporter.
"""

from __future__ import annotations

import copy
from typing import Optional

import torch
from torch import Tensor, nn

from ..neuron import BaseNode
from .neurons import entry_of, rest_of
from .ops import Op, ops_network, takes_static_input
from .targets import target_of


def _set(m: BaseNode, name: str, value) -> None:
    if name in m._buffers:
        del m._buffers[name]
    m._set_param(name, value, allow_none=True)


def approximate_ops(ops: list[Op], target, issues: Optional[list] = None) -> tuple[list[Op], list[str]]:
    """Copies of ``ops`` with every ``'approximate'`` issue of ``check`` changed; and the list of changes.

    ``target`` is a target name or a ``Target``; ``issues`` its ``check(ops)`` when already computed.
    """
    target = target_of(target)
    if issues is None:
        issues = target.check(ops)
    flagged = {i.layer for i in issues if i.severity == "approximate"}
    out, changes = [], []
    for op in ops:
        if op.label not in flagged:
            out.append(op)
            continue
        op = copy.copy(op)
        op.module = copy.deepcopy(op.module)
        m = op.module
        if op.kind == "maxpool":
            pool = m.pool if hasattr(m, "pool") else m
            op.module = nn.AvgPool2d(pool.kernel_size, pool.stride, pool.padding)
            op.kind = "avgpool"
            changes.append(f"{op.label}: max pooling -> average pooling")
        elif op.kind == "neuron":
            if m.emits_spikes and m.v_reset is None:
                _set(m, "v_reset", 0.0)
                changes.append(f"{op.label}: soft reset -> hard reset to 0")
            if target.leaks_to_reset and getattr(m, "v_leak", None) is not None and m.emits_spikes:
                _set(m, "v_leak", None)
                changes.append(f"{op.label}: leak towards v_reset instead of v_leak")
            rest = rest_of(m)
            if not _equal(m.v_init, rest):
                _set(m, "v_init", rest.clone() if isinstance(rest, Tensor) else rest)
                changes.append(f"{op.label}: initial potential -> rest")
        out.append(op)
    return out, changes


def _equal(a, b) -> bool:
    a = a if isinstance(a, Tensor) else torch.tensor(float(a))
    b = b if isinstance(b, Tensor) else torch.tensor(float(b))
    try:
        return bool(torch.equal(*torch.broadcast_tensors(a.double(), b.double())))
    except RuntimeError:
        return False


@torch.no_grad()
def predictions(model: nn.Module, ops: Optional[list[Op]], x: Tensor, T: Optional[int] = None) -> Tensor:
    """Class predictions of ``model`` (ops None) or of the network of ``ops``, for inputs ``x``.

    A ``ConvertedSNN`` takes ``x`` as ``[N, ...]`` (repeated over its T steps); other networks take
    ``[T, N, ...]``. Spiking outputs are averaged over time; an integrating readout is read at the last step.
    """
    from ..functional import reset_net

    converted = takes_static_input(model)
    if ops is None:
        reset_net(model)
        model.eval()
        out = model(x)
        reset_net(model)
        return (out if converted else out.mean(0)).argmax(-1)
    net = ops_network(ops).eval()
    x_seq = x.unsqueeze(0).expand(model.T, *x.shape) if converted else x
    out = net(x_seq)
    return (out[-1] if reads_last(ops[-1].module) else out.mean(0)).argmax(-1)


def reads_last(module: nn.Module) -> bool:
    """Whether the prediction of a network ending in ``module`` is its last step (an integrator) or the mean."""
    entry = entry_of(module)
    return entry is not None and entry.read_last


def report(model, ops, new_ops, changes, data, shape, target) -> str:
    """The changes of ``approximate_ops`` and, with ``data=(x, y)``, the accuracy change they cost."""
    target = getattr(target, "name", target)
    lines = [f"export to {target} with approximate=True changed {len(changes)} thing(s):"] + [f"  {c}" for c in changes]
    if data is None:
        lines.append("  (pass data=(x, y) to measure the accuracy change)")
        return "\n".join(lines)
    x, y = data
    p_float = predictions(model, None, x)
    p_approx = predictions(model, new_ops, x)
    if y is not None:
        acc_f = (p_float == y).float().mean().item()
        acc_a = (p_approx == y).float().mean().item()
        lines.append(f"  accuracy on {len(y)} samples: float model {acc_f:.4f}, approximated {acc_a:.4f} "
                     f"(change {acc_a - acc_f:+.4f})")
    agree = (p_float == p_approx).float().mean().item()
    lines.append(f"  the approximated network agrees with the float model on {agree:.4f} of the predictions")
    return "\n".join(lines)
