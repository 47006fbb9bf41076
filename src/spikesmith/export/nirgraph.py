"""NIR (Neuromorphic Intermediate Representation) export and import.

    graph = to_nir(model, x_seq, dt=1e-3)          # nir.NIRGraph; write_nir(graph, "net.nir")
    net = from_nir("net.nir")                      # a multi-step nn.Sequential (dt from the file)

**Time.** NIR neurons are continuous-time ODEs; spikesmith's are discrete steps. With a step of ``dt``
seconds and forward Euler, every neuron maps exactly (tau in steps = tau_NIR / dt):

================================  ==========================================================================
spikesmith                        NIR
================================  ==========================================================================
LIFNode(tau, decay_input=True)    LIF(tau = tau dt, r = 1,   v_leak = V_rest, v_threshold, v_reset)
LIFNode(tau, decay_input=False)   LIF(tau = tau dt, r = tau, ...)  (r dt / tau_NIR = 1: the input is not decayed)
ParametricLIFNode                 LIF with tau = 1 / sigmoid(w)
IFNode                            IF(r = 1 / dt, v_threshold, v_reset)
CubaLIFNode(tau_syn, tau_mem)     CubaLIF(tau_syn dt, tau_mem dt, w_in = tau_syn, r = 1 or tau_mem, ...)
NonSpikingLIFNode / CubaLINode    LI / CubaLI (same rules);  IntegratorNode  I(r = 1 / dt)
Linear, Conv1d/2d, Flatten        Linear or Affine (with bias), Conv1d/2d, Flatten (dims without the batch)
AvgPool2d, SumPool2d, Scale,      AvgPool2d, SumPool2d, Scale, Threshold
Threshold (export.modules)
layer.Delay (per channel)         Delay(delay = d dt), elementwise, of the layer's shape
DelayedLinear, LearnableDelay     a subgraph: one Linear (Affine) per distinct delay d, with the weights of
(a delay per synapse)             the synapses whose delay is d, each followed by Delay(d dt) (none for d = 0),
                                  all summed at the subgraph's Output (the bias on an undelayed branch)
================================  ==========================================================================

**Delays.** NIR's ``Delay`` is elementwise (y_i(t) = x_i(t - tau_i)), so a delay per channel maps onto one,
and a delay per synapse is decomposed: W X(t - d) summed over the distinct delays d is the sum of
branches ``Linear(W_d) -> Delay(d)``. A ``LearnableDelay`` is written with its rounded delays (what eval
mode runs). ``from_nir`` reads a ``Delay`` as ``layer.Delay`` (tau / dt must be whole steps) and a subgraph
of such branches back as one ``DelayedLinear``.

The Euler step the table assumes updates the synaptic current first and the voltage with the new
current (as snnTorch's ``Synaptic`` and Loihi's CUBA neuron do):

    I(t) = I(t-1) + dt / tau_syn (-I(t-1) + w_in X(t))
    v(t) = v(t-1) + dt / tau_mem (v_leak - v(t-1) + r I(t));  spike where v(t) > v_threshold; v <- v_reset

Neurons start at rest (v = v_leak; 0 for IF and I; I = 0). **Ties:** NIR fires on v > v_threshold,
spikesmith on H >= V_th; the two agree except when a potential equals the threshold exactly.

Per-neuron parameters are written as arrays of the layer's shape (NIR requires equal shapes) and read back
as the smallest tensor that broadcasts to them (``[C, 1, 1]`` for per-channel values, a float when
uniform). ``from_nir`` reads any ``r`` and ``w_in`` (an extra ``Scale`` before the neuron when they are not
the values above), leak potentials that differ from the reset (``v_leak``), nested graphs that are chains
(inlined), delays (above) and refuses, naming the node, what it cannot express: other merges and recurrent
edges (a node with several inputs), neurons with ``tau <= dt`` (forward Euler would not be a leaky integrator).
"""

from __future__ import annotations

import io
import math
import pathlib
import re
import warnings
from collections import OrderedDict
from typing import Any, BinaryIO, Optional, Union

import numpy as np
import torch
from torch import Tensor, nn

from .. import layer
from ..neuron import (
    CubaLIFNode,
    CubaLINode,
    IFNode,
    IntegratorNode,
    LIFNode,
    NonSpikingLIFNode,
)
from .check import dynamics_issues, each_op, layer_issues, unsupported_neuron
from .issues import Issue
from .modules import Scale, SumPool2d, Threshold
from .nirchecks import MAX_BYTES, NodeFields, check_declared_sizes, dry_run, input_shape, missing_field
from .neurons import entry_of
from .ops import Op, delayed_synapses
from .pipeline import export_model, sample_shape, write
from .targets import TARGETS, Target

