"""The ANN as a torch.fx graph: trace, check what converts, normalise, fold BatchNorm.

An ANN converts to IF neurons when everything between two activations is affine (convolution,
linear, average pooling, flatten, addition of branches, concatenation, eval-mode BatchNorm): a
time average passes through an affine map unchanged, so the SNN's firing rates follow the ANN's
activations layer by layer. ``trace`` turns the ANN into a ``GraphModule`` and raises one error
that lists every operation outside this set (Sigmoid, LayerNorm, GELU, multiplication of two
tensors, code torch.fx cannot trace, ...).

``normalize`` then puts the graph in the form the converter works on:

- every ReLU (``nn.ReLU``, ``F.relu``, ``torch.relu``, ``x.relu()``), clipped ReLU (``ClipReLU``,
  ``nn.ReLU6``, ``nn.Hardtanh(0, m)``) and ``QCFS`` is a ``call_module`` node of its own;
- dropout is removed (the converted network is for inference);
- each BatchNorm that directly follows a convolution or linear layer whose output has no other
  user is folded into it (``fold_batchnorm``); other BatchNorms stay as eval-mode affine maps.

BatchNorm folding, per output channel c, with s_c = gamma_c / sqrt(var_c + eps):

    W'_c = W_c s_c,      b'_c = (b_c - mu_c) s_c + beta_c

computed in float64 and cast back, so outputs agree with the unfolded network to rounding.
tdBN (``layer.ThresholdDependentBatchNorm2d``, step_mode='s' in an ANN) folds the same way with
s_c = alpha V_th gamma_c / sqrt(var_c + eps); TEBN and BNTT, whose eval map changes per time step,
are refused by name (``layer.eval_affine``).
"""

from __future__ import annotations

import copy
import operator
from typing import Iterable, Optional

import torch
import torch.nn.functional as F
from torch import fx, nn

from ..layer.eval_affine import EVAL_AFFINE, NotFoldableError, eval_affine, fold_refusal
from ..models.activations import QCFS, ClipReLU

#: Activations that become IF neurons.
ACTIVATION_MODULES = (nn.ReLU, nn.ReLU6, nn.Hardtanh, ClipReLU, QCFS)

#: Modules that are affine in eval mode (they run unchanged in the SNN on every step).
AFFINE_MODULES = (
    nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d, nn.Linear,
    nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d,
    nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d, nn.Flatten, nn.Unflatten, nn.Identity,
    nn.ZeroPad1d, nn.ZeroPad2d, nn.ZeroPad3d, nn.Upsample,
)
DROPOUT_MODULES = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)
MAXPOOL_MODULES = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d,
                   nn.AdaptiveMaxPool3d)

RELU_FUNCTIONS = {F.relu, torch.relu, torch.nn.functional.relu}
DROPOUT_FUNCTIONS = {F.dropout, F.dropout1d, F.dropout2d, F.dropout3d, F.alpha_dropout}
MAXPOOL_FUNCTIONS = {F.max_pool1d, F.max_pool2d, F.max_pool3d, F.adaptive_max_pool1d, F.adaptive_max_pool2d,
                     F.adaptive_max_pool3d}
AFFINE_FUNCTIONS = {
    operator.add, operator.sub, operator.neg, operator.getitem, operator.pos, torch.add, torch.sub, torch.cat,
    torch.flatten, torch.reshape, torch.squeeze, torch.unsqueeze, torch.narrow, torch.chunk, torch.split,
    F.avg_pool1d, F.avg_pool2d, F.avg_pool3d, F.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_avg_pool3d,
    F.linear, F.conv1d, F.conv2d, F.conv3d, F.pad, F.interpolate, getattr,
}
#: Functions that are linear when one of their two arguments is a number, not a tensor.
SCALAR_FUNCTIONS = {operator.mul, operator.truediv, torch.mul, torch.div}
AFFINE_METHODS = {
    "view", "reshape", "flatten", "size", "contiguous", "add", "sub", "mean", "sum", "unsqueeze", "squeeze",
    "permute", "transpose", "chunk", "split", "narrow", "expand_as", "__getitem__", "dim", "neg", "clone",
}
SCALAR_METHODS = {"mul", "div"}
RELU_METHODS = {"relu"}
SUPPORTED_HINT = (
    "supported between activations: Conv1d/2d/3d, Linear, BatchNorm (eval), AvgPool / AdaptiveAvgPool, Flatten, "
    "Dropout (removed), addition and concatenation of branches, reshapes, multiplication by a number; "
    "activations: ReLU / F.relu, ReLU6, Hardtanh(0, m), ClipReLU, QCFS"
)


