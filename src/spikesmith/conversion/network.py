"""``ConvertedSNN``: the converted network, a drop-in replacement for its ANN.

``snn(x)`` takes the ANN's input ``N x ...`` (a direct, constant input over T steps) and returns
the ANN-shaped output V(T) / T of the integrating readout. Inside, the converted graph runs once on
the time-folded batch ``T*N x ...``; the part of the graph before the first neuron runs once on
``N x ...`` (``TimeExpand`` repeats it where it meets the spiking part).

>>> snn = conversion.convert(ann, x_calib, T=32)
>>> snn(x).shape == ann(x).shape
>>> snn.forward_seq(x).shape            # [T, N, classes]: the output averaged over the first t steps
>>> snn.neurons()                       # {'features.2': IFNode(...), ...}, multi-step, for monitors
"""

from __future__ import annotations

import copy
import warnings
from collections import OrderedDict
from typing import Any, Optional

import torch
from torch import Tensor, fx, nn
from torch.fx.passes.shape_prop import ShapeProp

from .. import functional
from .graph import MAXPOOL_FUNCTIONS, MAXPOOL_MODULES, activation_nodes, producers
from .layers import GatedMaxPool, IFActivation, Readout, TimeAware, TimeExpand, maxpool_module

MAX_POOL_RULES = ("error", "gate")


