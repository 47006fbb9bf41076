"""Loihi 2 through Lava-dl's netx HDF5 format, and a fixed-point reference simulation of the file.

    info = to_lava(model, "net.net", x_seq)          # writes layer/0 .. layer/L
    out = simulate_lava("net.net", x_seq)            # NumPy fixed point, as Loihi's CUBA neuron computes
    compare_lava(model, "net.net", x_seq, y)          # spikes and accuracy, float model vs reference

**File** (the groups netx's ``hdf5.Network`` reads; strings as ``S10`` arrays of one element, numbers as
datasets):

- ``layer/0``: ``type='input'``, ``shape=[C, H, W]`` (``[F, 1, 1]`` for a flat input), ``neuron/...``
  (a relay: iDecay = vDecay = 4096, vThMant = 0).
- ``layer/i``: ``type='flatten'``, ``shape=[C*H*W, 1, 1]`` before a dense layer fed by a 3-d layer.
- ``layer/i``: ``type='dense'``: ``shape=[n]``, ``inFeatures``, ``outFeatures``, ``weight`` (out x in);
  ``type='conv'``: ``shape=[C, H, W]``, ``inChannels``, ``outChannels``, ``kernelSize``, ``stride``,
  ``padding``, ``dilation`` (two each, H then W), ``groups``, ``weight`` (out x in/groups x kH x kW);
  both with ``bias`` (per neuron, per channel for conv) where the layer has one, and ``neuron/type='CUBA'``,
  ``neuron/iDecay``, ``neuron/vDecay`` (units of 1/4096 per step), ``neuron/vThMant``, ``neuron/refDelay``,
  ``neuron/gradedSpike``.

**Fixed point.** Each layer l has a power-of-two scale s_l (``export.quantize``): weights are stored as even integers in
[-256, 254] (8 bits, Loihi's mixed-sign mode) equal to round(w s_l), biases as round(b s_l) and the
threshold mantissa as round(V_th s_l); the chip shifts synaptic input, bias and threshold left by 6, so
1.0 of the float model is 64 s_l in the state variables. s_l is the largest power of two with
max|w| s_l <= 254 (and the threshold within 17 bits). Per step (Lava's ``PyLifModelBitAcc``):

    u = sign(u) (|u| (4096 - iDecay) >> 12) + (sum_j W_ij s_j << 6)      (24-bit wrap-around)
    v = sign(v) (|v| (4096 - vDecay) >> 12) + u + (bias << 6)            (clipped to 24 bits)
    spike where v > vThMant << 6 (strict), then v = 0

**Mapping.** IF: vDecay = 0, iDecay = 4096 (the current is the input). LIF: vDecay = round(4096 / tau);
``decay_input=True`` divides the weights and bias by tau. CubaLIF: iDecay = round(4096 / tau_syn),
vDecay = round(4096 / tau_mem). V is shifted so that V_reset = 0 (threshold V_th - V_reset); per-neuron
thresholds are divided into the weights (the neuron's input scaled by 1 / V_th, exact for a reset to 0).
Average pooling and ``Scale`` layers before a conv or dense layer are folded into its weights (exact: an
average pool before a k x k conv is a conv with a (k p) x (k p) kernel and stride p times larger). A
non-spiking readout as the last layer is a CUBA neuron with the largest threshold; the reference reads
its voltage.

**What the reference leaves out.** On Loihi each layer adds one step of delay (netx/slayer's
``delay_shift``); the reference runs all layers in the same step, as the float model does. A non-binary
input (a direct-encoded image) is applied to the first layer's integer weights exactly; on the chip it has
to be encoded as spikes or graded spikes first.
"""

from __future__ import annotations

import io
import math
import pathlib
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Optional, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..functional import to_loihi_layout
from .approximate import predictions, reads_last
from .check import UNSUPPORTED_KINDS, dynamics_issues, each_op, layer_issues, same, scalar, unsupported_neuron
from .issues import Issue
from .neurons import entry_of, rest_of
from .ops import Op, layer_list, ops_network, takes_static_input
from .pipeline import export_model
from .quantize import quantize_weight, weight_error
from .targets import TARGETS, Target

PathLike = Union[str, pathlib.Path]
VTH_MAX = 2 ** 17 - 1
BIAS_MAX = 2 ** 12 - 1
UV_MAX = 2 ** 23

