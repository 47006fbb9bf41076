"""SpikingJelly's ``ann2snn.Converter(dataloader, device=None, mode='Max', momentum=0.1, fuse_flag=True)``.

What ``Converter(...)(ann)`` (or ``.convert(ann)``) gives, exactly as SpikingJelly's rate-coding converter:

1. ``ann`` is traced by ``torch.fx`` (a deep copy, in eval mode; ``ann`` itself is not changed);
2. with ``fuse_flag``, every ``Conv1d/2d/3d`` whose only user is a ``BatchNorm1d/2d/3d`` absorbs it
   (``torch.nn.utils.fusion.fuse_conv_bn_eval``);
3. after every ``nn.ReLU`` module a ``VoltageHook`` observes the activation on every calibration batch of
   ``dataloader`` (a batch is a tensor, or its first element, or its ``'input'``/``'image'``/... entry):
   the batch statistic ``s`` is its maximum (``mode='max'``), its ``p``-quantile (``mode='p%'``) or
   ``mode * max`` (a float in (0, 1]); the scale is ``s`` of the first batch, then
   ``scale <- (1 - momentum) * scale + momentum * s``;
4. every ReLU becomes ``spiking_k = VoltageScaler(1 / scale) -> IFNode(v_threshold=1, v_reset=None) ->
   VoltageScaler(scale)`` on the ReLU's input (``spikesmith.neuron.IFNode``: integrate, fire on
   ``V >= 1``, reset by subtraction). The module names (``spiking_0.scaler0.scale``, ...) are SJ's, and
   so is the scalers' dtype (the default float dtype, whatever the model's).

The SNN is single-step and stateful: feed the same input T times, sum the outputs, divide by T, and
``functional.reset_net(snn)`` between samples. Its torch layers become spikesmith's step layers (the
same layers plus ``step_mode``), so ``functional.set_step_mode(snn, 'm')`` runs a whole ``[T, N, ...]``
sequence at once when the forward is made of modules (``nn.Sequential`` and the like); tensor functions
written in a forward (``torch.flatten(x, 1)``, ``x.view(n, -1)``) are not adapted to the time dimension,
so there use ``layer.MultiStepContainer(snn)``.

>>> snn = Converter(train_loader, mode="99.9%")(ann)       # or, as SpikingJelly 2.0 writes it:
>>> snn = Converter(recipe=RateCodingRecipe(train_loader, mode="99.9%")).convert(ann)
>>> out = sum(snn(x) for _ in range(T)) / T;  functional.reset_net(snn)
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping
from typing import Optional, Union

import torch
from torch import Tensor, fx, nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from ... import layer as sf_layer
from ... import neuron as sf_neuron
from ...module import StepModule

_BATCH_KEYS = ("input", "image", "images", "img", "x", "data", "pixel_values")
_FUSABLE = ((nn.Conv1d, nn.BatchNorm1d), (nn.Conv2d, nn.BatchNorm2d), (nn.Conv3d, nn.BatchNorm3d))
_QUANTILE_LIMIT = 16_000_000      # torch.quantile refuses larger inputs; sort them instead (same result)


def check_mode(mode) -> Union[str, float]:
    """Raise ValueError unless ``mode`` is ``'max'`` (any case), ``'p%'`` with 0 <= p <= 100, or a float in (0, 1]."""
    fix = "use mode='max', a percentile such as '99.9%', or a fraction of the maximum in (0, 1] such as 0.9"
    if isinstance(mode, str):
        if mode.lower() == "max":
            return mode
        if mode.endswith("%"):
            try:
                p = float(mode[:-1])
            except ValueError:
                p = float("nan")
            if 0.0 <= p <= 100.0:
                return mode
        raise ValueError(f"Converter: mode {mode!r} is not a scaling method; {fix}")
    if isinstance(mode, (int, float)) and not isinstance(mode, bool) and 0 < mode <= 1:
        return mode
    raise ValueError(f"Converter: mode must be a string or a number in (0, 1], got {mode!r}; {fix}")


def _quantile(x: Tensor, q: float) -> Tensor:
    flat = x.detach().reshape(-1)
    if flat.dtype in (torch.float16, torch.bfloat16):
        flat = flat.float()
    if flat.numel() <= _QUANTILE_LIMIT:
        return torch.quantile(flat, q).to(x.dtype)
    ordered = flat.sort().values                   # torch.quantile's 'linear' interpolation, by hand
    pos = q * (ordered.numel() - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return (ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)).to(x.dtype)


def batch_statistic(x: Tensor, mode: Union[str, float]) -> Tensor:
    """The per-batch activation statistic of SpikingJelly's ``VoltageHook`` (max, quantile or fraction of max)."""
    if isinstance(mode, str) and mode.endswith("%"):
        if x.numel() == 0:
            raise ValueError("Converter: an empty activation cannot be calibrated; give non-empty batches")
        return _quantile(x, float(mode[:-1]) / 100.0)
    peak = x.detach().max()
    return peak if isinstance(mode, str) else peak * mode