PathLike = Union[str, pathlib.Path]
DT_KEY = "spikesmith_dt"

__all__ = ["DT_KEY", "NirTarget", "check_dt", "from_nir", "read_nir", "sample_shape", "to_nir", "write_nir"]


def _nir():
    try:
        import nir
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("NIR export needs the nir package: pip install 'spikesmith[export]'") from None
    return nir


# ----------------------------------------------------------------------------- export
def _arr(value, shape: tuple) -> np.ndarray:
    """A float64 array of the neuron layer's ``shape`` from a float or a broadcastable tensor.

    Neuron parameters are written in float64 so that tau / dt reads back as the number of steps it was.
    """
    if isinstance(value, Tensor):
        value = value.detach().cpu().double()
        try:
            value = value.expand(shape) if value.dim() <= len(shape) else value.reshape(shape)
        except RuntimeError:
            raise ValueError(f"a parameter of shape {list(value.shape)} does not broadcast to the layer shape "
                             f"{list(shape)}") from None
        return np.ascontiguousarray(value.numpy())
    return np.full(shape, float(value), dtype=np.float64)


def _np(t: Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.detach().cpu().numpy().astype(np.float32))


def _neuron_node(m: nn.Module, shape: tuple, dt: float):
    entry = entry_of(m)
    if entry is None or entry.nir is None:
        raise ValueError(f"{type(m).__name__} has no NIR node")  # check() reports it first
    return entry.nir(m, _nir(), lambda v: _arr(v, shape), dt)


def _op_node(op: Op, dt: float):
    nir = _nir()
    m, kind = op.module, op.kind
    if kind == "neuron":
        return _neuron_node(m, op.in_shape, dt)
    if kind == "linear":
        if m.bias is None:
            return nir.Linear(weight=_np(m.weight))
        return nir.Affine(weight=_np(m.weight), bias=_np(m.bias))
    if kind == "conv":
        bias = _np(m.bias) if m.bias is not None else np.zeros(m.out_channels, dtype=np.float32)
        if isinstance(m, nn.Conv1d):
            return nir.Conv1d(input_shape=int(op.in_shape[1]), weight=_np(m.weight), stride=int(m.stride[0]),
                              padding=m.padding if isinstance(m.padding, str) else int(m.padding[0]),
                              dilation=int(m.dilation[0]), groups=int(m.groups), bias=bias)
        return nir.Conv2d(input_shape=tuple(int(s) for s in op.in_shape[1:]), weight=_np(m.weight),
                          stride=tuple(m.stride), padding=m.padding if isinstance(m.padding, str) else tuple(m.padding),
                          dilation=tuple(m.dilation), groups=int(m.groups), bias=bias)
    if kind == "flatten":
        n = len(op.in_shape) + 1  # dims of a batched sample
        start = m.start_dim % n - 1
        end = m.end_dim % n - 1
        if start < 0:
            raise ValueError(f"{op.label}: flattening the batch dimension (start_dim={m.start_dim}) has no NIR "
                             f"equivalent; use Flatten(start_dim=1)")
        return nir.Flatten(input_type={"input": np.array(op.in_shape)}, start_dim=start,
                           end_dim=-1 if end == len(op.in_shape) - 1 else end)
    if kind in ("avgpool", "sumpool"):
        k, s, p = (_pair(m.kernel_size), _pair(m.stride if m.stride is not None else m.kernel_size), _pair(m.padding))
        cls = nir.AvgPool2d if kind == "avgpool" else nir.SumPool2d
        return cls(kernel_size=np.array(k), stride=np.array(s), padding=np.array(p))
    if kind == "scale":
        return nir.Scale(scale=_arr(m.scale, op.in_shape))
    if kind == "threshold":
        return nir.Threshold(threshold=_arr(m.threshold, op.in_shape))
    if kind == "delay":
        return nir.Delay(delay=_arr(m.delays.double() * dt, op.in_shape))
    if kind == "delayed_linear":
        return _delayed_linear_graph(*delayed_synapses(m), dt)
    raise ValueError(f"{op.label} has no NIR node")  # check() reports it first