__all__ = ["LavaExport", "LavaLayer", "LavaTarget", "build_layers", "compare_lava", "quantize_weight", "read_lava",
           "simulate_lava", "to_lava", "weight_error"]


@dataclass
class LavaLayer:
    """One written layer (also what ``read_lava`` returns)."""

    type: str
    shape: tuple
    weight: Optional[np.ndarray] = None
    bias: Optional[np.ndarray] = None
    neuron: dict = field(default_factory=dict)
    conv: dict = field(default_factory=dict)       # stride, padding, dilation, groups
    scale: float = 1.0                             # s_l (1.0 float = 64 s_l state units)
    readout: bool = False
    v_offset: float = 0.0                          # V = state / (64 s_l) + v_offset (readouts)
    source: str = ""


@dataclass
class LavaExport:
    """What ``to_lava`` wrote."""

    path: pathlib.Path
    layers: list
    size_bytes: int
    changes: list = field(default_factory=list)

    def summary(self) -> str:
        rows = [f"{self.path} ({self.size_bytes} bytes)"]
        for i, l in enumerate(self.layers):
            n = l.neuron
            neuron = (f" iDecay={n['iDecay']} vDecay={n['vDecay']} vThMant={n['vThMant']} scale=2^"
                      f"{int(round(math.log2(l.scale)))}" if n and l.type != "input" else "")
            rows.append(f"  layer/{i}: {l.type:7s} shape={list(l.shape)}{neuron} {l.source}")
        return "\n".join(rows)


# ----------------------------------------------------------------------------- building the layers
def _as_channel(v, n: int, what: str) -> Tensor:
    t = torch.as_tensor(v, dtype=torch.float64).detach().reshape(-1) if isinstance(v, Tensor) else \
        torch.full((n,), float(v), dtype=torch.float64)
    if t.numel() == 1:
        t = t.expand(n)
    if t.numel() != n:
        raise ValueError(f"{what} of {t.numel()} values does not match {n} channels (use per-channel values)")
    return t


def _fold_pre(pre: list[Op], syn: Op) -> tuple[Tensor, Optional[Tensor], dict, tuple]:
    """The synapse's weight with the average pools and scales ``pre`` before it folded in."""
    m = syn.module
    w = m.weight.detach().double().clone()
    b = m.bias.detach().double().clone() if m.bias is not None else None
    if syn.kind == "linear":
        if not pre:
            return w, b, {}, syn.in_shape
        in_shape = pre[0].in_shape
        x = torch.zeros((w.shape[0], *in_shape), dtype=torch.float64, requires_grad=True)
        y = x
        for op in pre:
            mod = op.module.double() if hasattr(op.module, "double") else op.module
            y = mod(y)
        y = y.reshape(w.shape[0], -1)
        if y.shape[1] != w.shape[1]:
            raise ValueError(f"{syn.label}: the layers before it give {y.shape[1]} features, it takes {w.shape[1]}")
        (grad,) = torch.autograd.grad((y * w).sum(), x)
        return grad.reshape(w.shape[0], -1).detach(), b, {}, in_shape
    # conv: pools and per-channel scales only
    stride, padding = list(m.stride), list(m.padding)
    in_shape = syn.in_shape
    for op in reversed(pre):
        if op.kind == "scale":
            s = _as_channel(op.module.scale, w.shape[1] * m.groups, f"{op.label}: scale")
            w = w * s.reshape(m.groups, -1)[0].reshape(1, -1, 1, 1) if m.groups == 1 else w
            if m.groups != 1:
                raise ValueError(f"{op.label}: a scale before a grouped convolution is not folded")
        elif op.kind == "avgpool":
            k, st = _pair(op.module.kernel_size), _pair(op.module.stride or op.module.kernel_size)
            if k != st or _pair(op.module.padding) != (0, 0) or op.in_shape[1] % k[0] or op.in_shape[2] % k[1]:
                raise ValueError(f"{op.label}: only non-overlapping average pools without padding that divide the "
                                 f"input evenly are folded into the next convolution")
            if tuple(m.dilation) != (1, 1):
                raise ValueError(f"{syn.label}: a dilated convolution after average pooling is not folded")
            w = w.repeat_interleave(k[0], 2).repeat_interleave(k[1], 3) / (k[0] * k[1])
            stride = [stride[0] * k[0], stride[1] * k[1]]
            padding = [padding[0] * k[0], padding[1] * k[1]]
        else:
            raise ValueError(f"{op.label}: {op.kind} before a convolution cannot be folded for Lava")
        in_shape = op.in_shape
    conv = {"stride": stride, "padding": padding, "dilation": list(m.dilation), "groups": int(m.groups)}
    return w, b, conv, in_shape