def _propagate_shapes(gm: fx.GraphModule, input_shape: tuple) -> None:
    param = next(iter(gm.parameters()), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None else torch.get_default_dtype()
    with torch.no_grad():
        ShapeProp(gm).propagate(torch.zeros((2, *input_shape), device=device, dtype=dtype))


def _node_shape(node: fx.Node) -> Optional[tuple]:
    meta = node.meta.get("tensor_meta")
    return tuple(meta.shape) if meta is not None and hasattr(meta, "shape") else None


def channel_shape(step_shape: tuple) -> tuple:
    """The per-channel shape for one sample ``[C, ...]``: ``[C, 1, 1]`` for images, ``[F]`` for features."""
    if len(step_shape) < 1:
        return ()
    return (step_shape[0],) + (1,) * (len(step_shape) - 1)


def build_snn(ann_gm: fx.GraphModule, input_shape: tuple, max_pool: str = "error") -> fx.GraphModule:
    """The spiking graph of a normalised ANN graph (weights copied; thresholds 1 until balanced).

    Each activation becomes an ``IFActivation`` under the same name, the output goes through a
    ``Readout``, and static tensors are expanded over time where they meet spikes.
    """
    if max_pool not in MAX_POOL_RULES:
        raise ValueError(f"convert: max_pool must be one of {', '.join(MAX_POOL_RULES)}, got {max_pool!r}")
    gm = copy.deepcopy(ann_gm)
    _propagate_shapes(gm, input_shape)
    modules = dict(gm.named_modules())
    acts = set(activation_nodes(gm))
    kind: dict[fx.Node, str] = {}
    for node in gm.graph.nodes:
        if node.op == "placeholder":
            kind[node] = "static"
        elif node.op == "get_attr":
            kind[node] = "const"
        elif node.op != "output":
            ins = {kind[p] for p in producers(list(node.args) + list(node.kwargs.values()))}
            kind[node] = "dynamic" if (node in acts or "dynamic" in ins) else ("static" if "static" in ins else "const")

    # max pooling on spikes: the documented rule
    dynamic_pools = []
    for node in gm.graph.nodes:
        if kind.get(node) != "dynamic":
            continue
        if (node.op == "call_module" and isinstance(modules[node.target], MAXPOOL_MODULES)) or (
                node.op == "call_function" and node.target in MAXPOOL_FUNCTIONS):
            dynamic_pools.append(node)
    if dynamic_pools and max_pool == "error":
        names = ", ".join(repr(n.target if n.op == "call_module" else n.name) for n in dynamic_pools)
        raise ValueError(
            f"convert: max pooling after a spiking layer ({names}) has no exact spiking equivalent: the max of "
            f"per-step spikes over-estimates the max of rates. Train the ANN with average pooling (e.g. "
            f"build_model(..., pool='avg')), which converts exactly, or pass max_pool='gate' for a spiking max "
            f"pool that passes, per window, the unit with the most accumulated input (approximate)")
    for node in dynamic_pools:
        if node.op == "call_module":
            gm.set_submodule(node.target, GatedMaxPool(modules[node.target]))
        else:
            name = f"maxpool_{node.name}"
            gm.add_submodule(name, GatedMaxPool(maxpool_module(node.target, node.args[1:], dict(node.kwargs))))
            with gm.graph.inserting_after(node):
                new = gm.graph.call_module(name, (node.args[0],))
            node.replace_all_uses_with(new)
            kind[new] = "dynamic"
            gm.graph.erase_node(node)

    # neurons, under the activations' names
    for node in acts:
        shape = _node_shape(node)
        step_shape = shape[1:] if shape else ()
        gm.set_submodule(node.target, IFActivation(torch.ones(()), channel_shape(step_shape)))

    # static tensors meet the time-varying part through TimeExpand
    expanded: dict[fx.Node, fx.Node] = {}

    def expand(p: fx.Node) -> fx.Node:
        if p not in expanded:
            name = f"time_expand_{len(expanded)}"
            gm.add_submodule(name, TimeExpand())
            with gm.graph.inserting_after(p):
                expanded[p] = gm.graph.call_module(name, (p,))
        return expanded[p]

    for node in list(gm.graph.nodes):
        if node.op == "output" or kind.get(node) != "dynamic":
            continue
        for p in producers(list(node.args) + list(node.kwargs.values())):
            if kind.get(p) == "static" and _node_shape(p) is not None:   # tensors only, not x.size(0)
                e = expand(p)
                node.replace_input_with(p, e)

    out = next(n for n in gm.graph.nodes if n.op == "output")
    result = out.args[0]
    if not isinstance(result, fx.Node):
        raise ValueError("convert: the ANN must return one tensor (got a tuple or dict output)")
    if kind.get(result) == "static":
        result = expand(result)
    out_shape = _node_shape(out.args[0])
    gm.add_submodule("readout", Readout(channel_shape(out_shape[1:]) if out_shape else ()))
    with gm.graph.inserting_before(out):
        readout = gm.graph.call_module("readout", (result,))
    out.args = (readout,)
    gm.graph.lint()
    gm.recompile()
    return gm


class ConvertedSNN(nn.Module):
    """An SNN converted from an ANN; ``forward(x)`` is a drop-in replacement for the ANN's.

    Attributes:
        net: the spiking ``GraphModule`` (``IFActivation`` under the ANN's activation names, ``readout``).
        ann: the reference ANN graph (BatchNorm folded), kept for recalibration and comparisons.
        T: the number of time steps of ``forward``.
        method, options: how it was converted (see ``spikesmith.conversion.convert``).
        source: the source model's registry name and arguments, when known (for checkpoints).
        input_shape: the shape of one input sample.
    """

    def __init__(self, net: fx.GraphModule, ann: fx.GraphModule, T: int, input_shape: tuple, method: str = "custom",
                 options: Optional[dict] = None, source: Optional[dict] = None):
        super().__init__()
        self.net = net
        self.ann = ann
        self.T = check_T(T)
        self.calibrated_T = self.T
        self.input_shape = tuple(int(s) for s in input_shape)
        self.method = method
        self.options = dict(options or {})
        self.source = dict(source) if source else None
        self.t_dependent = False

    # ----------------------------------------------------------------- parts
    def spiking_layers(self) -> "OrderedDict[str, IFActivation]":
        """The ``IFActivation`` layers in graph order, by the name of the activation they replace."""
        modules = dict(self.net.named_modules())
        out: "OrderedDict[str, IFActivation]" = OrderedDict()
        for node in self.net.graph.nodes:
            if node.op == "call_module" and isinstance(modules[node.target], IFActivation):
                out[node.target] = modules[node.target]
        return out

    def neurons(self) -> "OrderedDict[str, nn.Module]":
        """The multi-step ``IFNode`` of every spiking layer (outputs ``T x N x ...`` binary spikes)."""
        return OrderedDict((name, layer.neuron) for name, layer in self.spiking_layers().items())

    @property
    def readout(self) -> Readout:
        return self.net.readout

    def thresholds(self) -> dict[str, Tensor]:
        return {name: layer.threshold.detach().clone() for name, layer in self.spiking_layers().items()}

    # ----------------------------------------------------------------- running
    def _prepare(self, T: int, static_input: bool) -> None:
        for m in self.net.modules():
            if isinstance(m, TimeAware):
                m.T = T
                m.static_input = static_input
        functional.reset_net(self.net)

    def _check_input(self, x: Tensor, seq: bool) -> None:
        if not isinstance(x, Tensor):
            raise TypeError(f"ConvertedSNN expects a torch.Tensor input, got {type(x).__name__}")
        need = len(self.input_shape) + (2 if seq else 1)
        layout = ("[T, N, " if seq else "[N, ") + ", ".join(map(str, self.input_shape)) + "]"
        if x.dim() != need or tuple(x.shape[need - len(self.input_shape):]) != self.input_shape:
            raise ValueError(f"ConvertedSNN expects input of shape {layout}, got shape {list(x.shape)}")

    def membrane(self, x: Tensor, T: Optional[int] = None) -> Tensor:
        """The readout's membrane potential V(t), ``[T, N, ...]``, for a constant input ``x`` (``N x ...``)."""
        self._check_input(x, seq=False)
        T = self.T if T is None else check_T(T)
        self._prepare(T, static_input=True)
        return self.net(x)

    def forward(self, x: Tensor) -> Tensor:
        """The ANN-shaped output V(T) / T for the input ``x`` (``N x ...``), repeated over T steps."""
        return self.membrane(x)[-1] / self.T

    def forward_seq(self, x: Optional[Tensor] = None, x_seq: Optional[Tensor] = None) -> Tensor:
        """The output averaged over the first t steps, V(t) / t, as ``[T, N, ...]``.

        Give ``x`` (``N x ...``, constant over ``self.T`` steps) or ``x_seq`` (``T x N x ...``, any
        encoding; T is then its length). ``forward_seq(x)[-1]`` equals ``forward(x)``; row t - 1 is
        the output of a run of t steps wherever the conversion does not depend on T.
        """
        if (x is None) == (x_seq is None):
            raise ValueError("forward_seq: give exactly one of x (N x ...) or x_seq (T x N x ...)")
        if x is not None:
            v = self.membrane(x)
        else:
            self._check_input(x_seq, seq=True)
            self._prepare(x_seq.shape[0], static_input=False)
            v = self.net(x_seq.flatten(0, 1))
        steps = torch.arange(1, v.shape[0] + 1, device=v.device, dtype=v.dtype)
        return v / steps.view(-1, *([1] * (v.dim() - 1)))

    # ----------------------------------------------------------------- biases
    @torch.no_grad()
    def remove_biases(self) -> "ConvertedSNN":
        """Move every bias into the initial potentials and drop it (for hardware without biases).

        The constant current B_l that the biases (of convolutions, linear layers and the spiking
        layers' offsets) give spiking layer l when no spike arrives is found by running the network
        once on a zero input with every spiking layer silenced. A bias is a charge of B_l per step,
        T B_l in all: it becomes V(0) += T B_l (per neuron; the readout too). The total charge over T
        steps is unchanged, its timing is not (a neuron with a large V(0) fires early), which is what
        this costs in accuracy. Depends on T (a later ``set_T`` warns).
        """
        modules = dict(self.net.named_modules())
        kept_bn = [n for n, m in modules.items() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        if kept_bn:
            raise ValueError(f"convert: bias=False cannot remove the offset of BatchNorm layers that follow no "
                             f"convolution or linear layer ({', '.join(kept_bn)}); fold them in the ANN first")
        layers = self.spiking_layers()
        probes: dict[str, Tensor] = {}

        def silence(name):
            def f(inp):
                probes[name] = inp[0].clone()
                return torch.zeros_like(inp)
            return f

        for name, layer in layers.items():
            layer.override = silence(name)
        self.readout.override = silence("readout")
        param = next(iter(self.parameters()))
        try:
            self._prepare(1, static_input=True)
            self.net(torch.zeros((1, *self.input_shape), device=param.device, dtype=param.dtype))
        finally:
            for layer in layers.values():
                layer.override = None
            self.readout.override = None
        for name, layer in layers.items():
            offset = layer.bias + (layer.threshold / (2 * self.T) if layer.shift_bias else 0.0)
            layer.set_v_init(layer.v_init + self.T * (probes[name] + offset))
            layer.bias.zero_()
            layer.shift_bias = False
        integ = self.readout.integrator
        integ.v_init = (integ.v_init + self.T * (probes["readout"] + self.readout.bias)).clone()
        self.readout.bias.zero_()
        strip_biases(self.net)
        self.options["bias"] = False
        self.t_dependent = True
        return self

    # ----------------------------------------------------------------- T
    def set_T(self, T: int, calibration_data: Any = None, **options) -> "ConvertedSNN":
        """Run with T steps from now on.

        Thresholds and corrections made for another T stay as they are (with a warning when the
        method depends on T: MSE thresholds, the V_th/(2T) shift is recomputed but bias and potential
        corrections are not), unless ``calibration_data`` is given: then the network is converted
        again from its reference ANN with the same method and options at the new T.
        """
        T = check_T(T)
        if calibration_data is not None:
            from .convert import convert

            opts = {**self.options, **options}
            new = convert(self.ann, calibration_data, T=T, method=self.method, source=self.source, **opts)
            self.net = new.net
            self.options = new.options
            self.calibrated_T = T
            self.t_dependent = new.t_dependent
        elif T != self.calibrated_T and self.t_dependent:
            warnings.warn(
                f"ConvertedSNN: method {self.method!r} was calibrated for T={self.calibrated_T}; running at T={T} "
                f"keeps its thresholds and corrections (pass calibration_data to set_T to recalibrate)",
                stacklevel=2)
        self.T = T
        return self

    def extra_repr(self) -> str:
        return f"T={self.T}, method={self.method!r}, spiking layers={len(self.spiking_layers())}"


def strip_biases(net: nn.Module) -> int:
    """Set the bias of every convolution and linear layer of ``net`` to None; returns how many."""
    n = 0
    for m in net.modules():
        if isinstance(m, (nn.Linear, nn.modules.conv._ConvNd)) and m.bias is not None:
            m.bias = None
            n += 1
    return n


def check_T(T) -> int:
    if isinstance(T, bool) or not isinstance(T, int) or T < 1:
        raise ValueError(f"T must be a positive int (number of time steps), got {T!r}")
    return T