def _delayed_linear_graph(weight: Tensor, delays: Tensor, bias: Optional[Tensor], dt: float):
    """Synapses with a delay each as a NIR subgraph: Input -> [Linear(W_d) -> Delay(d dt)] per distinct d -> Output
    (the branches summed there); the bias goes on the undelayed branch (a zero-weight one if no synapse is)."""
    nir = _nir()
    out_features, in_features = weight.shape
    nodes: dict = {"input": nir.Input(input_type={"input": np.array([in_features])})}
    edges = []
    values = sorted(int(d) for d in torch.unique(delays).tolist())
    if bias is not None and 0 not in values:
        values = [0] + values                       # a branch for the bias alone (W_0 = 0)
    for d in values:
        w = weight * (delays == d).to(weight.dtype)
        name = f"w{d}"
        nodes[name] = nir.Affine(weight=_np(w), bias=_np(bias)) if d == 0 and bias is not None else \
            nir.Linear(weight=_np(w))
        edges.append(("input", name))
        if d == 0:
            edges.append((name, "output"))
            continue
        nodes[f"delay{d}"] = nir.Delay(delay=np.full((out_features,), d * dt, dtype=np.float64))
        edges += [(name, f"delay{d}"), (f"delay{d}", "output")]
    nodes["output"] = nir.Output(output_type={"output": np.array([out_features])})
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata={"spikesmith_layer": "delayed_linear"}, type_check=False)


def _pair(v) -> tuple:
    return tuple(int(x) for x in v) if isinstance(v, (tuple, list)) else (int(v), int(v))


def _node_name(name: str, used: set) -> str:
    base = "layer_" + name.replace(".", "_") if name[:1].isdigit() or name in ("input", "output") else \
        name.replace(".", "_")
    out, i = base, 1
    while out in used:
        out, i = f"{base}_{i}", i + 1
    used.add(out)
    return out


def check_dt(dt) -> float:
    if isinstance(dt, bool) or not isinstance(dt, (int, float)) or not math.isfinite(dt) or dt <= 0:
        raise ValueError(f"dt must be a positive number of seconds per step, got {dt!r}")
    return float(dt)


class NirTarget(Target):
    """NIR graphs (``nir.NIRGraph``), one node per layer, written with ``nir.write`` (see the module docstring)."""

    name = "nir"
    suffix = ".nir"
    supported = ("Linear, Conv1d/Conv2d, Flatten, AvgPool2d (and AdaptiveAvgPool2d with even windows), SumPool2d, "
                 "Scale, Threshold, Delay, DelayedLinear, LearnableDelay (rounded delays), BatchNorm right after a conv/linear layer (folded), Dropout (dropped); neurons "
                 "IFNode, LIFNode, ParametricLIFNode, CubaLIFNode; readouts IntegratorNode, NonSpikingLIFNode, "
                 "CubaLINode")
    neuron_hint = "LIFNode (NIR LIF) or CubaLIFNode (NIR CubaLIF)"

    def runs(self, entry, last: bool = False) -> bool:
        return entry.nir is not None

    def check(self, ops: list[Op]) -> list[Issue]:
        out: list[Issue] = []
        for op, _prev, _nxt, last in each_op(ops):
            if op.kind == "neuron":
                refused = unsupported_neuron(op, self, last)
                out += [refused] if refused else dynamics_issues(op)
            else:
                out += layer_issues(op, self)
        return out

    def params(self, dt: float = 1e-3, **options: Any) -> dict:
        super().params(**options)
        return {"dt": check_dt(dt)}

    def build(self, ops: list[Op], dt: float = 1e-3) -> "nir.NIRGraph":  # noqa: F821
        nir = _nir()
        nodes: "OrderedDict[str, object]" = OrderedDict()
        nodes["input"] = nir.Input(input_type={"input": np.array(ops[0].in_shape)})
        used = {"input", "output"}
        names = ["input"]
        for op in ops:
            name = _node_name(op.name, used)
            nodes[name] = _op_node(op, dt)
            names.append(name)
        nodes["output"] = nir.Output(output_type={"output": np.array(ops[-1].out_shape)})
        names.append("output")
        edges = list(zip(names[:-1], names[1:]))
        meta = {DT_KEY: dt, "spikesmith_firing": "spikesmith fires on H >= V_th, NIR on v > v_threshold"}
        try:
            return nir.NIRGraph(nodes=dict(nodes), edges=edges, metadata=meta, type_check=True)
        except Exception as err:  # noqa: BLE001 - a bug here must name the graph
            raise RuntimeError(f"to_nir built a graph that fails NIR's type check: {err}") from err

    def write(self, graph, f: BinaryIO) -> None:
        buffer = io.BytesIO()          # HDF5 seeks and reads back what it wrote: build the file in memory
        _nir().write(buffer, graph)
        f.write(buffer.getvalue())


NIR = TARGETS.register("nir", NirTarget())