class _Tracer(fx.Tracer):
    """Keeps torch.nn modules, spikesmith's activations and its normalisations (those with an entry in
    ``layer.eval_affine``: tdBN, TEBN, BNTT) as leaves (QCFS is not traced into)."""

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return isinstance(m, (ClipReLU, QCFS)) or m in EVAL_AFFINE or super().is_leaf_module(m, qualname)


def trace(ann: nn.Module) -> fx.GraphModule:
    """A ``GraphModule`` of a deep copy of ``ann`` in eval mode (the ANN itself is not touched).

    Raises ``ValueError`` when torch.fx cannot trace the model (data-dependent control flow) or when
    the graph holds operations that do not convert; the message lists all of them.
    """
    if not isinstance(ann, nn.Module):
        raise TypeError(f"convert: ann must be an nn.Module, got {type(ann).__name__}")
    model = copy.deepcopy(ann).eval()
    try:
        graph = _Tracer().trace(model)
    except Exception as err:  # fx raises TraceError, TypeError, NotImplementedError, ...
        raise ValueError(
            f"convert: torch.fx cannot trace {type(ann).__name__} ({type(err).__name__}: {err}); conversion needs "
            f"a forward without data-dependent control flow (no 'if x.sum() > 0', loops over tensor values or "
            f"calls into non-torch code); move such code out of forward or write the model as nn.Sequential"
        ) from None
    gm = fx.GraphModule(model, graph, class_name=type(ann).__name__ + "Graph")
    check_supported(gm)
    return gm


def _is_number(a) -> bool:
    return isinstance(a, (int, float)) and not isinstance(a, bool)


def _fn_name(fn) -> str:
    module = getattr(fn, "__module__", None) or ""
    name = getattr(fn, "__name__", repr(fn))
    if module in ("_operator", "operator"):
        return f"operator.{name}"
    if module.startswith("torch"):
        return f"{module.replace('torch.nn.functional', 'F')}.{name}"
    return f"{module}.{name}" if module else name