def _pair(v) -> tuple:
    return tuple(int(x) for x in v) if isinstance(v, (tuple, list)) else (int(v), int(v))


def _neuron_params(n: nn.Module) -> dict:
    """Float decays and the input scaling of a neuron: (current decay, voltage decay, input factor)."""
    entry = entry_of(n)
    if entry is None or entry.cuba is None:
        raise ValueError(f"{type(n).__name__} has no CUBA equivalent")  # check() reports it first
    return entry.cuba(n)


def build_layers(ops: list[Op]) -> list[LavaLayer]:
    """The netx layers of a checked op list (pools/scales folded, thresholds and decays quantised)."""
    if not ops:
        raise ValueError("the model has no layer to export")
    first = ops[0].in_shape
    layers = [LavaLayer("input", _shape3(first), neuron={"type": "CUBA", "iDecay": 4096, "vDecay": 4096,
                                                         "vThMant": 0, "refDelay": 1, "gradedSpike": False},
                        source="(relays the input)")]
    prev_shape = first
    pre: list[Op] = []
    i = 0
    while i < len(ops):
        op = ops[i]
        if op.kind in ("avgpool", "scale", "flatten"):
            pre.append(op)
            i += 1
            continue
        if op.kind not in ("linear", "conv"):
            raise ValueError(f"{op.label}: expected a conv or linear layer before each neuron for Lava, got {op.kind}")
        if i + 1 >= len(ops) or ops[i + 1].kind != "neuron":
            raise ValueError(f"{op.label}: a conv/linear layer must be followed by a neuron for Lava (netx blocks are "
                             f"synapse + neuron)")
        neuron_op = ops[i + 1]
        w, b, conv, in_shape = _fold_pre(pre, op)
        pre = []
        if op.kind == "linear" and len(prev_shape) > 1:
            layers.append(LavaLayer("flatten", (int(np.prod(prev_shape)), 1, 1), source="(flatten)"))
        layers.append(_synapse_layer(op, neuron_op, w, b, conv, i + 2 == len(ops)))
        prev_shape = neuron_op.out_shape
        i += 2
    if pre:
        raise ValueError(f"{pre[0].label}: layers after the last neuron cannot be exported to Lava")
    return layers


def _shape3(shape: tuple) -> tuple:
    return tuple(int(s) for s in shape) if len(shape) == 3 else (int(np.prod(shape)), 1, 1)


