"""A network as the flat list of layers the exporters, ``check`` and ``analysis`` work on.

``layer_list(model, input_shape)`` takes

- a sequential network: an ``nn.Sequential`` of step-mode layers and neurons (nested sequentials and
  spikesmith's containers are opened), the reference ``FCSNN`` / ``CSNN`` / ``SpikingVGG`` models
  (SNN or ANN twin), or a single neuron;
- a converted network (``spikesmith.conversion.ConvertedSNN``) whose graph is a chain;

and returns ``Op`` records in execution order, each with a copy of its module (stateless modules in
single-step mode) and the shape of one sample in and out (no time, no batch). On the way:

- eval-mode BatchNorm directly after a convolution or linear layer is folded into it (exact:
  W' = W s, b' = (b - mu) s + beta with s = gamma / sqrt(var + eps), in float64; tdBN with
  s = alpha V_th gamma / sqrt(var + eps); TEBN and BNTT, a different map at each step, stay unfolded
  as ``other`` ops that every target refuses by name, see ``layer.eval_affine``);
- dropout and identities are dropped; ``AdaptiveAvgPool2d`` becomes the ``AvgPool2d`` it equals for
  this input (or is dropped when it keeps the size);
- in a converted network, each ``IFActivation`` becomes its per-step offset (added to the bias of the
  layer before it), an ``IFNode`` (soft reset, per-channel V_th and V(0)) and a ``Scale`` by V_th (its
  spikes have amplitude V_th); the ``Readout`` becomes an ``IntegratorNode``.

Nothing is refused here: each op has a ``kind`` (``linear``, ``conv``, ``flatten``, ``avgpool``,
``sumpool``, ``scale``, ``threshold``, ``maxpool``, ``neuron``, ``batchnorm``, ``delay`` (integer delays
per channel), ``delayed_linear`` (a linear layer with an integer delay per synapse: ``DelayedLinear``, or
``LearnableDelay`` with its rounded delays, as eval mode runs it), ``other``) and the consumers decide
what they can express, naming the op in their errors.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Optional

import torch
from torch import Tensor, fx, nn

from ..conversion.layers import GatedMaxPool, IFActivation, Readout, TimeExpand
from ..layer.delay import Delay, DelayedLinear
from ..layer.learnable_delay import LearnableDelay
from ..conversion.network import ConvertedSNN
from ..layer.bntt import BNTT
from ..layer.dropout import Dropout, Dropout2d
from ..layer.eval_affine import eval_affine
from ..layer.temporal_effective_norm import TemporalEffectiveBatchNorm2d
from ..models.activations import QCFS, ClipReLU
from ..models.blocks import TwinSequential
from ..module import MemoryModule, StepModule
from ..neuron import BaseNode, IntegratorNode
from ..typeregistry import TypeRegistry
from .modules import Scale, SumPool2d, Threshold
from .refusals import refusal_message, refusal_of

LAYER_KINDS: TypeRegistry[str] = TypeRegistry("export layer kind")
"""What each layer class is for the exporters (found along the MRO; anything else is ``'other'``).

A new layer declares itself with ``LAYER_KINDS.register(MyPool, "maxpool")``.
"""

_KINDS = {
    "neuron": (BaseNode,),
    "linear": (nn.Linear,),
    "conv": (nn.Conv1d, nn.Conv2d),
    "flatten": (nn.Flatten,),
    "avgpool": (nn.AvgPool2d, nn.AdaptiveAvgPool2d),
    "sumpool": (SumPool2d,),
    "scale": (Scale,),
    "threshold": (Threshold,),
    "maxpool": (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AdaptiveMaxPool2d, GatedMaxPool),
    "batchnorm": (nn.modules.batchnorm._BatchNorm,),
    "drop": (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.Identity, Dropout, Dropout2d,
             TimeExpand),
    "activation": (nn.ReLU, nn.ReLU6, nn.Hardtanh, ClipReLU, QCFS),
    "delay": (Delay,),
    "delayed_linear": (DelayedLinear, LearnableDelay),
}
for _kind, _classes in _KINDS.items():
    for _cls in _classes:
        LAYER_KINDS.register(_cls, _kind)
del _kind, _classes, _cls
# Normalisations whose eval map changes per time step: no target runs them, and they are never folded
# (check() gives the reason from layer.eval_affine). tdBN is a batchnorm, folded with its alpha V_th.
LAYER_KINDS.register(TemporalEffectiveBatchNorm2d, "other")
LAYER_KINDS.register(BNTT, "other")


DELAYED_SYNAPSES: TypeRegistry[Callable[[nn.Module], tuple]] = TypeRegistry("delayed synapse reader")
"""How a ``delayed_linear`` op gives its synapses: ``fn(module) -> (weight [out, in], integer delays [out, in],
bias or None)``, the delays those of eval mode."""
DELAYED_SYNAPSES.register(DelayedLinear, lambda m: (m.weight.detach(), m.delays, m.bias))
DELAYED_SYNAPSES.register(LearnableDelay, lambda m: (m.weight.detach(), m.integer_delays(), m.bias))


def delayed_synapses(module: nn.Module) -> tuple:
    """``(weight, delays, bias)`` of a ``delayed_linear`` op's module (see ``DELAYED_SYNAPSES``)."""
    return DELAYED_SYNAPSES.get(module)(module)