def to_nir(model: nn.Module, example_input, dt: float = 1e-3, approximate: bool = False,
           data=None) -> "nir.NIRGraph":  # noqa: F821
    """The NIR graph of ``model`` with a time step of ``dt`` seconds (see the module docstring).

    Args:
        model: a sequential SNN or a ``ConvertedSNN`` (see ``spikesmith.export.ops``).
        example_input: ``[T, N, ...]`` (``[N, ...]`` for a ConvertedSNN) or the shape of one sample.
        dt: seconds per step; the graph stores it in ``metadata['spikesmith_dt']``.
        approximate: switch what NIR cannot express (soft reset, initial potentials, max pooling) to what it
            can, warn with the changes and, with ``data``, the accuracy change (see ``export.approximate``).
        data: ``(x, y)`` for the accuracy report of ``approximate=True`` (x in the model's input layout).

    Raises ValueError listing every issue ``check(model, 'nir')`` finds, with fixes, when not exportable.
    The graph passes ``nir.NIRGraph`` type checking (and so ``nir.read`` after ``write_nir``).
    """
    _nir()
    result = export_model(model, NIR, example_input, approximate=approximate, data=data, dt=dt)
    if result.report:
        warnings.warn(result.report, stacklevel=2)
    return result.built


def write_nir(graph, path: PathLike) -> pathlib.Path:
    """Write ``graph`` to ``path`` atomically (a temporary file renamed into place)."""
    return write(NIR, graph, path)


# ----------------------------------------------------------------------------- import
def read_nir(path: PathLike, max_bytes: int = MAX_BYTES):
    """``nir.read`` with type checking, and errors that say what is wrong with the file.

    A file whose datasets declare more than ``max_bytes`` (default 1 GiB) is refused before any is read.
    """
    nir = _nir()
    import h5py

    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"NIR file not found: {path}")
    try:
        with h5py.File(path, "r") as f:
            version = f["version"][()] if "version" in f else None
            has_node = "node" in f
    except (OSError, RuntimeError, KeyError, ValueError, UnicodeError) as err:  # h5py's errors on damaged files
        raise ValueError(f"{path} is not a NIR file (not readable as HDF5: {err})") from None
    try:
        version = version.decode() if isinstance(version, bytes) else (None if version is None else str(version))
    except UnicodeError:
        raise ValueError(f"{path} is not a NIR file: its version entry is not text") from None
    if not has_node or version is None:
        raise ValueError(f"{path} is not a NIR file: it has no {'version' if version is None else 'node'} entry")
    ours = getattr(nir, "version", None) or getattr(nir, "__version__", "?")
    if not version or version.split(".")[0] != str(ours).split(".")[0]:
        raise ValueError(f"{path} was written by NIR {version}; this reader is NIR {ours} (major versions differ); "
                         f"re-export the graph with NIR {str(ours).split('.')[0]}.x")
    try:
        check_declared_sizes(path, max_bytes)
    except OSError as err:
        raise ValueError(f"{path} is not a NIR file (not readable as HDF5: {err})") from None
    try:
        return nir.read(str(path), type_check=True)
    except Exception as err:  # noqa: BLE001 - nir raises many kinds
        # a parameter missing from a node reads as KeyError('tau') or "missing ... argument: 'tau'"
        asked = re.search(r"argument: '(\w+)'", str(err)) if isinstance(err, TypeError) else None
        field = err.args[0] if isinstance(err, KeyError) and err.args else (asked.group(1) if asked else None)
        lacking = missing_field(path, field, nir) if isinstance(field, str) else None
        if lacking is not None:
            raise ValueError(f"{path}: NIR node {lacking[0]!r} ({lacking[1]}) has no {field!r}; every "
                             f"parameter of a {lacking[1]} node needs a value (re-export the graph)") from None
        raise ValueError(f"{path} (NIR {version}) could not be read by NIR {ours}: {type(err).__name__}: {err}") from None


