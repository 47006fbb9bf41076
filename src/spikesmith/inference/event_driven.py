"""``event_driven(model)``: an inference-only copy whose layers fed by spikes add weights, not multiply.

    fast = event_driven(net)                                 # every spike-fed Linear / Conv2d: auto path
    fast = event_driven(net, mode={"4": "sparse"})           # force a layer's path (by module name)
    fast = event_driven(net, threshold=0.15)                 # the density crossover, instead of calibrating
    fast = event_driven(net, example=x_seq)                  # find the spike-fed layers by running x_seq

Which layers are fed by spikes: with ``example``, those whose input on it is all 0 and 1; without, those
whose input comes from a spiking neuron through layers that keep spikes binary (``KEEPS_SPIKES``:
max pooling, flatten, dropout, identity; an adaptive average pool, which keeps spikes when its output
size is its input size), in the order the modules were registered (a sequential network). Either way
an input that turns out not binary runs dense (one warning per layer). Each such ``nn.Linear`` and
``nn.Conv2d`` becomes a ``SparseLinear`` / ``SparseConv2d`` (``SPARSE_LAYERS``, keyed by class); one
the kernels cannot take (a Conv1d, a grouped or dilated Conv2d, ...) stays dense and one warning lists
them (and ``net.event_driven_dense`` keeps the reasons). Pooling and the neurons keep their fused paths.

The copy is in eval mode and refuses training: a ``train()``-mode call or an input that requires grad
raises. ``path_report(fast)`` lists each sparse layer's density and path after running it.
"""

from __future__ import annotations

import copy
import warnings
from typing import Callable, Optional, Union

import torch
from torch import Tensor, nn

from ..functional import reset_net
from ..kernels import sparse
from ..layer.dropout import Dropout as DropoutOverTime
from ..neuron import BaseNode
from ..typeregistry import TypeRegistry
from .sparse_layers import MODES, SparseConv2d, SparseLinear, _SparseMixin

KEEPS_SPIKES: TypeRegistry[bool] = TypeRegistry("spike-keeping layer")
"""Layers whose output is binary when their input is (looked up along the MRO)."""
for _cls in (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d,
             nn.AdaptiveMaxPool3d, nn.Flatten, nn.Unflatten, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d,
             nn.Identity, nn.AdaptiveAvgPool2d):
    KEEPS_SPIKES.register(_cls, True)
del _cls


KEEPS_SPIKES.register(DropoutOverTime, True)     # spikesmith's Dropout over time: the identity in eval mode

SPARSE_LAYERS: TypeRegistry[type] = TypeRegistry("sparse layer")
"""Class -> its sparse layer class (``unsupported(layer)``: why not, or None; ``from_dense(layer, mode,
crossover, name)``)."""
SPARSE_LAYERS.register(nn.Linear, SparseLinear)
SPARSE_LAYERS.register(nn.Conv2d, SparseConv2d)
SYNAPSES = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)


def _structural_spike_fed(model: nn.Module) -> set:
    """Names of the synapses whose input comes from a spiking neuron through spike-keeping layers, in
    the order the leaf modules are registered."""
    fed, binary, inside = set(), False, None
    for name, m in model.named_modules():
        if inside is not None and name.startswith(inside):
            continue                                    # a neuron's own modules (its surrogate)
        if isinstance(m, BaseNode):
            binary = bool(m.emits_spikes)
            inside = name + "."
        elif list(m.children()):
            continue                                    # a container: its children come next
        elif isinstance(m, SYNAPSES):
            if binary:
                fed.add(name)
            binary = False
        elif not KEEPS_SPIKES.get(m, False):
            binary = False
    return fed


@torch.no_grad()
def _measured_spike_fed(model: nn.Module, example) -> set:
    """Names of the synapses whose input on ``example`` is all 0 and 1 (and not all 0 in a layer fed by
    analog values: an all-zero input counts as binary)."""
    seen: dict = {}
    handles = []
    for name, m in model.named_modules():
        if isinstance(m, SYNAPSES):
            def hook(mod, args, name=name):
                x = args[0]
                ok = bool(((x == 0) | (x == 1)).all())
                seen[name] = seen.get(name, True) and ok
            handles.append(m.register_forward_pre_hook(hook))
    try:
        reset_net(model)
        model(example)
        reset_net(model)
    finally:
        for h in handles:
            h.remove()
    return {n for n, ok in seen.items() if ok}


