"""SpikingJelly (``spikingjelly.activation_based``) networks -> spikesmith networks.

``from_spikingjelly(net)`` rebuilds ``net`` module by module with the same weights, buffers, neuron
options and step modes, so the new network gives the same outputs (spikes fire on H - V_th >= 0 in both;
the initial potential is V_reset, or 0 for a soft reset, in both).

What maps (SpikingJelly -> spikesmith):

- ``neuron.IFNode`` / ``LIFNode`` / ``ParametricLIFNode`` (and ``SimpleIFNode`` / ``SimpleLIFNode``, which
  start from V = 0) -> ``spikesmith.neuron`` of the same name, with ``v_threshold``, ``v_reset``, ``tau``,
  ``decay_input``, ``detach_reset``, ``step_mode``, ``store_v_seq`` and PLIF's learned ``w``; the backend is
  ours (``'auto'``: the fused CPU kernel where it applies);
- surrogates by name and parameter: ``Sigmoid(alpha)``, ``ATan(alpha)``, ``PiecewiseQuadratic(alpha)``,
  ``PiecewiseExp(alpha)`` -> ``Exponential(alpha)``, ``Rect(alpha)`` -> ``Rectangle(width=1/alpha)``,
  ``SuperSpike(alpha=1)`` -> ``FastSigmoid(slope=1)``;
- ``layer.Linear``, ``Conv1d/2d/3d``, ``BatchNorm1d/2d/3d``, ``MaxPool1d/2d/3d``, ``AvgPool1d/2d/3d``,
  ``AdaptiveAvgPool1d/2d/3d``, ``Flatten``, ``Dropout``, ``Dropout2d`` -> ``spikesmith.layer`` of the same name;
- ``layer.GroupNorm`` and ``layer.VotingLayer`` -> ``spikesmith.layer.GroupNorm`` / ``VotingLayer``;
  ``layer.SynapseFilter``, ``LinearRecurrentContainer``, ``ElementWiseRecurrentContainer`` -> the
  ``spikesmith.layer`` classes of the same names (sub-module converted, ``rc`` weights copied);
- ``layer.SeqToANNContainer``, ``MultiStepContainer``, ``StepModeContainer`` and ``nn.Sequential`` (child
  names kept, so ``state_dict`` keys of the layers stay the same) with their children converted;
- plain ``torch.nn`` layers without children (``nn.Conv2d`` inside a container, ``nn.ReLU``): copied;
- any other module with its own ``forward`` (your own model class, ``nn.ModuleList``, and SpikingJelly's
  model classes: the zoo's ``model.sew_resnet`` / ``spiking_resnet`` ``BasicBlock``, ``Bottleneck``,
  ``SEWResNet``, ``SpikingResNet``, ``parametric_lif_net``'s nets, ..., and the examples' nets): copied
  with its class, attributes and ``forward`` kept, and its children replaced by their conversions (in
  place inside the copy). The forward then runs on spikesmith modules,
  so it must use only what both provide (``step_mode``, the layers' torch attributes; not SJ-only ones).

A SpikingJelly module with no counterpart is refused: one ``TypeError`` names every such module by its
path, with the nearest spikesmith module to use instead.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from typing import Optional

import torch
from torch import nn

from ... import layer as sf_layer
from ... import neuron as sf_neuron
from ... import surrogate as sf_surrogate

_NEURONS = {"IFNode", "LIFNode", "ParametricLIFNode", "SimpleIFNode", "SimpleLIFNode"}
_LAYERS = {
    "Linear", "Conv1d", "Conv2d", "Conv3d", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "MaxPool1d", "MaxPool2d",
    "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d",
    "Flatten", "GroupNorm",
}
_CONTAINERS = {"SeqToANNContainer", "MultiStepContainer", "StepModeContainer"}
_HINTS = {
    "NonSpikingIFNode": "spikesmith.neuron.IntegratorNode (a membrane readout; SpikingJelly's decode= has no "
                        "counterpart: take v_seq and decode it yourself)",
    "NonSpikingLIFNode": "spikesmith.neuron.NonSpikingLIFNode (decode= has no counterpart: decode v_seq yourself)",
    "IzhikevichNode": "spikesmith.neuron.IzhikevichNode (parameterised differently: rebuild it by hand)",
    "LIFNodeWithAdaptiveThreshold": "spikesmith.neuron.AdaptiveLIFNode",
    "LinearRecurrentContainer": "spikesmith.layer.Recurrent",
    "ElementWiseRecurrentContainer": "spikesmith.layer.Recurrent",
    "TLastSeqToANNContainer": "SeqToANNContainer with the input moved time-first (functional layouts)",
    "TLastMultiStepContainer": "MultiStepContainer with the input moved time-first (functional layouts)",
    "Delay": "torch ops in a module of your own (shift the sequence: x_seq[:-d], zero-padded in front)",
}
_SURROGATE_HINT = ("Sigmoid, ATan, PiecewiseQuadratic, PiecewiseExp, Rect, SuperSpike(alpha=1); pass one of "
                   "those to the SpikingJelly neuron, or rebuild the neuron with a spikesmith.surrogate")
_SUPPORTED = ("IFNode, LIFNode, ParametricLIFNode, SimpleIFNode, SimpleLIFNode; layer." + "/".join(sorted(_LAYERS))
              + "/Dropout/Dropout2d/VotingLayer; SeqToANNContainer, MultiStepContainer, StepModeContainer; "
                "SJ's model classes (activation_based.model, the examples); torch.nn layers; your own module classes")
# SpikingJelly's own model classes (the zoo, the examples' nets): converted like a class of your own.
_MODEL_CLASSES = ("spikingjelly.activation_based.model", "spikingjelly.activation_based.examples",
                  "spikingjelly.activation_based.ann2snn.sample_models")


def _is_sj(module: nn.Module) -> bool:
    return type(module).__module__.startswith("spikingjelly")


def _float(value):
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    return None if value is None else float(value)


def _surrogate(sg: nn.Module, where: str, problems: list) -> Optional[sf_surrogate.SurrogateFunction]:
    name = type(sg).__name__
    spiking = bool(getattr(sg, "spiking", True))
    alpha = getattr(sg, "alpha", None)
    if isinstance(alpha, torch.Tensor):
        if alpha.requires_grad:
            problems.append(f"{where}: a learnable {name} surrogate (alpha is a parameter) has no counterpart; "
                            f"use a fixed alpha or spikesmith.surrogate.Dspike")
            return None
        alpha = float(alpha)
    if name == "Sigmoid":
        return sf_surrogate.Sigmoid(alpha=alpha, spiking=spiking)
    if name == "ATan":
        return sf_surrogate.ATan(alpha=alpha, spiking=spiking)
    if name == "PiecewiseQuadratic":
        return sf_surrogate.PiecewiseQuadratic(alpha=alpha, spiking=spiking)
    if name == "PiecewiseExp":
        return sf_surrogate.Exponential(alpha=alpha, spiking=spiking)
    if name == "Rect":
        return sf_surrogate.Rectangle(width=1.0 / alpha, spiking=spiking)
    if name == "SuperSpike" and alpha == 1.0:
        return sf_surrogate.FastSigmoid(slope=1.0, spiking=spiking)
    extra = f" with alpha={alpha:g}" if name == "SuperSpike" else ""
    problems.append(f"{where}: surrogate {name}{extra} has no spikesmith counterpart; supported: {_SURROGATE_HINT}")
    return None


def _neuron(m: nn.Module, where: str, problems: list) -> Optional[nn.Module]:
    name = type(m).__name__
    sg = _surrogate(m.surrogate_function, f"{where} ({name}).surrogate_function", problems)
    if sg is None:
        return None
    kw = dict(v_threshold=_float(m.v_threshold), v_reset=_float(m.v_reset), surrogate_function=sg,
              detach_reset=bool(m.detach_reset), step_mode=m.step_mode)
    if name.startswith("Simple"):
        kw["v_init"] = 0.0          # SimpleBaseNode starts from V = 0 whatever V_reset is
    else:
        kw["store_v_seq"] = bool(getattr(m, "store_v_seq", False))
    if name in ("IFNode", "SimpleIFNode"):
        return sf_neuron.IFNode(**kw)
    if name in ("LIFNode", "SimpleLIFNode"):
        return sf_neuron.LIFNode(tau=_float(m.tau), decay_input=bool(m.decay_input), **kw)
    out = sf_neuron.ParametricLIFNode(decay_input=bool(m.decay_input), **kw)
    out.w = nn.Parameter(m.w.detach().clone(), requires_grad=m.w.requires_grad)
    return out


def _layer(m: nn.Module) -> nn.Module:
    name = type(m).__name__
    cls = getattr(sf_layer, name)
    mode = {"step_mode": m.step_mode}
    if name == "Linear":
        out = cls(m.in_features, m.out_features, bias=m.bias is not None, **mode)
    elif name.startswith("Conv"):
        out = cls(m.in_channels, m.out_channels, m.kernel_size, stride=m.stride, padding=m.padding,
                  dilation=m.dilation, groups=m.groups, bias=m.bias is not None, padding_mode=m.padding_mode, **mode)
    elif name.startswith("BatchNorm"):
        out = cls(m.num_features, eps=m.eps, momentum=m.momentum, affine=m.affine,
                  track_running_stats=m.track_running_stats, **mode)
    elif name.startswith("MaxPool"):
        out = cls(m.kernel_size, stride=m.stride, padding=m.padding, dilation=m.dilation,
                  return_indices=m.return_indices, ceil_mode=m.ceil_mode, **mode)
    elif name.startswith("AvgPool"):
        extra = {} if name == "AvgPool1d" else {"divisor_override": m.divisor_override}
        out = cls(m.kernel_size, stride=m.stride, padding=m.padding, ceil_mode=m.ceil_mode,
                  count_include_pad=m.count_include_pad, **extra, **mode)
    elif name.startswith("AdaptiveAvgPool"):
        out = cls(m.output_size, **mode)
    elif name == "GroupNorm":
        out = cls(m.num_groups, m.num_channels, eps=m.eps, affine=m.affine, **mode)
    else:  # Flatten
        out = cls(m.start_dim, m.end_dim, **mode)
    tensors = [t for t in list(m.parameters()) + list(m.buffers()) if t.is_floating_point()]
    if tensors:
        out.to(device=tensors[0].device, dtype=tensors[0].dtype)
    out.load_state_dict(m.state_dict())
    return out


def _children(m: nn.Module, where: str, problems: list) -> "OrderedDict[str, nn.Module]":
    return OrderedDict((k, _convert(c, f"{where}.{k}" if where else k, problems)) for k, c in m.named_children())


def _sj_neuron_base(m: nn.Module):
    """The SpikingJelly neuron class that the class of ``m`` (not itself SpikingJelly's) derives from."""
    if _is_sj(m):
        return None
    return next((c for c in type(m).__mro__[1:] if c.__module__.startswith("spikingjelly")
                 and ".neuron" in c.__module__), None)


def _in_place(m: nn.Module, where: str, problems: list) -> Optional[nn.Module]:
    """A copy of ``m`` (same class, attributes and forward) whose children are their conversions.

    The copy is a ``deepcopy`` whose memo maps every child to its conversion, so wherever ``m`` refers to
    a child (as a submodule, or in a plain list or dict attribute) the copy refers to the converted one.
    A child registered under two names is converted once and stays shared.
    """
    converted: dict[int, Optional[nn.Module]] = {}
    for key, child in m.named_children():
        if id(child) not in converted:
            converted[id(child)] = _convert(child, f"{where}.{key}" if where else key, problems)
    if any(c is None for c in converted.values()):
        return None
    return copy.deepcopy(m, dict(converted))


def _synapse_filter(m: nn.Module, where: str, problems: list) -> nn.Module:
    learnable = bool(m.learnable)
    tau = 2.0 if learnable else float(m.tau)       # a learnable filter's tau comes from w, loaded below
    out = sf_layer.SynapseFilter(tau=tau, learnable=learnable, step_mode=m.step_mode)
    if learnable:
        out.w = nn.Parameter(m.w.detach().clone(), requires_grad=m.w.requires_grad)
    return out


def _sub_module(m: nn.Module, where: str, problems: list) -> Optional[nn.Module]:
    return _convert(m.sub_module, f"{where}.sub_module" if where else "sub_module", problems)


def _linear_recurrent(m: nn.Module, where: str, problems: list) -> Optional[nn.Module]:
    sub = _sub_module(m, where, problems)
    if sub is None:
        return None
    out = sf_layer.LinearRecurrentContainer(sub, m.rc.out_features, int(m.sub_module_out_features),
                                            bias=m.rc.bias is not None, step_mode=m.step_mode)
    out.rc.to(device=m.rc.weight.device, dtype=m.rc.weight.dtype)
    out.rc.load_state_dict(m.rc.state_dict())
    return out


def _element_wise_recurrent(m: nn.Module, where: str, problems: list) -> Optional[nn.Module]:
    sub = _sub_module(m, where, problems)
    if sub is None:
        return None
    return sf_layer.ElementWiseRecurrentContainer(sub, m.element_wise_function, step_mode=m.step_mode)


# SpikingJelly layers whose spikesmith counterparts come with the compat layer set (used where present).
_FEEDBACK = {"SynapseFilter": _synapse_filter, "LinearRecurrentContainer": _linear_recurrent,
             "ElementWiseRecurrentContainer": _element_wise_recurrent}


def _convert_sj(m: nn.Module, name: str, where: str, label: str, problems: list) -> Optional[nn.Module]:
    if name in _NEURONS:
        return _neuron(m, label, problems)
    if name in _LAYERS:
        return _layer(m)
    if name in ("Dropout", "Dropout2d"):
        return getattr(sf_layer, name)(m.p, step_mode=m.step_mode)
    if name == "VotingLayer":
        return sf_layer.VotingLayer(int(m.voting_size), step_mode=m.step_mode)
    if name in _CONTAINERS:
        kids = list(_children(m, where, problems).values())
        if any(k is None for k in kids):
            return None
        if name == "SeqToANNContainer":
            return sf_layer.SeqToANNContainer(*kids)
        if name == "MultiStepContainer":
            return sf_layer.MultiStepContainer(*kids)
        return sf_layer.StepModeContainer(bool(m.stateful), *kids, step_mode=m.step_mode)
    if name in _FEEDBACK and hasattr(sf_layer, name):
        return _FEEDBACK[name](m, where, problems)
    if name in _HINTS:
        problems.append(f"{label}: spikingjelly {name} has no spikesmith counterpart; use {_HINTS[name]}")
    else:
        problems.append(f"{label}: spikingjelly {name} has no spikesmith counterpart; rebuild it from spikesmith "
                        f"modules (supported: {_SUPPORTED})")
    return None


def _convert(m: nn.Module, where: str, problems: list) -> Optional[nn.Module]:
    name = type(m).__name__
    label = f"module '{where}'" if where else "the root module"
    if _is_sj(m) and not type(m).__module__.startswith(_MODEL_CLASSES):
        out = _convert_sj(m, name, where, label, problems)
    elif _sj_neuron_base(m) is not None:
        problems.append(f"{label}: {name} subclasses spikingjelly {_sj_neuron_base(m).__name__}, whose dynamics "
                        f"it may change; rebuild it on spikesmith.neuron (or spikesmith.compat.spikingjelly's "
                        f"neuron module for SJ-style neuronal_charge) and load its state_dict")
        return None
    elif type(m) is nn.Sequential:
        kids = _children(m, where, problems)
        if any(k is None for k in kids.values()):
            return None
        out = nn.Sequential(kids)
    elif not list(m.children()):
        out = copy.deepcopy(m)              # a torch layer, or a leaf module of your own
    else:
        return _in_place(m, where, problems)   # your own class (or one of SJ's model classes): forward kept
    if out is not None:
        out.train(m.training)
    return out


def from_spikingjelly(module: nn.Module) -> nn.Module:
    """The spikesmith network equal to the SpikingJelly ``activation_based`` network ``module``.

    Same weights and buffers (copied, not shared), same neuron options and step modes: in eval mode the
    outputs are equal (up to float rounding of the fused kernels). The state starts fresh (reset).
    ``module`` itself is left as it is; a module class of your own (or SEW ResNet's ``BasicBlock``) comes
    back as a copy of the same class with converted children, so its ``forward`` still runs.

    >>> sj_net = nn.Sequential(sj_layer.Linear(4, 3), sj_neuron.LIFNode(surrogate_function=sj_surrogate.ATan()))
    >>> functional.set_step_mode(sj_net, "m")
    >>> net = from_spikingjelly(sj_net)                   # nn.Sequential(layer.Linear, neuron.LIFNode)

    Raises ``TypeError`` listing every unsupported module (path, class, and what to use instead).
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"from_spikingjelly: module must be an nn.Module, got {type(module).__name__}")
    problems: list[str] = []
    out = _convert(module, "", problems)
    if problems:
        lines = "\n  ".join(problems)
        raise TypeError(f"from_spikingjelly: {len(problems)} module(s) cannot be converted:\n  {lines}")
    return out