def from_nir(graph_or_path, dt: Optional[float] = None, max_bytes: int = MAX_BYTES) -> nn.Sequential:
    """A multi-step spikesmith network (``nn.Sequential``, input ``[T, N, ...]``) simulating a NIR graph.

    Args:
        graph_or_path: a ``nir.NIRGraph`` or the path of a NIR file.
        dt: seconds per step; default the graph's ``metadata['spikesmith_dt']`` (graphs from ``to_nir``).
        max_bytes: the most a file's datasets may declare (see :func:`read_nir`).

    Every parameter is checked (present, finite, of the right rank), and with an Input node that
    declares a shape the network runs one step on zeros, so that layers that do not fit each other
    are named here (see :mod:`spikesmith.export.nirchecks`). Raises ValueError naming the node.
    """
    nir = _nir()
    graph = read_nir(graph_or_path, max_bytes) if isinstance(graph_or_path, (str, pathlib.Path)) else graph_or_path
    if not isinstance(graph, nir.NIRGraph):
        raise TypeError(f"from_nir expects a nir.NIRGraph or a file path, got {type(graph).__name__}")
    if dt is None:
        meta = getattr(graph, "metadata", None)
        meta = meta if isinstance(meta, dict) else {}
        if DT_KEY not in meta:
            raise ValueError("from_nir needs dt (seconds per step): NIR time constants are in seconds and this graph "
                             "does not store the step it was written with")
        stored = np.asarray(meta[DT_KEY])
        if stored.size != 1 or stored.dtype.kind not in "iuf":
            raise ValueError(f"the graph's metadata {DT_KEY!r} is {meta[DT_KEY]!r}, not a number of seconds; "
                             f"pass dt= to from_nir")
        dt = float(stored.reshape(-1)[0])
    dt = check_dt(dt)
    chain = _chain(graph, "graph")
    modules: "OrderedDict[str, nn.Module]" = OrderedDict()
    node_of: dict[str, str] = {}
    for name, node in chain:
        for suffix, module in _node_modules(name, node, dt):
            key = (name + suffix).replace(".", "_")
            modules[key], node_of[key] = module, name
    net = nn.Sequential(modules)
    shape = input_shape(graph, nir.Input)
    if shape is not None:
        dry_run(net, shape, node_of)
    return net


def _chain(graph, where: str) -> list:
    """The nodes of a sequential graph in order (nested chains inlined), Input/Output left out."""
    nir = _nir()
    nodes, edges = getattr(graph, "nodes", None), getattr(graph, "edges", None)
    if not isinstance(nodes, dict) or not nodes:
        raise ValueError(f"NIR {where}: no nodes (nodes is {type(nodes).__name__}, a non-empty dict of name: node)")
    for k, node in nodes.items():
        if not isinstance(k, str) or not isinstance(node, nir.NIRNode):
            raise ValueError(f"NIR {where}: node {k!r} is a {type(node).__name__}, not a NIR node (nir.NIRNode)")
    if not isinstance(edges, (list, tuple)):
        raise ValueError(f"NIR {where}: edges is {type(edges).__name__}, not a list of (source, target) pairs")
    ins: dict[str, list] = {k: [] for k in nodes}
    outs: dict[str, list] = {k: [] for k in nodes}
    for edge in edges:
        if not isinstance(edge, (list, tuple)) or len(edge) != 2:
            raise ValueError(f"NIR {where}: edge {edge!r} is not a (source, target) pair of node names")
        a, b = edge
        for end in (a, b):
            if not isinstance(end, str) or end not in nodes:
                raise ValueError(f"NIR {where}: edge {tuple(edge)!r} names node {end!r}, which the graph has not "
                                 f"got (its nodes: {', '.join(map(str, nodes))})")
        outs[a].append(b)
        ins[b].append(a)
    for k in graph.nodes:
        if len(ins[k]) > 1:
            raise ValueError(f"NIR {where}: node {k!r} has {len(ins[k])} inputs ({', '.join(ins[k])}): a recurrent edge "
                             f"or a merge of branches, which from_nir does not read (it reads chains of layers)")
        if len(outs[k]) > 1:
            raise ValueError(f"NIR {where}: node {k!r} feeds {len(outs[k])} nodes ({', '.join(outs[k])}): branches are "
                             f"not read (from_nir reads chains of layers)")
    starts = [k for k, n in graph.nodes.items() if isinstance(n, nir.Input)] or [k for k in graph.nodes if not ins[k]]
    if len(starts) != 1:
        raise ValueError(f"NIR {where}: expected one input node, found {len(starts)} ({', '.join(starts)})")
    order, seen, k = [], set(), starts[0]
    while True:
        if k in seen:
            raise ValueError(f"NIR {where}: a cycle through node {k!r} (a recurrent edge); from_nir reads chains")
        seen.add(k)
        node = graph.nodes[k]
        if isinstance(node, nir.NIRGraph) and _delay_branches(node, k) is not None:
            order.append((k, node))                 # synapses with a delay each: one DelayedLinear
        elif isinstance(node, nir.NIRGraph):
            order += [(f"{k}.{n}", sub) for n, sub in _chain(node, f"subgraph {k!r}")]
        elif not isinstance(node, (nir.Input, nir.Output)):
            order.append((k, node))
        if not outs[k]:
            break
        k = outs[k][0]
    missing = set(graph.nodes) - seen
    if missing:
        raise ValueError(f"NIR {where}: nodes not on the path from input to output: {', '.join(sorted(missing))}")
    return order


