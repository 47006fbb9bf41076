"""Count synaptic operations, dense MACs and firing rates with forward hooks.

Every ``nn.Linear`` and ``nn.Conv1d/2d/3d`` of the network (spikesmith's step-mode layers, plain torch
layers, layers inside ``SeqToANNContainer``) records what it receives; every spiking neuron records
what it emits; a gated spiking cell (``layer.SpikingLSTMCell`` / ``SpikingGRUCell``) counts its two
matrix products each step, input-to-gates (``name.ih``) and previous-output-to-gates (``name.hh``),
like two Linear layers (the element-wise gate arithmetic is not counted, as neuron updates are not).
Nothing about the network's structure is assumed, so sequential networks, the
reference models and networks with their own ``forward`` are counted alike. A layer of an
event-driven network (``spikesmith.inference.event_driven``) also reports the path it took
(``LayerStats.path``: sparse or dense), and the table shows it.

What an input costs, per sample:

- **spikes** (every non-zero value equal, e.g. {0, 1} or {0, V_th}): each spike costs its fan-out in
  accumulates (AC). Linear: ``out_features``. Conv: ``out_channels / groups`` times the number of
  output positions that read the spike's position, counted exactly (at the borders and with
  stride/dilation too) by back-propagating a ones-kernel convolution of the layer's geometry;
- **pooled spikes** (the output of an average pool whose input was spikes): the pool is a sum of
  spikes over its window scaled by 1/area, so value x area spikes arrive at each position and each
  costs the fan-out there (what the layer costs with the pool folded into it, as on Loihi);
- **analog** (anything else: an image, a membrane readout, the layers of an ANN): the dense MACs the
  layer executes, ``out_features x in_features`` per row, ``out_elements x in_channels/groups x prod(k)``
  per image (padding included, as ANN counters do).

The equivalent ANN's MACs (``dense_macs``) are one dense pass of each layer. A direct-encoded input
(``x.expand(T, ...)``) runs the reference models' leading stateless layers once (the static prefix):
those layers are executed -- and counted -- once per sample, ``steps`` says so.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Iterable, Optional, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..layer.container import MultiStepContainer, SeqToANNContainer
from ..layer.gated_rnn import _SpikingGatedCell
from .attention_counting import ATTENTION_COUNTS, AttentionOps, projections_of
from ..module import StepModule
from ..neuron import BaseNode
from ..neuron.parallel import ParallelNode
from ..typeregistry import TypeRegistry
from .energy import EnergyCosts, LayerStats, Profile

_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_AVG = (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d, nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d)
_POOL_DIMS = ((nn.AvgPool1d, 1), (nn.AvgPool2d, 2), (nn.AvgPool3d, 3), (nn.AdaptiveAvgPool1d, 1),
              (nn.AdaptiveAvgPool2d, 2), (nn.AdaptiveAvgPool3d, 3))
_CONV_FN = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}

def uncounted_weights(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """``(name, module)`` of every module that owns a weight matrix (a parameter of 2 or more
    dimensions) and that no counted role covers (an ``nn.LSTM``, a spiking LSTM cell...): a profile of
    the model leaves their operations out."""
    found = []
    for name, m in model.named_modules():
        if ROLES.get(m, None) in ("synapse", "gated cell"):
            continue
        if any(not isinstance(p, nn.parameter.UninitializedParameter) and p.dim() >= 2    # lazy: no shape yet
               for p in m.parameters(recurse=False)):
            found.append((name or type(m).__name__, m))
    return found


ROLES: TypeRegistry[str] = TypeRegistry("counted layer role")
"""What the counter does with each class (found along the MRO; classes no entry covers are not counted):

- ``'synapse'``: records its input (``nn.Linear`` and ``nn.Conv1d/2d/3d``: the hooks read their geometry);
- ``'neuron'``: records its output spikes (when it emits spikes);
- ``'pool'``: an average pool, whose output of spikes is counted as pooled spikes;
- ``'time-folding'``: a container that runs its layers on ``[T, N, ...]`` (the model is multi-step);
- ``'gated cell'``: a gated spiking cell, whose ``product_observer`` reports the inputs of its two
  matrix products every step (its stack calls it without forward hooks);
- ``'attention'``: an attention layer, whose operations between its projections are counted by its entry
  in ``analysis.attention_counting.ATTENTION_COUNTS`` (products of run-time tensors, masks, additions).