def _synapse_layer(syn: Op, nop: Op, w: Tensor, b: Optional[Tensor], conv: dict, last: bool) -> LavaLayer:
    n = nop.module
    p = _neuron_params(n)
    out_ch = w.shape[0]
    spiking = n.emits_spikes
    w = w * p["factor"]
    b = None if b is None else b * p["factor"]
    offset = 0.0
    if spiking:
        v_reset = _as_channel(n.v_reset, out_ch, f"{nop.label}: v_reset") if _channelwise(n.v_reset) else \
            torch.full((out_ch,), float(n.v_reset), dtype=torch.float64)
        theta = _as_channel(n.v_threshold, out_ch, f"{nop.label}: v_threshold") - v_reset
        if bool((theta != theta[0]).any()):        # per-channel thresholds -> into the weights
            # a channel the calibration data never drove gets a ~0 threshold (conversion: 1e-12); its
            # spikes carry ~0 amplitude downstream, so it is silenced rather than letting 1/theta
            # blow up the shared weight scale (every other weight would quantise to 0)
            dead = theta <= 1e-6 * float(theta.max())
            if bool(dead.any()):
                keep = (~dead).to(w.dtype).reshape(-1, *([1] * (w.dim() - 1)))
                w = w * keep
                b = None if b is None else b * (~dead).to(b.dtype)
                theta = torch.where(dead, torch.ones_like(theta), theta)
            w = w / theta.reshape(-1, *([1] * (w.dim() - 1)))
            b = None if b is None else b / theta
            theta_value = 1.0
            # one 8-bit scale serves every channel: set it by the 99th percentile of the channels'
            # largest weights and saturate the few channels with much smaller thresholds, rather than
            # letting them round every other channel's weights to zero (a converted CSNN: 0.0106 to
            # 10.99 -> the median channel kept no weight at all)
            if out_ch >= 100:
                row_max = w.abs().reshape(out_ch, -1).amax(1)
                limit = float(torch.quantile(row_max.to(torch.float64), 0.99))
                if limit > 0:
                    w = w.clamp(-limit, limit)
        else:
            theta_value = float(theta[0])
        if not bool((v_reset == v_reset[0]).all()):
            raise ValueError(f"{nop.label}: per-neuron reset potentials cannot be shifted to 0 for Lava")
    else:
        offset = float(rest_of(n)) if not isinstance(rest_of(n), Tensor) else float(rest_of(n).flatten()[0])
        theta_value = None
    q, k = quantize_weight(w)
    scale = 2.0 ** k
    if theta_value is not None:
        while round(theta_value * 2.0 ** k) > VTH_MAX and k > -30:
            k -= 1
        q, k = quantize_weight(w, k)
        scale = 2.0 ** k
        vth = int(max(1, round(theta_value * scale)))
    else:
        vth = VTH_MAX
    bias = None
    if b is not None:
        bias = np.round(b.numpy() * scale)
        if np.abs(bias).max() > BIAS_MAX:
            raise ValueError(f"{syn.label}: a bias of {float(b.abs().max()):.3g} does not fit Loihi's 13-bit bias "
                             f"mantissa at the weight scale 2^{k}")
    neuron = {"type": "CUBA", "iDecay": int(round(4096 * p["i"])), "vDecay": int(round(4096 * p["v"])),
              "vThMant": vth, "refDelay": 1, "gradedSpike": False}
    shape = (out_ch,) if syn.kind == "linear" else tuple(int(s) for s in nop.out_shape)
    return LavaLayer("dense" if syn.kind == "linear" else "conv", shape, q.astype(np.float32),
                     None if bias is None else bias.astype(np.float32), neuron, conv, scale,
                     readout=not spiking, v_offset=offset, source=f"({syn.label} + {nop.label})")


def _channelwise(v) -> bool:
    return isinstance(v, Tensor) and v.numel() > 1


# ----------------------------------------------------------------------------- writing and reading
def _write(dest: Any, layers: list[LavaLayer]) -> None:
    """The netx HDF5 file of ``layers`` into ``dest`` (a path or a seekable binary file)."""
    import h5py

    def string(group, key, value):
        group.create_dataset(key, (1,), "S10", [value.encode("ascii")])

    with h5py.File(dest, "w") as f:
        f.attrs["format"] = "lava-dl netx (written by spikesmith)"
        root = f.create_group("layer")
        for i, l in enumerate(layers):
            g = root.create_group(str(i))
            string(g, "type", l.type)
            g.create_dataset("shape", data=np.array(l.shape, dtype=np.int64))
            g.attrs["weight_scale"] = l.scale
            g.attrs["readout"] = l.readout
            g.attrs["v_offset"] = l.v_offset
            g.attrs["source"] = l.source
            if l.type == "dense":
                g.create_dataset("inFeatures", data=int(l.weight.shape[1]))
                g.create_dataset("outFeatures", data=int(l.weight.shape[0]))
            if l.type == "conv":
                g.create_dataset("inChannels", data=int(l.weight.shape[1] * l.conv["groups"]))
                g.create_dataset("outChannels", data=int(l.weight.shape[0]))
                g.create_dataset("kernelSize", data=np.array(l.weight.shape[2:], dtype=np.int64))
                for key in ("stride", "padding", "dilation"):
                    g.create_dataset(key, data=np.array(l.conv[key], dtype=np.int64))
                g.create_dataset("groups", data=int(l.conv["groups"]))
            if l.weight is not None:
                g.create_dataset("weight", data=l.weight)
            if l.bias is not None:
                g.create_dataset("bias", data=l.bias)
            if l.neuron:
                for key, value in l.neuron.items():
                    if key == "type":
                        string(g, "neuron/type", value)
                    else:
                        g.create_dataset(f"neuron/{key}", data=value)