class VoltageHook(nn.Module):
    """Observes an activation during calibration: ``scale`` = EMA (``momentum``) of ``batch_statistic``."""

    def __init__(self, scale: float = 1.0, momentum: float = 0.1, mode: Union[str, float] = "Max"):
        super().__init__()
        self.register_buffer("scale", torch.tensor(scale))
        self.mode = check_mode(mode)
        self.momentum = momentum
        self.num_batches_tracked = 0

    def forward(self, x: Tensor) -> Tensor:
        if not self.training:
            return x
        s = batch_statistic(x, self.mode)
        if self.num_batches_tracked == 0:
            self.scale = s
        else:
            self.scale = (1 - self.momentum) * self.scale + self.momentum * s
        self.num_batches_tracked += x.shape[0] if x.dim() > 0 else 1
        return x


class VoltageScaler(StepModule):
    """``x * scale`` (a buffer), the same in both step modes."""

    def __init__(self, scale: float = 1.0, step_mode: str = "s"):
        super().__init__(step_mode)
        self.register_buffer("scale", torch.tensor(scale))

    def forward(self, x: Tensor) -> Tensor:
        return x * self.scale

    def extra_repr(self) -> str:
        return f"{self.scale.item():f}, step_mode={self.step_mode}"


def _threshold(neuron: nn.Module) -> float:
    v_th = getattr(neuron, "v_threshold", 1.0)
    if isinstance(v_th, Tensor):
        if v_th.numel() != 1:
            raise ValueError(f"Converter: neuron_factory's neuron has {v_th.numel()} thresholds; it needs one")
        v_th = v_th.item()
    if not isinstance(v_th, (int, float)) or not math.isfinite(v_th) or v_th <= 0:
        raise ValueError(f"Converter: neuron_factory's neuron needs a finite positive v_threshold, got {v_th!r}")
    return float(v_th)


class SpikingReLU(nn.Module):
    """What a calibrated ReLU becomes: ``scaler1(if_node(scaler0(x)))``, scaler0 = v_th/scale, scaler1 = scale.

    The neuron is ``IFNode(v_threshold=1, v_reset=None)`` unless ``neuron`` (from a recipe's
    ``neuron_factory(scale)``) is given.
    """

    def __init__(self, scale: float, neuron: Optional[nn.Module] = None):
        super().__init__()
        if neuron is None:
            neuron = sf_neuron.IFNode(v_threshold=1.0, v_reset=None)
        self.scaler0 = VoltageScaler(_threshold(neuron) / scale)
        self.if_node = neuron
        self.scaler1 = VoltageScaler(scale)

    def forward(self, x: Tensor) -> Tensor:
        return self.scaler1(self.if_node(self.scaler0(x)))


class RateCodingRecipe:
    """SpikingJelly 2.0's ``ann2snn.RateCodingRecipe``: the settings of a rate-coding conversion.

    ``Converter(recipe=RateCodingRecipe(loader, mode='99.9%'))`` is ``Converter(loader, mode='99.9%')``.
    ``neuron_factory(scale) -> neuron`` replaces the IF neuron; channel-wise scaling, ``pre_spike_maxpool``
    and ``half_threshold`` have no counterpart here.
    """

    def __init__(self, dataloader: Iterable, mode: Union[str, float] = "Max", momentum: float = 0.1,
                 fuse_flag: bool = True, channel_wise: bool = False, channel_dim: int = 1,
                 pre_spike_maxpool: bool = False, half_threshold: bool = False, eps: float = 1e-6,
                 neuron_factory=None):
        unsupported = [name for name, on in (("channel_wise", channel_wise), ("pre_spike_maxpool", pre_spike_maxpool),
                                             ("half_threshold", half_threshold)) if on]
        if unsupported:
            raise ValueError(f"RateCodingRecipe: {', '.join(unsupported)}=True has no spikesmith counterpart; use the "
                             f"layer-wise default, or spikesmith.conversion.convert (per-channel thresholds)")
        if neuron_factory is not None and not callable(neuron_factory):
            raise TypeError(f"RateCodingRecipe: neuron_factory must be a callable scale -> neuron, got "
                            f"{type(neuron_factory).__name__}")
        self.dataloader = dataloader
        self.mode = mode
        self.momentum = momentum
        self.fuse_flag = fuse_flag
        self.neuron_factory = neuron_factory