def describe_unsupported(gm: fx.GraphModule, max_pool: str = "gate") -> list[str]:
    """Every node of ``gm`` that does not convert, as ``"module 'features.3' (Sigmoid)"`` and the like."""
    modules = dict(gm.named_modules())
    bad: list[str] = []
    for node in gm.graph.nodes:
        if node.op == "call_module":
            m = modules[node.target]
            refused = fold_refusal(m)
            if refused:
                bad.append(f"module {node.target!r} ({refused})")
            elif isinstance(m, nn.Hardtanh) and not isinstance(m, nn.ReLU6) and m.min_val != 0.0:
                bad.append(f"module {node.target!r} (Hardtanh with min_val={m.min_val}; only min_val=0 is a clipped ReLU)")
            elif isinstance(m, MAXPOOL_MODULES):
                if max_pool == "error":
                    bad.append(f"module {node.target!r} ({type(m).__name__}; see max_pool)")
            elif not isinstance(m, ACTIVATION_MODULES + AFFINE_MODULES + DROPOUT_MODULES):
                bad.append(f"module {node.target!r} ({type(m).__name__})")
        elif node.op == "call_function":
            fn = node.target
            if fn in RELU_FUNCTIONS or fn in AFFINE_FUNCTIONS or fn in DROPOUT_FUNCTIONS:
                if fn is getattr and node.args[1] not in ("shape", "ndim", "dtype", "device"):
                    bad.append(f"attribute access .{node.args[1]} at node {node.name!r}")
                continue
            if fn in MAXPOOL_FUNCTIONS:
                if max_pool == "error":
                    bad.append(f"function {_fn_name(fn)} at node {node.name!r} (see max_pool)")
                continue
            if fn in SCALAR_FUNCTIONS and any(_is_number(a) for a in node.args[:2]):
                if fn in (operator.truediv, torch.div) and _is_number(node.args[0]):
                    bad.append(f"function {_fn_name(fn)} at node {node.name!r} (a number divided by a tensor)")
                continue
            what = " of two tensors" if fn in SCALAR_FUNCTIONS else ""
            bad.append(f"function {_fn_name(fn)}{what} at node {node.name!r}")
        elif node.op == "call_method":
            name = node.target
            if name in AFFINE_METHODS or name in RELU_METHODS:
                if name in ("mean", "sum") and _reduces_batch(node):
                    bad.append(f"method .{name}() over the batch dimension at node {node.name!r}")
                continue
            if name in SCALAR_METHODS and any(_is_number(a) for a in node.args[1:2]):
                continue
            bad.append(f"method .{name}() at node {node.name!r}")
    return bad


def _reduces_batch(node: fx.Node) -> bool:
    dims = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else None)
    if dims is None:
        return True
    dims = dims if isinstance(dims, (tuple, list)) else (dims,)
    return any(d == 0 for d in dims if isinstance(d, int))


def check_supported(gm: fx.GraphModule, max_pool: str = "gate") -> None:
    """Raise ``ValueError`` naming every operation of ``gm`` that does not convert."""
    bad = describe_unsupported(gm, max_pool)
    if bad:
        raise ValueError(
            f"convert: {len(bad)} operation(s) cannot be converted to IF neurons: {'; '.join(bad)}. "
            f"Between activations the network must be affine ({SUPPORTED_HINT}). Replace these layers in the ANN "
            f"(e.g. Sigmoid/GELU by ReLU, LayerNorm by BatchNorm) and retrain."
        )


def activation_threshold(m: nn.Module) -> Optional[float]:
    """The clip point of a clipped activation (ClipReLU/QCFS lambda, ReLU6's 6, Hardtanh's max), None for ReLU."""
    if isinstance(m, (ClipReLU, QCFS)):
        return m.clip_value()
    if isinstance(m, nn.Hardtanh):  # ReLU6 is a Hardtanh(0, 6)
        return float(m.max_val)
    return None


def _replace_with_module(gm: fx.GraphModule, node: fx.Node, module: nn.Module, prefix: str, arg) -> fx.Node:
    name = _free_name(gm, prefix)
    gm.add_submodule(name, module)
    with gm.graph.inserting_after(node):
        new = gm.graph.call_module(name, (arg,))
    node.replace_all_uses_with(new)
    gm.graph.erase_node(node)
    return new


def _free_name(gm: fx.GraphModule, prefix: str) -> str:
    taken = {n for n, _ in gm.named_modules()}
    i = 0
    while f"{prefix}_{i}" in taken:
        i += 1
    return f"{prefix}_{i}"


def normalize(gm: fx.GraphModule) -> fx.GraphModule:
    """Functional ReLUs as modules, dropout removed, BatchNorm folded (in place; returns ``gm``)."""
    modules = dict(gm.named_modules())
    for node in list(gm.graph.nodes):
        if node.op == "call_function" and node.target in RELU_FUNCTIONS:
            _replace_with_module(gm, node, nn.ReLU(), "relu", node.args[0])
        elif node.op == "call_method" and node.target in RELU_METHODS:
            _replace_with_module(gm, node, nn.ReLU(), "relu", node.args[0])
        elif (node.op == "call_function" and node.target in DROPOUT_FUNCTIONS) or (
            node.op == "call_module" and isinstance(modules.get(node.target), DROPOUT_MODULES)
        ):
            node.replace_all_uses_with(node.args[0])
            gm.graph.erase_node(node)
    _unshare_activations(gm)
    fold_batchnorm(gm)
    gm.graph.lint()
    gm.delete_all_unused_submodules()
    gm.recompile()
    return gm