@dataclass
class Op:
    """One layer of the flattened network."""

    name: str                     # qualified name in the source model ('3', 'features.2', 'fc1')
    module: nn.Module             # a copy (BN folded; stateless modules in step_mode 's')
    kind: str
    in_shape: Optional[tuple] = None   # one sample: (C, H, W) or (F,); None when unknown
    out_shape: Optional[tuple] = None
    notes: list = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{type(self.module).__name__} '{self.name}'"


def kind_of(module: nn.Module) -> str:
    """The op kind of ``module`` (see ``LAYER_KINDS``); ``'refused'`` for a layer refused by name
    (``export.refusals``); ``'other'`` for a class no entry covers."""
    if refusal_of(module) is not None:
        return "refused"
    return LAYER_KINDS.get(module, "other")


@dataclass(frozen=True)
class NetworkReader:
    """How the exporters read one kind of network.

    Attributes:
        leaves: the network's layers in execution order, as ``(qualified name, module)``.
        static_input: the network takes one ``[N, ...]`` input and runs it for its ``T`` steps
            (a converted network) instead of a ``[T, N, ...]`` sequence.
        input_shape: the shape of one sample the network knows itself (None: the caller gives it).

    A reader registered for a class covers its subclasses only while they keep that class's
    ``forward``: a subclass with its own ``forward`` may not run its layers in order.
    """

    leaves: Callable[[nn.Module], list]
    static_input: bool = False
    input_shape: Optional[Callable[[nn.Module], tuple]] = None


NETWORKS: TypeRegistry[NetworkReader] = TypeRegistry("exportable network")


def reader_of(model: nn.Module) -> Optional[NetworkReader]:
    """The reader of ``model`` (see ``NetworkReader``), or None when no reader covers its ``forward``."""
    hit = NETWORKS.match(model)
    if hit is None:
        return None
    cls, reader = hit
    return reader if type(model).forward is cls.forward else None


def takes_static_input(model: nn.Module) -> bool:
    """Whether ``model`` takes ``[N, ...]`` (repeated over its own ``T`` steps) rather than ``[T, N, ...]``."""
    reader = reader_of(model)
    return reader is not None and reader.static_input


def is_sequential(model: nn.Module) -> bool:
    return isinstance(model, nn.Sequential) and reader_of(model) is not None


def _leaves(model: nn.Module, prefix: str = "") -> list[tuple[str, nn.Module]]:
    if isinstance(model, nn.Sequential):
        out = []
        for name, child in model.named_children():
            out += _leaves(child, f"{prefix}{name}.")
        return out
    return [(prefix[:-1] or type(model).__name__, model)]


def _single_step_copy(module: nn.Module) -> nn.Module:
    m = copy.deepcopy(module)
    for sub in m.modules():
        if isinstance(sub, StepModule) and not isinstance(sub, BaseNode):
            sub.step_mode = "s"
    return m.eval()


def fold_batchnorm(layer: nn.Module, bn: nn.Module) -> None:
    """Fold an eval-mode normalisation into the conv/linear ``layer`` before it (in place; adds a bias).

    The layer's eval map per channel, Y = scale X + shift, comes from ``layer.eval_affine`` (BatchNorm,
    tdBN with its alpha V_th); a class that refuses by name there (TEBN, BNTT) raises ``NotFoldableError``.
    """
    scale, shift = eval_affine(bn)
    w = layer.weight.detach().double()
    bias = layer.bias.detach().double() if layer.bias is not None else torch.zeros_like(scale)
    dtype = layer.weight.dtype
    layer.weight = nn.Parameter(w.mul(scale.reshape(-1, *([1] * (w.dim() - 1)))).to(dtype))
    layer.bias = nn.Parameter((bias * scale + shift).to(dtype))