"""
for _role, _classes in {"synapse": (nn.Linear,) + _CONV, "neuron": (BaseNode, ParallelNode), "pool": _AVG,
                        "time-folding": (SeqToANNContainer, MultiStepContainer),
                        "gated cell": (_SpikingGatedCell,),
                        "attention": tuple(ATTENTION_COUNTS.classes())}.items():
    for _cls in _classes:
        ROLES.register(_cls, _role)
del _role, _classes, _cls


def has_spiking_neurons(model: nn.Module) -> bool:
    return any(ROLES.get(m, None) == "gated cell" or (ROLES.get(m, None) == "neuron" and m.emits_spikes)
               for m in model.modules())


def is_multi_step(model: nn.Module) -> bool:
    """Whether ``model`` takes ``[T, N, ...]``: some step module or neuron of it runs in ``'m'`` mode."""
    for m in model.modules():
        if ROLES.get(m, None) == "time-folding":
            return True
        if isinstance(m, StepModule) and getattr(m, "step_mode", "s") == "m":
            return True
    return False


def _events(x: Tensor):
    """``(counts, 'spikes', amplitude)`` when ``x`` carries spikes, else ``(None, None, None)``.

    Spikes: every non-zero value is the same, or the same along one dim for each of its indices (the
    per-channel or per-neuron thresholds of a converted network, which emits V_th,c S); the amplitude
    is then a tensor that broadcasts to ``x`` along that dim.
    """
    mask = x != 0
    nz = x[mask]
    if nz.numel() == 0 or bool((nz == nz.reshape(-1)[0]).all()):
        return mask.to(torch.float64), "spikes", (1.0 if nz.numel() == 0 else float(nz.reshape(-1)[0]))
    for d in reversed(range(x.dim())):  # features, then channels, before the leading T and N
        if x.shape[d] == 1:
            continue
        amp = x.amax(dim=[i for i in range(x.dim()) if i != d], keepdim=True)
        if bool((nz > 0).all()) and bool((nz == amp.expand_as(x)[mask]).all()):
            return mask.to(torch.float64), "spikes", amp.to(torch.float64).clamp_min(1e-30)
    return None, None, None


def positions_fanout(conv: nn.Module, spatial: tuple) -> Tensor:
    """For each input position of ``conv`` on inputs of size ``spatial``: how many output positions read it.

    The gradient of ``sum(conv_ones(x))`` with respect to ``x`` (one channel, a ones kernel, the layer's
    stride, padding, dilation and padding mode): 0 for positions no output reads, ``prod(k)`` inside.
    """
    nd = len(spatial)
    x = torch.ones((1, 1, *spatial), dtype=torch.float64, requires_grad=True)
    w = torch.ones((1, 1, *conv.kernel_size), dtype=torch.float64)
    padding = conv.padding
    xin = x
    if conv.padding_mode != "zeros":
        xin = F.pad(x, conv._reversed_padding_repeated_twice, mode=conv.padding_mode)
        padding = 0
    with torch.enable_grad():
        _CONV_FN[nd](xin, w, None, conv.stride, padding, conv.dilation).sum().backward()
    return x.grad[0, 0].detach()


def _path_of(module: nn.Module) -> Optional[str]:
    """How a synaptic layer ran, where it can say: an event-driven layer (``spikesmith.inference``) has
    ``execution_path()`` -> ``'sparse'``, ``'dense'`` or ``'mixed'``; other layers give None."""
    ask = getattr(module, "execution_path", None)
    return ask() if callable(ask) else None


@dataclass
class _Syn:
    name: str
    module: nn.Module
    kinds: set = field(default_factory=set)
    acs: float = 0.0
    macs: float = 0.0
    rows: float = 0.0              # applications of the layer (images for conv, vectors for linear)
    rows_per_step: float = 1.0     # applications per sample per step
    mac_per_row: float = 0.0
    elements: int = 0              # input elements per application
    nonzero: float = 0.0
    numel: float = 0.0
    events: float = 0.0
    event_numel: float = 0.0
    steps_dense: bool = False      # the equivalent ANN runs it every step (a recurrent product), not once


@dataclass
class _Att:
    name: str
    module: nn.Module
    ops: AttentionOps = field(default_factory=AttentionOps)
    dense_per_step: float = 0.0
    steps: float = 0.0
    elements: int = 0
    parts: dict = field(default_factory=dict)


@dataclass
class _Neu:
    name: str
    module: nn.Module
    spikes: float = 0.0
    numel: float = 0.0
    elements: int = 0
    steps_total: float = 0.0


class Profiler:
    """Hooks that count operations while you run ``model``; ``result()`` gives the ``Profile``.

    >>> with Profiler(net) as prof:
    ...     for x in batches:
    ...         net(encoder(x)); functional.reset_net(net)
    >>> print(prof.result().table())

    Args:
        model: any network with Linear / Conv layers (spiking neurons optional).
        costs: per-operation energies (default ``EnergyCosts()``: 0.9 pJ AC, 4.6 pJ MAC).
        spiking: count spike inputs as ACs (default: the model has spiking neurons); False counts every
            layer as dense MACs (an ANN).
        time_first: whether the model's input is ``[T, N, ...]`` (default: some module runs in ``'m'``
            mode); it tells the number of samples per call, ``shape[1]`` or ``shape[0]``.
    """

    def __init__(self, model: nn.Module, costs: Optional[EnergyCosts] = None, spiking: Optional[bool] = None,
                 time_first: Optional[bool] = None):
        if not isinstance(model, nn.Module):
            raise TypeError(f"Profiler: model must be an nn.Module, got {type(model).__name__}")
        self.model = model
        self.costs = costs if costs is not None else EnergyCosts()
        if not isinstance(self.costs, EnergyCosts):
            raise TypeError(f"Profiler: costs must be an EnergyCosts, got {type(self.costs).__name__}")
        self.spiking = has_spiking_neurons(model) if spiking is None else bool(spiking)
        self.time_first = is_multi_step(model) if time_first is None else bool(time_first)
        self.samples = 0
        self.steps = 0
        self._syn: dict[int, _Syn] = {}
        self._neu: dict[int, _Neu] = {}
        self._att: dict[int, _Att] = {}
        self._order: list = []
        self._pooled: dict[int, float] = {}
        self._fanout: dict = {}
        for name, m in model.named_modules():
            if ROLES.get(m, None) == "gated cell" and m.product_observer is not None:
                raise RuntimeError(f"Profiler: {name!r} is already watched by another Profiler; remove() that "
                                   f"one first (or leave its with-block)")
        self._handles = [model.register_forward_pre_hook(self._on_call)]
        seen = set()
        for name, m in model.named_modules():
            if id(m) in seen:
                continue
            seen.add(id(m))
            name = name or type(m).__name__
            role = ROLES.get(m, None)
            if role == "synapse":
                self._syn[id(m)] = _Syn(name, m)
                self._handles.append(m.register_forward_hook(self._on_synapse))
            elif role == "neuron" and m.emits_spikes:
                self._neu[id(m)] = _Neu(name, m)
                self._handles.append(m.register_forward_hook(self._on_neuron))
            elif role == "pool":
                self._handles.append(m.register_forward_hook(self._on_pool))
            elif role == "gated cell":
                self._watch_gated_cell(name, m)
            elif role == "attention":
                self._watch_attention(name, m)
        if not self._syn:
            raise ValueError(f"Profiler: {type(model).__name__} has no Linear or Conv layer to count; "
                             f"the analysis counts nn.Linear and nn.Conv1d/2d/3d (and spikesmith.layer's)")
        self.uncounted = uncounted_weights(model)
        if self.uncounted:
            names = ", ".join(f"{type(m).__name__} {n!r}" for n, m in self.uncounted[:4])
            more = f" and {len(self.uncounted) - 4} more" if len(self.uncounted) > 4 else ""
            warnings.warn(f"Profiler: {names}{more} hold weights in a layer the counter does not know, so "
                          f"their operations are missing and the totals are too low; register the class in "
                          f"spikesmith.analysis.counting.ROLES once it can be counted", RuntimeWarning,
                          stacklevel=2)

    # ------------------------------------------------------------------ hooks
    def _on_call(self, module, args):
        x = args[0] if args else None
        if not isinstance(x, Tensor):
            raise TypeError(f"Profiler: the model's first input must be a tensor, got {type(x).__name__}")
        if self.time_first:
            if x.dim() < 2:
                raise ValueError(f"Profiler: a multi-step model takes [T, N, ...], got shape {list(x.shape)}; "
                                 f"pass time_first=False for [N, ...] inputs")
            self.samples += int(x.shape[1])
            self.steps = max(self.steps, int(x.shape[0]))
        else:
            self.samples += int(x.shape[0])
            self.steps = max(self.steps, 1)
        self._pooled.clear()

    def _watch_gated_cell(self, name: str, cell: nn.Module) -> None:
        """Count a gated cell's products ``name.ih`` and ``name.hh`` through its ``product_observer``."""
        ih, hh = self._syn[(id(cell), "ih")], self._syn[(id(cell), "hh")] = (
            _Syn(f"{name}.ih", cell, steps_dense=True), _Syn(f"{name}.hh", cell, steps_dense=True))
        rows = cell.weight_ih.shape[0]

        def observe(x: Tensor, h: Tensor) -> None:
            self._count_product(ih, ("s", (id(cell), "ih")), x, rows)
            self._count_product(hh, ("s", (id(cell), "hh")), h, rows)

        cell.product_observer = observe
        self._handles.append(_Detach(cell))

    def _watch_attention(self, name: str, m: nn.Module) -> None:
        """Record the projections' outputs of attention ``m``, then count its operations after each call."""
        acc = self._att[id(m)] = _Att(name, m)
        for part, proj in projections_of(m).items():
            self._handles.append(proj.register_forward_hook(
                lambda mod, args, out, part=part: acc.parts.__setitem__(part, out)))

        def on_attention(module, args, out):
            self._first_seen(("a", id(module)))
            x = args[0]
            ops = ATTENTION_COUNTS.get(module)(module, {"x": x, **acc.parts})
            acc.parts.clear()
            steps = int(x.shape[0]) if getattr(module, "step_mode", "s") == "m" else 1
            acc.ops += ops
            acc.dense_per_step += ops.dense_macs / steps
            acc.steps += steps * int(x.shape[1 if steps > 1 or module.step_mode == "m" else 0])
            acc.elements = int(x.shape[-2] * x.shape[-1])

        self._handles.append(m.register_forward_hook(on_attention))

    def _count_product(self, acc: "_Syn", key, x: Tensor, out_features: int) -> None:
        """One step's ``[N, in] @ W^T`` with ``W`` of ``out_features`` rows, counted as a Linear's."""
        self._first_seen(key)
        x = x.detach()
        in_features = x.shape[-1]
        total = float(x.numel() // in_features)
        acc.mac_per_row = float(in_features * out_features)
        acc.elements = int(in_features)
        counts, kind = self._counts(x)
        if counts is not None:
            acc.acs += float(counts.sum()) * out_features
        self._tally(acc, x, total, 1.0, kind, counts)

    def _tally(self, acc: "_Syn", x: Tensor, total: float, per: float, kind: str, counts) -> None:
        acc.kinds.add(kind)
        acc.rows += total
        acc.rows_per_step = per
        acc.numel += x.numel()
        acc.nonzero += float((x != 0).sum())
        if counts is None:
            acc.macs += total * acc.mac_per_row
        else:
            acc.events += float(counts.sum())
            acc.event_numel += x.numel()

    def _first_seen(self, key):
        if key not in self._order:
            self._order.append(key)

    def _leading(self, module: nn.Module, x: Tensor, feature_dims: int) -> tuple[float, float]:
        """(applications in this call, applications per sample per step) for input ``x``."""
        lead = x.shape[: x.dim() - feature_dims]
        total = float(math.prod(lead)) if len(lead) else 1.0
        multi = module.step_mode == "m" if isinstance(module, StepModule) else (
            # a plain torch layer of a multi-step model given [T, N, ...] (e.g. a readout of every step)
            self.time_first and len(lead) >= 2)
        per = total / float(lead[0] * lead[1]) if multi and len(lead) >= 2 else (
            total / float(lead[0]) if len(lead) >= 1 else 1.0)
        return total, per

    def _on_pool(self, module, args, out):
        x = args[0]
        if not self.spiking or not isinstance(out, Tensor) or not isinstance(x, Tensor):
            return
        if isinstance(module, (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)):
            if module.divisor_override is not None:
                return
            pad = module.padding if isinstance(module.padding, tuple) else (module.padding,)
            if any(p != 0 for p in pad) and not module.count_include_pad:
                return
            k = module.kernel_size if isinstance(module.kernel_size, tuple) else (module.kernel_size,)
            nd = next(d for cls, d in _POOL_DIMS if isinstance(module, cls))
            area = float(math.prod(k)) if len(k) == nd else float(k[0] ** nd)
        else:
            nd = next(d for cls, d in _POOL_DIMS if isinstance(module, cls))
            sin, sout = x.shape[-nd:], out.shape[-nd:]
            if any(a % b for a, b in zip(sin, sout)):
                return
            area = float(math.prod(a // b for a, b in zip(sin, sout)))
        scale = None
        if x.data_ptr() in self._pooled:  # a pool of pooled spikes (e.g. an adaptive pool after a pool)
            scale = self._pooled[x.data_ptr()]
            if isinstance(scale, Tensor) and scale.shape != out.shape:
                scale = scale.reshape(out.shape[:-nd] + scale.shape[-nd:]) if (
                    scale.numel() == math.prod(out.shape[:-nd]) * math.prod(scale.shape[-nd:])) else None
                scale = None if scale is None else scale.amax(dim=list(range(-nd, 0)), keepdim=True)
            scale = None if scale is None else scale * area
        else:
            _, kind, amp = _events(x)
            if kind is not None:
                scale = area / amp
        if scale is not None:
            # kept in the output's shape, so that a later flatten can be followed
            self._pooled[out.data_ptr()] = scale.expand(out.shape) if isinstance(scale, Tensor) else scale

    def _counts(self, x: Tensor):
        if not self.spiking:
            return None, "analog"
        scale = self._pooled.get(x.data_ptr())
        if isinstance(scale, Tensor) and scale.shape != x.shape:
            # per-channel amplitudes, the pooled tensor flattened since: [.., C, H, W] -> [.., C*H*W]
            scale = scale.reshape(x.shape) if scale.numel() == x.numel() else None
        if isinstance(scale, Tensor) and (scale.dim() != x.dim() or any(
                a not in (1, b) for a, b in zip(scale.shape, x.shape))):
            scale = None  # the amplitudes ran along a dim the pool changed
        if scale is not None:
            c = x.to(torch.float64) * scale
            r = c.round()
            big = float(scale.abs().max()) if isinstance(scale, Tensor) else abs(scale)
            if bool((r >= 0).all()) and float((c - r).abs().max()) <= 1e-4 * max(1.0, big):
                return r, "pooled spikes"
        counts, kind, _ = _events(x)
        if kind is not None:
            return counts, kind
        return None, "analog"

    def _on_synapse(self, module, args, out):
        x = args[0]
        acc = self._syn[id(module)]
        self._first_seen(("s", id(module)))
        x = x.detach()
        if isinstance(module, nn.Linear):
            total, per = self._leading(module, x, 1)
            acc.mac_per_row = float(module.in_features * module.out_features)
            acc.elements = module.in_features
            counts, kind = self._counts(x)
            if counts is not None:
                acc.acs += float(counts.sum()) * module.out_features
        else:
            nd = len(module.kernel_size)
            total, per = self._leading(module, x, nd + 1)
            spatial = tuple(x.shape[-nd:])
            out_spatial = tuple(out.shape[-nd:])
            k = math.prod(module.kernel_size)
            acc.mac_per_row = float(module.out_channels * math.prod(out_spatial) * (module.in_channels // module.groups)
                                    * k)
            acc.elements = int(module.in_channels * math.prod(spatial))
            counts, kind = self._counts(x)
            if counts is not None:
                key = (id(module), spatial)
                if key not in self._fanout:
                    self._fanout[key] = positions_fanout(module, spatial)
                per_position = counts.reshape(-1, *spatial).sum(0)
                acc.acs += float((per_position * self._fanout[key]).sum()) * (module.out_channels // module.groups)
        self._tally(acc, x, total, per, kind, counts)

    def _on_neuron(self, module, args, out):
        s = out[0] if isinstance(out, tuple) else out
        acc = self._neu[id(module)]
        self._first_seen(("n", id(module)))
        multi = module.step_mode == "m"
        steps = s.shape[0] if multi else 1
        n = s.shape[1] if multi else s.shape[0]
        acc.elements = int(s[0].numel() // n) if multi else int(s.numel() // n)
        acc.numel += s.numel()
        acc.spikes += float((s != 0).sum())
        acc.steps_total += steps * n

    # ------------------------------------------------------------------ results
    def result(self) -> Profile:
        """The per-sample table of everything counted so far."""
        if self.samples == 0:
            raise ValueError("Profiler.result(): the model has not been run yet; call it on a batch first")
        c = self.costs
        rows = []
        for kind, key in self._order:
            if kind == "s":
                a = self._syn[key]
                per_sample = 1.0 / self.samples
                acs, macs = a.acs * per_sample, a.macs * per_sample
                steps = a.rows * per_sample / a.rows_per_step if a.rows_per_step else 0.0
                dense = a.mac_per_row * a.rows_per_step * (steps if a.steps_dense else 1.0)
                ev = a.events / a.event_numel if a.event_numel else None
                order = ["spikes", "pooled spikes", "analog"]
                rows.append(LayerStats(
                    name=a.name, module=type(a.module).__name__,
                    kind="linear" if isinstance(a.module, nn.Linear) or a.steps_dense else "conv", input="+".join(k for k in order if k in a.kinds), steps=round(steps, 6),
                    elements=a.elements, rate=ev, sparsity=1.0 - a.nonzero / a.numel if a.numel else None,
                    acs=acs, macs=macs, dense_macs=dense, energy_pj=acs * c.ac_pj + macs * c.mac_pj,
                    ann_energy_pj=dense * c.mac_pj, path=_path_of(a.module)))
            elif kind == "a":
                a = self._att[key]
                acs, macs = a.ops.acs / self.samples, a.ops.products / self.samples
                dense = a.dense_per_step / self.samples
                rows.append(LayerStats(
                    name=a.name, module=type(a.module).__name__, kind="attention",
                    input="spikes" if self.spiking else "analog", steps=round(a.steps / self.samples, 6),
                    elements=a.elements, acs=acs, macs=macs, dense_macs=dense,
                    energy_pj=acs * c.ac_pj + macs * c.mac_pj, ann_energy_pj=dense * c.mac_pj,
                    products=macs, nonzero_terms=a.ops.nonzero_terms / self.samples,
                    masks=a.ops.masks / self.samples))
            else:
                a = self._neu[key]
                rate = a.spikes / a.numel if a.numel else 0.0
                rows.append(LayerStats(name=a.name, module=type(a.module).__name__, kind="neuron",
                                       steps=round(a.steps_total / self.samples, 6), elements=a.elements, rate=rate,
                                       sparsity=1.0 - rate))
        steps = max([self.steps] + [round(r.steps) for r in rows if r.kind == "neuron"])  # drop-in nets loop inside
        return Profile(rows=rows, samples=self.samples, steps=steps, costs=c, spiking=self.spiking)

    def remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []

    def __enter__(self) -> "Profiler":
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


class _Detach:
    """A handle that takes the profiler's observer off a gated cell (as ``RemovableHandle.remove``)."""

    def __init__(self, cell: nn.Module):
        self.cell = cell

    def remove(self) -> None:
        self.cell.product_observer = None


@torch.no_grad()
def profile(model: nn.Module, x: Union[Tensor, Iterable[Tensor]], costs: Optional[EnergyCosts] = None,
            spiking: Optional[bool] = None, time_first: Optional[bool] = None) -> Profile:
    """Run ``model`` on ``x`` (a tensor or an iterable of batches) in eval mode and count (see the module doc).

    The network's state is reset before and after every batch; its train/eval mode is restored.

    >>> net = build_model("fcsnn", hidden=32)
    >>> p = profile(net, (torch.rand(4, 8, 1, 28, 28) < 0.2).float())   # T=4, N=8 Poisson-like spikes
    >>> print(p.table()); p.energy_pj, p.ann_energy_pj
    """
    from ..functional import reset_net

    batches = [x] if isinstance(x, Tensor) else list(x)
    if not batches:
        raise ValueError("profile: x is empty; pass a tensor or a non-empty list of batches")
    was_training = model.training
    model.eval()
    try:
        with Profiler(model, costs, spiking, time_first) as prof:
            for xb in batches:
                reset_net(model)
                model(xb)
            reset_net(model)
            return prof.result()
    finally:
        model.train(was_training)