def _unshare_activations(gm: fx.GraphModule) -> None:
    """Give every use of an activation module its own copy (torchvision's ResNet calls ``self.relu`` twice
    per block; each call becomes a separate layer of neurons with its own thresholds and state)."""
    modules = dict(gm.named_modules())
    seen: set = set()
    for node in gm.graph.nodes:
        if node.op != "call_module" or not isinstance(modules[node.target], ACTIVATION_MODULES):
            continue
        if node.target in seen:
            name = _free_name(gm, node.target.replace(".", "_"))
            gm.add_submodule(name, copy.deepcopy(modules[node.target]))
            node.target = name
        seen.add(node.target)


_FOLDABLE = {nn.BatchNorm1d: (nn.Linear, nn.Conv1d), nn.BatchNorm2d: (nn.Conv2d,), nn.BatchNorm3d: (nn.Conv3d,)}


def _fold_targets(bn: nn.Module) -> tuple:
    """The layer classes a BatchNorm (or a subclass of one, such as tdBN) may be folded into."""
    return next((into for cls, into in _FOLDABLE.items() if isinstance(bn, cls)), ())


def fold_bn_into(layer: nn.Module, bn: nn.modules.batchnorm._BatchNorm) -> None:
    """Fold an eval-mode BatchNorm into the conv/linear ``layer`` before it (in place; adds a bias).

    Its map per channel comes from ``layer.eval_affine`` (gamma / sqrt(var + eps), times alpha V_th
    for tdBN).
    """
    try:
        scale, shift = eval_affine(bn)
    except NotFoldableError as err:
        raise ValueError(f"convert: {err}") from None
    w = layer.weight.detach().double()
    bias = layer.bias.detach().double() if layer.bias is not None else torch.zeros_like(scale)
    new_w = w * scale.reshape(-1, *([1] * (w.dim() - 1)))
    new_b = bias * scale + shift
    dtype = layer.weight.dtype
    layer.weight = nn.Parameter(new_w.to(dtype))
    layer.bias = nn.Parameter(new_b.to(dtype))


def fold_batchnorm(gm: fx.GraphModule) -> int:
    """Fold every BatchNorm whose input is a conv/linear used by nothing else; returns how many."""
    modules = dict(gm.named_modules())
    folded = 0
    for node in list(gm.graph.nodes):
        if node.op != "call_module" or not isinstance(modules.get(node.target), tuple(_FOLDABLE)):
            continue
        bn = modules[node.target]
        prev = node.args[0]
        if not (isinstance(prev, fx.Node) and prev.op == "call_module" and len(prev.users) == 1):
            continue
        layer = modules[prev.target]
        if type(layer) not in _fold_targets(bn):
            continue
        fold_bn_into(layer, bn)
        node.replace_all_uses_with(prev)
        gm.graph.erase_node(node)
        folded += 1
    return folded


def activation_nodes(gm: fx.GraphModule) -> list[fx.Node]:
    """The activation nodes of a normalised graph, in topological order."""
    modules = dict(gm.named_modules())
    return [n for n in gm.graph.nodes if n.op == "call_module" and isinstance(modules[n.target], ACTIVATION_MODULES)]


def producers(nodes: Iterable) -> list[fx.Node]:
    """The fx nodes among (nested) arguments."""
    out: list[fx.Node] = []
    fx.node.map_arg(tuple(nodes), lambda n: out.append(n))
    return out