def _compact(a) -> Union[float, Tensor]:
    """The smallest tensor broadcasting to ``a`` (axes with one value collapsed); a float when uniform."""
    t = torch.as_tensor(np.asarray(a, dtype=np.float64))
    if t.numel() == 0:
        raise ValueError("an empty parameter array")
    if bool((t == t.flatten()[0]).all()):
        return float(t.flatten()[0])
    for d in range(t.dim()):
        first = t.narrow(d, 0, 1)
        if bool((t == first).all()):
            t = first
    return t.to(torch.get_default_dtype())


def _steps(tau, dt: float, name: str, node: str, minimum: float = 1.0, strict: bool = True) -> Union[float, Tensor]:
    steps = np.asarray(tau, dtype=np.float64) / dt
    near = np.round(steps, 6)  # tau / dt is a number of steps written by someone; undo the division's rounding
    steps = np.where(np.abs(steps - near) <= 1e-9 * np.maximum(1.0, np.abs(steps)), near, steps)
    bad = steps <= minimum if strict else steps < minimum
    if bad.any():
        raise ValueError(f"NIR node {node!r}: {name} = {float(np.min(tau)):g} s is {'<=' if strict else '<'} "
                         f"{minimum:g} step of dt = {dt:g} s; forward Euler needs {name} / dt "
                         f"{'>' if strict else '>='} {minimum:g} (use a smaller dt)")
    return _compact(steps)


def _is(a, b) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:      # shapes that do not fit: not equal (the dry run names the node)
        return False
    return bool(np.allclose(a, b, rtol=1e-9, atol=0))


def _input_scale(factor, node: str):
    """A ``Scale`` module for an input factor (None when it is 1)."""
    if _is(factor, 1.0):
        return []
    f = _compact(factor)
    return [(".input_scale", Scale(f, step_mode="m"))]