def read_lava(path: PathLike) -> list[LavaLayer]:
    """The layers of a netx HDF5 file (as written by ``to_lava``; slayer's files read too, with scale 64)."""
    import h5py

    path = pathlib.Path(path)
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise ValueError(f"{path} is not a Lava netx file (not readable as HDF5: {err})") from None
    with f:
        if "layer" not in f:
            raise ValueError(f"{path} is not a Lava netx file: it has no 'layer' group")
        out = []
        for i in range(len(f["layer"])):
            if str(i) not in f["layer"]:
                raise ValueError(f"{path}: layer/{i} is missing (layers must be numbered 0 .. n-1)")
            g = f["layer"][str(i)]
            t = g["type"][()]
            t = (t[0] if np.ndim(t) else t)
            t = t.decode() if isinstance(t, bytes) else str(t)
            neuron = {}
            if "neuron" in g:
                for key in g["neuron"]:
                    v = g["neuron"][key][()]
                    v = v[0] if np.ndim(v) and key == "type" else v
                    neuron[key] = v.decode() if isinstance(v, bytes) else (v.item() if hasattr(v, "item") else v)
            conv = {}
            if t == "conv":
                conv = {k: [int(x) for x in np.asarray(g[k][()]).reshape(-1)] for k in ("stride", "padding", "dilation")}
                conv["groups"] = int(g["groups"][()])
            out.append(LavaLayer(
                t, tuple(int(s) for s in np.asarray(g["shape"][()]).reshape(-1)),
                g["weight"][()] if "weight" in g else None, g["bias"][()] if "bias" in g else None, neuron, conv,
                float(g.attrs.get("weight_scale", 64.0)), bool(g.attrs.get("readout", False)),
                float(g.attrs.get("v_offset", 0.0)), str(g.attrs.get("source", ""))))
        return out


# ----------------------------------------------------------------------------- the target
class LavaTarget(Target):
    """Loihi 2 through Lava-dl netx HDF5 files: synapse + CUBA neuron blocks (see the module docstring)."""

    name = "loihi2"
    suffix = ".net"
    supported = ("Linear, Conv2d, Flatten, AvgPool2d before a conv/linear layer (folded into it), BatchNorm right "
                 "after a conv/linear layer (folded), Dropout (dropped); neurons IFNode, LIFNode, ParametricLIFNode, "
                 "CubaLIFNode; as the last layer a readout IntegratorNode, NonSpikingLIFNode or CubaLINode")
    neuron_hint = "LIFNode, IFNode or CubaLIFNode (Loihi's CUBA neuron)"
    leaks_to_reset = True

    def runs(self, entry, last: bool = False) -> bool:
        return entry.cuba is not None and (last or not entry.readout)

    def check(self, ops: list[Op]) -> list[Issue]:
        out: list[Issue] = []
        for op, prev, nxt, last in each_op(ops):
            if op.kind == "neuron":
                refused = self._placement(op, last) or unsupported_neuron(op, self, last)
                out += [refused] if refused else dynamics_issues(op) + _neuron_issues(op, prev)
            else:
                out += layer_issues(op, self)
                if op.kind not in UNSUPPORTED_KINDS:
                    out += _layer_issues(op, nxt)
        return out

    @staticmethod
    def _placement(op: Op, last: bool) -> Optional[Issue]:
        entry = entry_of(op.module)
        if last or entry is None or not entry.readout or entry.cuba is None or entry.refusal("loihi2"):
            return None
        return Issue(op.label, "a non-spiking readout is only supported as the last layer on Loihi",
                     "end the network with it, or use a spiking neuron here")

    def build(self, ops: list[Op]) -> list[LavaLayer]:
        return build_layers(ops)

    def write(self, layers: list[LavaLayer], f: BinaryIO) -> None:
        buffer = io.BytesIO()          # HDF5 seeks and reads back what it wrote: build the file in memory
        _write(buffer, layers)
        f.write(buffer.getvalue())