def batch_input(data):
    """The model input inside a dataloader batch: a tensor, the first element of a tuple, or a dict entry."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (list, tuple)) and data:
        return batch_input(data[0])
    if isinstance(data, Mapping) and data:
        for key in _BATCH_KEYS:
            if key in data:
                return data[key]
        if len(data) == 1:
            return next(iter(data.values()))
    raise ValueError(f"Converter: cannot find the input in a calibration batch of type {type(data).__name__}; "
                     f"yield tensors, (input, label) pairs, or dicts with an 'input' or 'image' entry")


def _step_layers() -> dict:
    """torch layer type -> the spikesmith layer that adds ``step_mode`` to it (same attributes and state)."""
    names = ("Conv1d", "Conv2d", "Conv3d", "Linear", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "MaxPool1d",
             "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool1d",
             "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "Flatten", "GroupNorm")
    return {getattr(nn, n): getattr(sf_layer, n) for n in names if hasattr(sf_layer, n)}


def give_step_modes(gm: fx.GraphModule) -> int:
    """Turn every plain torch layer of ``gm`` into its spikesmith step layer, in place; returns how many.

    A spikesmith step layer is the torch layer plus a ``step_mode`` (``'s'``: exactly the torch layer), so
    in single-step mode nothing changes, and ``functional.set_step_mode(snn, 'm')`` makes the layers fold
    time into the batch. Only the class changes: parameters, buffers and attributes stay as they are.
    """
    table = _step_layers()
    count = 0
    for module in gm.modules():
        target = table.get(type(module))
        if target is not None:
            module.__class__ = target
            module.step_mode = "s"
            count += 1
    return count


def _is_relu(node: fx.Node, modules: dict) -> bool:
    return node.op == "call_module" and type(modules.get(node.target)) is nn.ReLU


def _set_module(gm: fx.GraphModule, target: str, module: nn.Module) -> None:
    parent, _, leaf = target.rpartition(".")
    setattr(gm.get_submodule(parent) if parent else gm, leaf, module)


def fuse_conv_bn(gm: fx.GraphModule) -> fx.GraphModule:
    """Fold every BatchNorm whose input is a convolution used by nothing else into that convolution."""
    modules = dict(gm.named_modules())
    for conv_type, bn_type in _FUSABLE:
        for node in list(gm.graph.nodes):
            if node.op != "call_module" or not isinstance(modules.get(node.target), bn_type) or not node.args:
                continue
            src = node.args[0]
            if not (isinstance(src, fx.Node) and src.op == "call_module"
                    and isinstance(modules.get(src.target), conv_type)) or len(src.users) > 1:
                continue
            bn = modules[node.target]
            if bn.running_mean is None or bn.running_var is None:
                raise ValueError(f"Converter: BatchNorm {node.target!r} has no running statistics "
                                 f"(track_running_stats=False), so it cannot be fused; train it with running "
                                 f"statistics or pass fuse_flag=False")
            fused = fuse_conv_bn_eval(modules[src.target], bn)
            _set_module(gm, src.target, fused)
            modules[src.target] = fused
            node.replace_all_uses_with(src)
            gm.graph.erase_node(node)
    gm.graph.lint()
    gm.delete_all_unused_submodules()
    gm.recompile()
    return gm


class Converter:
    """SpikingJelly's rate-coding ``ann2snn.Converter``: ``Converter(dataloader, ...)(ann)`` (the old API) or
    ``Converter(recipe=RateCodingRecipe(dataloader, ...), device=...).convert(ann)`` (SpikingJelly 2.0)."""

    def __init__(self, dataloader: Optional[Iterable] = None, device: Optional[Union[str, torch.device]] = None,
                 mode: Union[str, float] = "Max", momentum: float = 0.1, fuse_flag: bool = True, *,
                 recipe: Optional[RateCodingRecipe] = None):
        if isinstance(dataloader, RateCodingRecipe) and recipe is None:     # SJ 2.0: Converter(recipe, device)
            dataloader, recipe = None, dataloader
        self.neuron_factory = None
        if recipe is not None:
            if not isinstance(recipe, RateCodingRecipe):
                raise TypeError(f"Converter: recipe must be a RateCodingRecipe (the rate-coding conversion is the "
                                f"one with a spikesmith counterpart), got {recipe!r}; for other recipes use "
                                f"spikesmith.conversion.convert")
            if dataloader is not None:
                raise TypeError("Converter: give either a dataloader (the old API) or recipe=RateCodingRecipe(...), "
                                "not both")
            dataloader, mode, momentum, fuse_flag = (recipe.dataloader, recipe.mode, recipe.momentum,
                                                     recipe.fuse_flag)
            self.neuron_factory = recipe.neuron_factory
        if dataloader is None or not isinstance(dataloader, Iterable):
            raise TypeError(f"Converter: dataloader must be an iterable of calibration batches (a DataLoader), "
                            f"got {type(dataloader).__name__}")
        if (isinstance(momentum, bool) or not isinstance(momentum, (int, float))
                or not math.isfinite(momentum) or not 0.0 <= momentum <= 1.0):
            raise ValueError(f"Converter: momentum must be a number in [0, 1], got {momentum!r}")
        self.dataloader = dataloader
        self.device = device
        self.mode = check_mode(mode)
        self.momentum = float(momentum)
        self.fuse_flag = bool(fuse_flag)

    def __call__(self, ann: nn.Module) -> fx.GraphModule:
        return self.convert(ann)

    def convert(self, ann: nn.Module) -> fx.GraphModule:
        if not isinstance(ann, nn.Module):
            raise TypeError(f"Converter: ann must be an nn.Module, got {type(ann).__name__}")
        device = self.device
        if device is None:
            first = next(ann.parameters(), None)
            device = first.device if first is not None else torch.device("cpu")
        model = copy.deepcopy(ann).eval()
        try:
            graph = fx.Tracer().trace(model)
        except Exception as err:  # fx raises TraceError, TypeError, NotImplementedError, ...
            raise ValueError(f"Converter: torch.fx cannot trace {type(ann).__name__} ({type(err).__name__}: {err}); "
                             f"the forward must not branch on tensor values") from None
        gm = fx.GraphModule(model, graph).to(device)
        with torch.no_grad():
            if self.fuse_flag:
                gm = fuse_conv_bn(gm)
            hooks = self._insert_hooks(gm, device)
            if not hooks:
                raise ValueError(f"Converter: {type(ann).__name__} has no nn.ReLU module to turn into spiking "
                                 f"neurons; use nn.ReLU modules (F.relu and other activations are not converted)")
            self._calibrate(gm, device)
            self._replace(gm, hooks)
            give_step_modes(gm)
        return gm

    def _insert_hooks(self, gm: fx.GraphModule, device) -> list:
        modules = dict(gm.named_modules())
        counts: dict[str, int] = {}
        hooks = []
        for node in list(gm.graph.nodes):
            if not _is_relu(node, modules):
                continue
            parent = node.target.rpartition(".")[0]
            k = counts.get(parent, 0)
            counts[parent] = k + 1
            target = f"{parent}.voltage_hook_{k}" if parent else f"voltage_hook_{k}"
            hook = VoltageHook(momentum=self.momentum, mode=self.mode).to(device)
            gm.add_submodule(target, hook)
            with gm.graph.inserting_after(node):
                hook_node = gm.graph.call_module(target, args=(node,))
            hooks.append((node, hook_node, target, parent, k))
        gm.graph.lint()
        gm.recompile()
        return hooks

    def _calibrate(self, gm: fx.GraphModule, device) -> None:
        seen = 0
        for data in self.dataloader:
            x = batch_input(data)
            try:
                x = x.to(device) if isinstance(x, Tensor) else torch.as_tensor(x, device=device)
                gm(x)
            except (RuntimeError, TypeError) as err:
                shape = list(x.shape) if isinstance(x, Tensor) else type(x).__name__
                raise ValueError(f"Converter: the ANN failed on calibration batch {seen} (input {shape}): {err}; "
                                 f"the dataloader must yield what the ANN takes") from None
            seen += 1
        if seen == 0:
            raise ValueError("Converter: the dataloader gave no batch; calibration needs at least one batch")

    def _replace(self, gm: fx.GraphModule, hooks: list) -> None:
        for relu_node, hook_node, target, parent, k in hooks:
            hook = gm.get_submodule(target)
            scale = float(hook.scale.item())
            if not (math.isfinite(scale) and scale > 0.0):
                raise ValueError(f"Converter: the ReLU {relu_node.target!r} got a calibration scale of {scale} (it "
                                 f"never fired on the calibration data); calibrate on data that activates it, "
                                 f"or use a percentile mode below the maximum only where activations are non-zero")
            spiking_target = f"{parent}.spiking_{k}" if parent else f"spiking_{k}"
            made = None if self.neuron_factory is None else self.neuron_factory(scale)
            if made is not None and not isinstance(made, nn.Module):
                raise TypeError(f"Converter: neuron_factory({scale:g}) must return an nn.Module, got "
                                f"{type(made).__name__}")
            gm.add_submodule(spiking_target, SpikingReLU(scale, made).to(hook.scale.device))
            with gm.graph.inserting_after(hook_node):
                new = gm.graph.call_module(spiking_target, args=relu_node.args)
            hook_node.replace_all_uses_with(new)
            relu_node.replace_all_uses_with(new)
            gm.graph.erase_node(hook_node)
            gm.graph.erase_node(relu_node)
        gm.graph.lint()
        gm.delete_all_unused_submodules()
        gm.recompile()


FXConverter = Converter