def _per_layer(value, names: list, what: str, check: Callable) -> dict:
    """``value`` (one value for every layer, or a dict by module name) as a dict over ``names``."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise ValueError(f"event_driven: {what} names {unknown}, which are not layers fed by spikes that the "
                             f"kernels can take; those are: {names}")
        return {n: check(value[n]) if n in value else None for n in names}
    v = None if value is None else check(value)
    return {n: v for n in names}


def _mode(m):
    if m not in MODES:
        raise ValueError(f"event_driven: mode must be one of {', '.join(MODES)}, got {m!r}")
    return m


def _threshold(t):
    if not isinstance(t, (int, float)) or not 0.0 <= float(t) <= 1.0:
        raise ValueError(f"event_driven: threshold must be a density in [0, 1], got {t!r}")
    return float(t)


def _set(model: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, new)


def event_driven(model: nn.Module, mode: Union[str, dict, None] = None, threshold: Union[float, dict, None] = None,
                 example: Optional[Tensor] = None) -> nn.Module:
    """An inference-only copy of ``model`` whose Linear and Conv2d layers fed by spikes run on the sparse
    kernels (see the module doc).

    Args:
        model: a trained or converted network (left unchanged).
        mode: ``'auto'`` (default), ``'sparse'`` or ``'dense'`` for every such layer, or a dict by module
            name (``{'4': 'sparse'}``; the others stay ``'auto'``).
        threshold: the density at or below which ``'auto'`` runs sparse, for every layer or by name;
            default: measured once per layer geometry (``inference.crossover``).
        example: an input to find the spike-fed layers by running it (default: from the module order).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"event_driven: model must be an nn.Module, got {type(model).__name__}")
    if isinstance(example, Tensor) and example.requires_grad:
        raise RuntimeError("event_driven builds an inference-only network; the example input requires grad "
                           "(pass it detached, or train the original model)")
    net = copy.deepcopy(model).eval()
    for p in net.parameters():
        p.requires_grad_(False)
    fed = _measured_spike_fed(net, example) if example is not None else _structural_spike_fed(net)
    modules = dict(net.named_modules())
    candidates = [n for n in modules if n in fed]
    dense_reasons, names = {}, []
    for n in candidates:
        kind = SPARSE_LAYERS.get(modules[n], None)
        why = "no sparse kernel for this class" if kind is None else kind.unsupported(modules[n])
        if why is None:
            names.append(n)
        else:
            dense_reasons[n] = f"{type(modules[n]).__name__}: {why}"
    modes = _per_layer(mode if mode is not None else "auto", names, "mode", _mode)
    thresholds = _per_layer(threshold, names, "threshold", _threshold)
    if names and not sparse.available():
        warnings.warn(f"event_driven: the sparse kernels could not be built ({sparse.unavailable_reason()}); "
                      f"every layer stays dense", RuntimeWarning, stacklevel=2)
        modes = {n: "dense" for n in names}
    for n in names:
        _set(net, n, SPARSE_LAYERS.get(modules[n]).from_dense(modules[n], modes[n] or "auto", thresholds[n], n))
    if dense_reasons:
        listed = "; ".join(f"{n!r}: {why}" for n, why in dense_reasons.items())
        warnings.warn(f"event_driven: {len(dense_reasons)} layer(s) fed by spikes stay dense: {listed}",
                      RuntimeWarning, stacklevel=2)
    net.event_driven_dense = dense_reasons
    return net


def sparse_layers(model: nn.Module) -> dict:
    """Name -> sparse layer of an ``event_driven`` network."""
    return {n: m for n, m in model.named_modules() if isinstance(m, _SparseMixin)}


def path_report(model: nn.Module) -> list[dict]:
    """One dict per sparse layer of ``model``: name, kind, mode, crossover, density seen, path taken,
    calls per path and seconds, as counted since it was built (or ``reset_stats``)."""
    rows = []
    for n, m in sparse_layers(model).items():
        st = m.stats
        rows.append({"name": n, "kind": m.kind, "mode": m.mode, "crossover": m.crossover, "density": st.density,
                     "path": st.path, "sparse_calls": st.sparse_calls, "dense_calls": st.dense_calls,
                     "nonbinary_calls": st.nonbinary_calls, "seconds": st.seconds})
    return rows