def _node_modules(name: str, node, dt: float) -> list:
    nir = _nir()
    M = dict(step_mode="m")
    p = NodeFields(name, node)
    if isinstance(node, nir.Affine) or isinstance(node, nir.Linear):
        w = p.array("weight")
        if w.ndim != 2:
            raise ValueError(f"NIR node {name!r}: {type(node).__name__} with a {w.ndim}-d weight; from_nir reads 2-d "
                             f"weights (out_features x in_features)")
        bias = isinstance(node, nir.Affine) and getattr(node, "bias", None) is not None
        b = p.vector("bias", w.shape[0]) if bias else None
        m = layer.Linear(w.shape[1], w.shape[0], bias=bias, **M)
        with torch.no_grad():
            m.weight.copy_(torch.as_tensor(w))
            if bias:
                m.bias.copy_(torch.as_tensor(b))
        return [("", m)]
    if isinstance(node, (nir.Conv1d, nir.Conv2d)):
        two = isinstance(node, nir.Conv2d)
        n = 2 if two else 1
        w = p.array("weight", ndim=[n + 2])
        groups = p.int("groups", minimum=1)
        if w.shape[0] % groups:
            raise p.fail("groups", f"= {groups} does not divide the {w.shape[0]} output channels of the weight")
        cls = layer.Conv2d if two else layer.Conv1d
        padding = getattr(node, "padding", None)
        if isinstance(padding, (str, bytes)):
            pad = padding.decode() if isinstance(padding, bytes) else padding
            if pad not in ("same", "valid"):
                raise p.fail("padding", f"is {pad!r}; expected 'same', 'valid' or whole numbers >= 0")
        else:
            pad = p.ints("padding", n, minimum=0)
        stride, dilation = p.ints("stride", n, minimum=1), p.ints("dilation", n, minimum=1)
        if pad == "same" and any(s != 1 for s in stride):
            raise p.fail("padding", f"'same' needs stride 1, got stride {list(stride)}")
        bias = p.vector("bias", w.shape[0])
        m = cls(w.shape[1] * groups, w.shape[0], tuple(w.shape[2:]), stride=stride if two else stride[0],
                padding=pad if two or isinstance(pad, str) else pad[0], dilation=dilation if two else dilation[0],
                groups=groups, bias=True, **M)
        with torch.no_grad():
            m.weight.copy_(torch.as_tensor(w))
            m.bias.copy_(torch.as_tensor(bias))
        return [("", m)]
    if isinstance(node, nir.Flatten):
        start, end = p.int("start_dim"), p.int("end_dim")
        return [("", layer.Flatten(start + 1 if start >= 0 else start, end + 1 if end >= 0 else end, **M))]
    if isinstance(node, (nir.AvgPool2d, nir.SumPool2d)):
        k, s, pad = p.ints("kernel_size", 2, minimum=1), p.ints("stride", 2, minimum=1), p.ints("padding", 2, minimum=0)
        if any(2 * q > kk for q, kk in zip(pad, k)):
            raise p.fail("padding", f"{list(pad)} is more than half the kernel {list(k)}")
        if isinstance(node, nir.AvgPool2d):
            return [("", layer.AvgPool2d(k, s, pad, **M))]
        return [("", SumPool2d(k, s, pad, **M))]
    if isinstance(node, nir.Scale):
        return [("", Scale(_compact(p.array("scale")), **M))]
    if isinstance(node, nir.Threshold):
        return [("", Threshold(_compact(p.array("threshold")), **M))]
    if isinstance(node, nir.CubaLIF) or isinstance(node, nir.CubaLI):
        tau_syn_s, tau_mem_s = p.array("tau_syn"), p.array("tau_mem")
        tau_syn = _steps(tau_syn_s, dt, "tau_syn", name, strict=False)
        tau_mem = _steps(tau_mem_s, dt, "tau_mem", name)
        ts = tau_syn_s / dt
        tm = tau_mem_s / dt
        w_in_factor = p.array("w_in") / ts
        r = p.array("r")
        decay_input = not _is(r, tm) or _is(r, 1.0)
        factor = w_in_factor * (r if decay_input else 1.0)
        pre = _input_scale(factor, name)
        v_leak_s = p.array("v_leak")
        v_leak = _compact(v_leak_s)
        if isinstance(node, nir.CubaLI):
            return pre + [("", CubaLINode(tau_syn, tau_mem, decay_input=decay_input, v_leak=v_leak, **M))]
        v_reset_s = p.array("v_reset")
        leak = None if _is(v_leak_s, v_reset_s) else v_leak
        return pre + [("", CubaLIFNode(tau_syn, tau_mem, decay_input=decay_input, v_leak=leak,
                                       v_threshold=_compact(p.array("v_threshold")), v_reset=_compact(v_reset_s),
                                       v_init=v_leak, **M))]
    if isinstance(node, (nir.LIF, nir.LI)):
        tau_s = p.array("tau")
        tau = _steps(tau_s, dt, "tau", name)
        t = tau_s / dt
        r = p.array("r")
        decay_input = not _is(r, t) or _is(r, 1.0)
        pre = _input_scale(r, name) if decay_input else []
        v_leak_s = p.array("v_leak")
        v_leak = _compact(v_leak_s)
        if isinstance(node, nir.LI):
            if isinstance(v_leak, float):
                return pre + [("", NonSpikingLIFNode(tau, decay_input=decay_input, v_rest=v_leak, v_init=v_leak, **M))]
            return pre + [("", CubaLINode(1.0, tau, decay_input=decay_input, v_leak=v_leak, **M))]
        v_reset_s = p.array("v_reset")
        leak = None if _is(v_leak_s, v_reset_s) else v_leak
        return pre + [("", LIFNode(tau, decay_input=decay_input, v_leak=leak, v_threshold=_compact(p.array("v_threshold")),
                                   v_reset=_compact(v_reset_s), v_init=v_leak, **M))]
    if isinstance(node, nir.IF):
        pre = _input_scale(p.array("r") * dt, name)
        return pre + [("", IFNode(v_threshold=_compact(p.array("v_threshold")), v_reset=_compact(p.array("v_reset")),
                                  v_init=0.0, **M))]
    if isinstance(node, nir.I):
        pre = _input_scale(p.array("r") * dt, name)
        return pre + [("", IntegratorNode(v_init=0.0, **M))]
    if isinstance(node, nir.Delay):
        return [("", layer.Delay(_delay_steps(p.array("delay"), dt, name), **M))]
    if isinstance(node, nir.NIRGraph):
        return [("", _delayed_linear_module(name, node, dt))]
    raise ValueError(f"NIR node {name!r}: {type(node).__name__} is not supported; from_nir reads Affine, Linear, "
                     f"Conv1d, Conv2d, Flatten, AvgPool2d, SumPool2d, Scale, Threshold, IF, LIF, CubaLIF, LI, CubaLI, I "
                     f"and nested chains")



def _delay_steps(delay, dt: float, node: str) -> Tensor:
    """A NIR delay in seconds as whole steps of ``dt`` (the smallest broadcasting tensor), or an error naming the node."""
    steps = np.asarray(delay, dtype=np.float64) / dt
    whole = np.round(steps)
    if not np.all(np.isfinite(steps)) or np.any(np.abs(steps - whole) > 1e-6 * np.maximum(1.0, np.abs(steps))):
        raise ValueError(f"NIR node {node!r}: a Delay of {float(np.max(np.abs(steps - whole))):.3g} steps off a whole "
                         f"number of steps of dt = {dt:g} s; spikesmith's delays are whole steps (pass the dt the "
                         f"graph was made with)")
    if np.any(whole < 0):
        raise ValueError(f"NIR node {node!r}: a negative Delay ({float(np.min(delay)):g} s) reads the future")
    compact = _compact(whole)
    return torch.tensor(int(compact)) if isinstance(compact, float) else compact.round().long()