def _neuron_issues(op: Op, prev: Optional[Op]) -> list[Issue]:
    """What Loihi's CUBA neuron adds to the checks every target makes."""
    m, label = op.module, op.label
    entry = entry_of(m)
    spiking = m.emits_spikes
    out: list[Issue] = []
    for name, value in entry.per_layer(m).items():
        if value is not None and not scalar(value):
            out.append(Issue(label, f"per-neuron {name}: Loihi's CUBA decays are one per layer",
                             f"use one {name} per layer (a float)"))
    if spiking and m.v_reset is not None and not same(rest_of(m), m.v_reset):
        out.append(Issue(label, "the neuron leaks towards v_leak but resets to v_reset: Loihi's CUBA neuron "
                                "leaks towards and resets to the same potential",
                         "set v_leak=None, or export with approximate=True (leak towards v_reset)", "approximate"))
    if spiking and not scalar(m.v_threshold) and (prev is None or prev.kind not in ("linear", "conv")):
        out.append(Issue(label, "per-neuron thresholds need a dense/conv layer right before the neuron (they are "
                                "folded into its weights)", "use one threshold per layer"))
    if entry.current_tau is not None and prev is not None and prev.kind in ("linear", "conv") \
            and getattr(prev.module, "bias", None) is not None and not same(entry.current_tau(m), 1.0):
        out.append(Issue(label, "a bias into a synaptic current (tau_syn > 1): Lava adds biases to the voltage",
                         f"train without bias before {type(m).__name__}, or use tau_syn=1"))
    return out


def _layer_issues(op: Op, nxt: Optional[Op]) -> list[Issue]:
    """The layers netx has no block for, and the 8-bit weights of those it has."""
    label, m, kind = op.label, op.module, op.kind
    if kind == "threshold":
        return [Issue(label, "a Threshold layer has no Lava netx block", "use a spiking neuron")]
    if kind in ("delay", "delayed_linear"):
        return [Issue(label, "delays (per channel or per synapse) have no block in this netx exporter",
                      "export to NIR (to_nir writes them as Delay nodes), or train without delays")]
    if kind == "sumpool":
        return [Issue(label, "SumPool2d has no Lava netx block", "use AvgPool2d before a conv/linear layer")]
    if kind == "conv" and isinstance(m, nn.Conv1d):
        return [Issue(label, "Conv1d has no Lava netx block", "use Conv2d with a height of 1")]
    if kind == "avgpool" and (nxt is None or nxt.kind not in ("linear", "conv", "flatten", "avgpool", "scale")):
        return [Issue(label, "average pooling must be followed by a conv or dense layer (it is folded into it; "
                             "netx reads no pooling layer)", "put a conv or linear layer after the pooling")]
    if kind not in ("linear", "conv"):
        return []
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


LAVA = TARGETS.register("loihi2", LavaTarget())


def to_lava(model: nn.Module, path: PathLike, example_input, approximate: bool = False, data=None) -> LavaExport:
    """Write ``model`` as a Lava-dl netx HDF5 file for Loihi 2 (see the module docstring).

    Args:
        model: a sequential SNN or a ``ConvertedSNN`` (synapse + neuron blocks; pools before synapses).
        path: the file to write (atomically: a temporary file renamed into place).
        example_input: ``[T, N, ...]`` (``[N, ...]`` for a ConvertedSNN) or one sample's shape.
        approximate, data: as in ``to_nir`` (changes listed in the returned ``LavaExport.changes``).

    Raises ValueError listing every blocking issue of ``check(model, 'loihi2')`` with its fix.
    """
    result = export_model(model, LAVA, example_input, path, approximate=approximate, data=data)
    return LavaExport(result.path, result.built, result.path.stat().st_size, result.report.splitlines())


# ----------------------------------------------------------------------------- reference simulation
def _decay(x: np.ndarray, d: int) -> np.ndarray:
    """sign(x) (|x| (4096 - d) >> 12), in int64."""
    return np.sign(x) * ((np.abs(x) * (4096 - int(d))) >> 12)


def _synaptic_input(l: LavaLayer, x: np.ndarray) -> np.ndarray:
    """Integer synaptic input (after the << 6) of one step; ``x`` is ``[N, ...]`` (spikes or graded)."""
    if l.type == "dense":
        a = x.reshape(x.shape[0], -1).astype(np.float64) @ l.weight.astype(np.float64).T
    else:
        a = F.conv2d(torch.from_numpy(x.astype(np.float64)), torch.from_numpy(l.weight.astype(np.float64)),
                     stride=tuple(l.conv["stride"]), padding=tuple(l.conv["padding"]),
                     dilation=tuple(l.conv["dilation"]), groups=l.conv["groups"]).numpy()
    return np.round(a * 64).astype(np.int64)