def _sample_forward(module: nn.Module, shape: tuple) -> tuple:
    with torch.no_grad():
        param = next(iter(module.parameters()), None)
        dtype = param.dtype if param is not None else torch.get_default_dtype()
        y = module(torch.zeros((1, *shape), dtype=dtype))
    return tuple(y.shape[1:])


def _converted_leaves(snn: nn.Module) -> list[tuple[str, nn.Module]]:
    """The converted network's graph as a chain of (name, module) (see the module docstring)."""
    gm: fx.GraphModule = snn.net
    modules = dict(gm.named_modules())
    out: list[tuple[str, nn.Module]] = []
    prev: Optional[fx.Node] = None
    for node in gm.graph.nodes:
        if node.op in ("placeholder", "output"):
            if node.op == "placeholder":
                prev = node
            continue
        args = [a for a in node.args if isinstance(a, fx.Node)]
        if len(args) != 1 or args[0] is not prev or len(prev.users) != 1:
            raise ValueError(
                f"the converted network's graph is not a chain at node {node.name!r} ({node.op} {node.target}); "
                f"the exporters read chains of layers (no residual additions or concatenations)")
        if node.op == "call_module":
            m = modules[node.target]
            out += CONVERTED_LAYERS.get(m, _as_is)(node.target, m)
        elif node.op in ("call_function", "call_method") and _is_flatten(node):
            out.append((node.name, nn.Flatten(int(_flatten_start(node)))))
        else:
            raise ValueError(f"the converted network's node {node.name!r} ({node.op} {node.target}) has no exporter; "
                             f"supported: modules, flatten")
        prev = node
    return out


def _as_is(name: str, m: nn.Module) -> list:
    return [(name, m)]


def _if_activation(name: str, m: IFActivation) -> list:
    """Its per-step offset (when not 0), its IF neuron and a ``Scale`` by V_th (the spikes' amplitude)."""
    out = []
    offset = m.step_offset().detach()
    if bool((offset != 0).any()):
        out.append((f"{name}.offset", _Offset(offset)))
    out.append((name, copy.deepcopy(m.neuron)))
    out.append((f"{name}.amplitude", Scale(m.threshold.detach().clone())))
    return out


def _readout(name: str, m: Readout) -> list:
    return [(name, IntegratorNode(v_init=m.integrator.v_init, step_mode="m"))]


CONVERTED_LAYERS: TypeRegistry[Callable[[str, nn.Module], list]] = TypeRegistry("converted-network layer reader")
"""How a module of a converted network's graph becomes ops: ``fn(name, module) -> [(name, module), ...]``
(a module no entry covers is taken as it is)."""
CONVERTED_LAYERS.register(IFActivation, _if_activation)
CONVERTED_LAYERS.register(Readout, _readout)


def _is_flatten(node: fx.Node) -> bool:
    return node.target in (torch.flatten, "flatten")


def _flatten_start(node: fx.Node) -> int:
    if len(node.args) > 1:
        return node.args[1]
    return node.kwargs.get("start_dim", 0 if node.target is torch.flatten else 0)


class _Offset(nn.Module):
    """A constant added to every step's input (a converted layer's bias offset)."""

    def __init__(self, offset: Tensor):
        super().__init__()
        self.register_buffer("offset", offset.clone())

    def forward(self, x: Tensor) -> Tensor:
        return x + self.offset