def _delay_branches(graph, where: str) -> Optional[list]:
    """The branches of a subgraph ``Input -> Linear/Affine [-> Delay] -> Output`` (what ``to_nir`` writes for
    synapses with a delay each), as ``[(affine node, delay node or None), ...]``; None for any other subgraph."""
    nir = _nir()
    nodes, edges = getattr(graph, "nodes", None), getattr(graph, "edges", None)
    if not isinstance(nodes, dict) or not isinstance(edges, (list, tuple)):
        return None
    inputs = [k for k, n in nodes.items() if isinstance(n, nir.Input)]
    outputs = [k for k, n in nodes.items() if isinstance(n, nir.Output)]
    if len(inputs) != 1 or len(outputs) != 1:
        return None
    try:
        succ = {k: [b for a, b in edges if a == k] for k in nodes}
        pred = {k: [a for a, b in edges if b == k] for k in nodes}
    except (TypeError, ValueError):
        return None
    branches = []
    for first in succ[inputs[0]]:
        node = nodes.get(first)
        if not isinstance(node, (nir.Linear, nir.Affine)) or pred[first] != [inputs[0]] or len(succ[first]) != 1:
            return None
        nxt = succ[first][0]
        if nxt == outputs[0]:
            branches.append((first, None))
            continue
        if not isinstance(nodes.get(nxt), nir.Delay) or pred[nxt] != [first] or succ[nxt] != [outputs[0]]:
            return None
        branches.append((first, nxt))
    used = {inputs[0], outputs[0]} | {k for b in branches for k in b if k is not None}
    if not branches or used != set(nodes) or len(pred[outputs[0]]) != len(branches):
        return None
    return branches


def _delayed_linear_module(name: str, graph, dt: float) -> nn.Module:
    """One ``DelayedLinear`` for a subgraph of delayed branches (see ``_delay_branches``): each synapse takes the
    weight and the delay of the branch that has it; a synapse in two branches, or a bias that is delayed, is an error."""
    nir = _nir()
    branches = _delay_branches(graph, name)
    if branches is None:
        raise ValueError(f"NIR node {name!r}: a subgraph that is neither a chain nor branches of Linear -> Delay")
    weight = delays = bias = None
    for affine_name, delay_name in branches:
        where = f"{name}.{affine_name}"
        node = graph.nodes[affine_name]
        p = NodeFields(where, node)
        w = torch.as_tensor(p.array("weight"), dtype=torch.float32)
        if w.dim() != 2:
            raise ValueError(f"NIR node {where!r}: a {w.dim()}-d weight; delayed branches take 2-d weights")
        if weight is None:
            weight = torch.zeros_like(w)
            delays = torch.zeros(w.shape, dtype=torch.long)
            taken = torch.zeros(w.shape, dtype=torch.bool)
        elif w.shape != weight.shape:
            raise ValueError(f"NIR node {where!r}: weight of shape {list(w.shape)} differs from the other branches' "
                             f"{list(weight.shape)}")
        d = torch.zeros(w.shape[0], dtype=torch.long) if delay_name is None else \
            _delay_steps(NodeFields(f"{name}.{delay_name}", graph.nodes[delay_name]).array("delay"), dt,
                         f"{name}.{delay_name}").expand(w.shape[0])
        here = w != 0
        if bool((here & taken).any()):
            raise ValueError(f"NIR node {name!r}: a synapse carries weights in two delayed branches; a DelayedLinear "
                             f"has one delay per synapse")
        weight = torch.where(here, w, weight)
        delays = torch.where(here, d.unsqueeze(1).expand_as(delays), delays)
        taken |= here
        if isinstance(node, nir.Affine) and getattr(node, "bias", None) is not None:
            b = torch.as_tensor(p.vector("bias", w.shape[0]), dtype=torch.float32)
            if bool((b != 0).any()) and bool((d != 0).any()):
                raise ValueError(f"NIR node {where!r}: a bias on a delayed branch (it would be 0 for the first steps); "
                                 f"a DelayedLinear's bias is undelayed")
            bias = b if bias is None else bias + b
    m = layer.DelayedLinear(weight.shape[1], weight.shape[0], delays, bias=bias is not None, step_mode="m")
    with torch.no_grad():
        m.weight.copy_(weight)
        if bias is not None:
            m.bias.copy_(bias)
    return m