def simulate_lava(path_or_layers, x_seq, record: bool = False):
    """Run the netx file in Loihi's fixed point (NumPy; see the module docstring).

    Args:
        path_or_layers: the file (or ``read_lava``'s layers).
        x_seq: ``[T, N, ...]`` input (spikes, or graded values for a direct-encoded input).
        record: also return every layer's output ``[T, N, ...]`` (a list).

    Returns the last layer's output ``[T, N, ...]`` as float32: spikes, or for a readout its voltage in the
    float model's units (state / (64 s) + offset).
    """
    layers = read_lava(path_or_layers) if isinstance(path_or_layers, (str, pathlib.Path)) else path_or_layers
    x = x_seq.detach().cpu().double().numpy() if isinstance(x_seq, Tensor) else np.asarray(x_seq, dtype=np.float64)
    if x.ndim < 3:
        raise ValueError(f"simulate_lava expects x_seq of shape [T, N, ...], got {list(x.shape)}")
    T, N = x.shape[:2]
    states: dict = {}
    outs = [[] for _ in layers]
    for t in range(T):
        s = x[t]
        for i, l in enumerate(layers):
            if l.type == "input":
                pass
            elif l.type == "flatten":
                s = s.reshape(N, -1)
            elif l.type in ("dense", "conv"):
                a = _synaptic_input(l, s)
                u, v = states.get(i, (np.zeros_like(a), np.zeros_like(a)))
                n = l.neuron
                u = _decay(u, n["iDecay"]) + a
                u = np.where(u >= UV_MAX, u - 2 * UV_MAX, u)
                u = np.where(u < -UV_MAX, u + 2 * UV_MAX, u)
                bias = 0 if l.bias is None else (np.round(l.bias).astype(np.int64) << 6).reshape(
                    (1, -1) + (1,) * (a.ndim - 2))
                v = np.clip(_decay(v, n["vDecay"]) + u + bias, -UV_MAX + 1, UV_MAX - 1)
                if l.readout:
                    s = v / (64.0 * l.scale) + l.v_offset
                else:
                    spike = v > (int(n["vThMant"]) << 6)
                    v = np.where(spike, 0, v)
                    s = spike.astype(np.float64)
                states[i] = (u, v)
                s = s.reshape((N,) + tuple(l.shape)) if l.type == "conv" else s
            else:
                raise ValueError(f"layer/{i}: type {l.type!r} is not simulated (input, flatten, dense, conv)")
            if record or i == len(layers) - 1:
                outs[i].append(np.array(s, dtype=np.float64))
    last = torch.from_numpy(np.stack(outs[-1])).float()
    if not record:
        return last
    return last, [torch.from_numpy(np.stack(o)).float() for o in outs]


def compare_lava(model: nn.Module, path: PathLike, x, y: Optional[Tensor] = None) -> dict:
    """How far the fixed-point reference of ``path`` is from the float model on inputs ``x``.

    ``x`` is ``[T, N, ...]`` (``[N, ...]`` for a ConvertedSNN, run for its T steps). Returns a dict with
    ``spike_mismatch`` (fraction of output entries that differ, spiking outputs), ``output_error`` (largest
    difference for a readout), ``agreement`` (same predicted class) and, with labels ``y``, ``float_accuracy``
    and ``lava_accuracy``. The float reference is ``model`` as given: pass the network that ``approximate``
    returned to compare against what was written, the original one to see the whole cost of the export.
    """
    converted = takes_static_input(model)
    x_seq = x.unsqueeze(0).expand(model.T, *x.shape) if converted else x
    ops = layer_list(model, tuple(x_seq.shape[2:]))
    with torch.no_grad():
        ref_float = ops_network(ops).eval()(x_seq)
    fixed = simulate_lava(path, x_seq)
    readout = bool(read_lava(path)[-1].readout)
    result = {"layout_loihi": list(to_loihi_layout(fixed).shape)}
    if readout:
        result["output_error"] = float((fixed - ref_float).abs().max())
        p_fixed = fixed[-1].argmax(-1) if reads_last(ops[-1].module) else fixed.mean(0).argmax(-1)
    else:
        result["spike_mismatch"] = float((fixed != ref_float).float().mean())
        p_fixed = fixed.mean(0).argmax(-1)
    p_float = predictions(model, None, x)
    result["agreement"] = float((p_fixed == p_float).float().mean())
    if y is not None:
        result["float_accuracy"] = float((p_float == y).float().mean())
        result["lava_accuracy"] = float((p_fixed == y).float().mean())
    return result