def layer_list(model: nn.Module, input_shape: Optional[tuple] = None) -> list[Op]:
    """The flattened layers of ``model`` for one sample of shape ``input_shape`` (see the module docstring).

    Without ``input_shape`` (and for a converted network, its own) the shapes are None and adaptive
    pooling stays unresolved (kind ``other``).
    """
    reader = reader_of(model)
    if input_shape is None and reader is not None and reader.input_shape is not None:
        input_shape = reader.input_shape(model)
    input_shape = None if input_shape is None else tuple(int(s) for s in input_shape)
    if reader is not None:
        leaves = reader.leaves(model)
    elif isinstance(model, BaseNode) or kind_of(model) != "other":
        leaves = [(type(model).__name__, model)]
    else:
        why = refusal_message(model)
        raise TypeError(
            f"{type(model).__name__} defines its own forward, which the exporters cannot follow; they read "
            f"sequential networks (nn.Sequential of layers and neurons, FCSNN, CSNN, SpikingVGG) and converted "
            f"networks (ConvertedSNN) whose graph is a chain{why}")
    ops: list[Op] = []
    shape = input_shape
    for name, module in leaves:
        kind = kind_of(module)
        if isinstance(module, _Offset):
            if ops and ops[-1].kind in ("linear", "conv"):
                _add_bias(ops[-1].module, module.offset)
                ops[-1].notes.append(f"bias offset of {name.rsplit('.', 1)[0]} added")
                continue
            kind = "other"
        if kind == "drop":
            continue
        copy_ = copy.deepcopy(module) if kind == "neuron" else _single_step_copy(module)
        if kind == "batchnorm" and ops and ops[-1].kind in ("linear", "conv"):
            fold_batchnorm(ops[-1].module, copy_)
            ops[-1].notes.append(f"BatchNorm '{name}' folded")
            continue
        if isinstance(copy_, nn.AdaptiveAvgPool2d):
            if shape is None:
                kind = "other"
            else:
                copy_ = _adaptive_to_avg(copy_, shape)
                if copy_ is None:
                    continue
                if isinstance(copy_, nn.AdaptiveAvgPool2d):
                    kind = "other"
        if kind == "neuron":
            from ..functional import reset_net

            reset_net(copy_)
            out_shape = shape
        elif shape is None:
            out_shape = None
        else:
            try:
                out_shape = _sample_forward(copy_, shape)
            except Exception as err:  # noqa: BLE001 - reported with the layer's name
                if kind in ("other", "refused", "maxpool", "activation", "batchnorm"):
                    out_shape = None  # an unsupported layer: check() names it
                else:
                    raise ValueError(f"{type(module).__name__} '{name}' cannot take one sample of shape "
                                     f"{list(shape)}: {err}") from None
        if isinstance(copy_, MemoryModule) and kind != "neuron":
            copy_.reset()                     # the sample step above left its past inputs (a delay's ring)
        ops.append(Op(name, copy_, kind, shape, out_shape))
        shape = out_shape
    return ops


def _add_bias(layer: nn.Module, offset: Tensor) -> None:
    off = offset.detach().reshape(-1)
    n = layer.weight.shape[0]
    if off.numel() == 1:
        off = off.expand(n)
    if off.numel() != n:
        raise ValueError(f"a per-step offset of shape {list(offset.shape)} does not fit {type(layer).__name__}")
    bias = layer.bias.detach() if layer.bias is not None else torch.zeros(n, dtype=layer.weight.dtype)
    layer.bias = nn.Parameter(bias + off.to(bias.dtype))


def _adaptive_to_avg(pool: nn.AdaptiveAvgPool2d, shape: tuple) -> Optional[nn.Module]:
    """The AvgPool2d an adaptive pool equals on inputs of ``shape`` (None: it keeps the size)."""
    out = pool.output_size
    out = (out, out) if isinstance(out, int) or out is None else tuple(out)
    H, W = shape[-2], shape[-1]
    oh = H if out[0] is None else out[0]
    ow = W if out[1] is None else out[1]
    if (oh, ow) == (H, W):
        return None
    if H % oh or W % ow:
        return pool  # uneven windows: left as it is (consumers refuse it)
    return nn.AvgPool2d((H // oh, W // ow), (H // oh, W // ow))


def _own_input_shape(model: nn.Module) -> tuple:
    return tuple(model.input_shape)


NETWORKS.register(nn.Sequential, NetworkReader(_leaves))
NETWORKS.register(TwinSequential, NetworkReader(_leaves))       # FCSNN, CSNN, SpikingVGG
NETWORKS.register(ConvertedSNN, NetworkReader(_converted_leaves, static_input=True, input_shape=_own_input_shape))


def ops_network(ops: list[Op]) -> nn.Sequential:
    """A multi-step network (input ``[T, N, ...]``) running ``ops`` as they are (copies; BN already folded)."""
    from ..layer import SeqToANNContainer

    mods: "OrderedDict[str, nn.Module]" = OrderedDict()
    for i, op in enumerate(ops):
        m = copy.deepcopy(op.module)
        if isinstance(m, StepModule):
            m.step_mode = "m"
        elif not isinstance(m, BaseNode):
            m = SeqToANNContainer(m)
        mods[f"{i}_{op.name}".replace(".", "_")] = m
    return nn.Sequential(mods)
