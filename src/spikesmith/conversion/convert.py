"""``convert(ann, calibration_data, T=32, method='light', **options)``: the ANN-to-SNN pipeline.

1. trace the ANN with torch.fx, refuse what does not convert, fold BatchNorm (``graph``);
2. replace each activation by an IF neuron with soft reset and the output by an integrator (``network``);
3. balance the thresholds on the ANN's activations for the calibration samples (``thresholds``);
4. optionally shift every layer by V_th / (2T) (Deng & Gu, ICLR 2021), as a per-step input offset
   (``shift='bias'``) or as the initial potential V_th / 2 (``shift='potential'``, independent of T);
5. calibrate layer by layer from input to output (``calibration``);
6. optionally move every bias into the initial potentials (``bias=False``).

Presets (``method``); every part can be overridden by a keyword option:

=============  ======================================  ===========  ===============================
method         threshold                               shift        calibration
=============  ======================================  ===========  ===============================
'max'          max activation, per layer               none         none
'robust'       99.9th percentile, per layer            none         none
'fraction'     0.8 x max, per layer                    none         none
'mse'          MSE-optimal at T, per channel           bias         none
'light'        MSE-optimal at T, per channel           potential    bias
'advanced'     MSE-optimal at T, per channel           potential    bias, potential (+ 'weights')
'qcfs'         the QCFS / clip lambda                  potential    bias, potential
=============  ======================================  ===========  ===============================

'qcfs' with ``calibration=()`` is Bu et al.'s plain QCFS conversion; the calibration on top took a
Fashion-MNIST VGG11 (QCFS ANN 91.56%) from 81.4% to 89.0% at T=2 and from 89.1% to 91.0% at T=4.

'mse' is Deng & Gu's recipe (the shift as a per-step input offset V_th/(2T)); the calibrated presets
put the same total charge in the initial potential V_th/2, which makes the first spikes come earlier
and measured better at small T (Fashion-MNIST VGG, T=8: about 1 point). ``shift='bias'`` restores
Deng & Gu's form.

Options: ``threshold`` (a method of ``thresholds.THRESHOLD_METHODS``), ``percentile``, ``fraction``,
``per_channel`` (bool), ``shift`` ('none' | 'bias' | 'potential'), ``calibration`` (a tuple of
'bias', 'potential', 'weights'), ``bias_iters`` (bias corrections per layer), ``weight_iters``, ``weight_lr``, ``bias`` (False: no biases),
``max_pool`` ('error' | 'gate'), ``num_samples`` (calibration samples used), ``batch_size``.
"""

from __future__ import annotations

import time
from typing import Any, Optional

import torch
from torch import Tensor, nn

from .calibration import CALIBRATIONS, ann_activation, calibrate_weights, chunks, correct_layer, correct_readout
from .graph import activation_threshold, normalize, trace
from .network import ConvertedSNN, build_snn, check_T
from .steps import needs_recalibration
from .thresholds import THRESHOLD_METHODS, balance

SHIFTS = ("none", "bias", "potential")

PRESETS: dict[str, dict[str, Any]] = {
    "max": {"threshold": "max", "shift": "none", "calibration": ()},
    "robust": {"threshold": "percentile", "percentile": 99.9, "shift": "none", "calibration": ()},
    "fraction": {"threshold": "fraction", "fraction": 0.8, "shift": "none", "calibration": ()},
    "mse": {"threshold": "mse", "per_channel": True, "shift": "bias", "calibration": ()},
    "light": {"threshold": "mse", "per_channel": True, "shift": "potential", "calibration": ("bias",)},
    "advanced": {"threshold": "mse", "per_channel": True, "shift": "potential", "calibration": ("bias", "potential")},
    "qcfs": {"threshold": "activation", "shift": "potential", "calibration": ("bias", "potential")},
}

DEFAULTS: dict[str, Any] = {
    "threshold": "max", "percentile": 99.99, "fraction": 0.8, "per_channel": False, "shift": "none",
    "calibration": (), "bias_iters": 1, "weight_iters": 200, "weight_lr": 1e-5, "bias": True, "max_pool": "error",
    "num_samples": None, "batch_size": None,
}


def methods() -> list[str]:
    return list(PRESETS)


def resolve_options(method: str, options: dict) -> dict:
    """The preset's options overridden by ``options``, checked; unknown keys are an error."""
    if method not in PRESETS:
        raise ValueError(f"convert: unknown method {method!r}; known methods: {', '.join(PRESETS)}")
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"convert: unknown option(s) {', '.join(map(repr, unknown))}; valid options: "
                         f"{', '.join(sorted(DEFAULTS))}")
    opts = {**DEFAULTS, **PRESETS[method], **{k: v for k, v in options.items()}}
    if opts["threshold"] not in THRESHOLD_METHODS:
        raise ValueError(f"convert: threshold must be one of {', '.join(THRESHOLD_METHODS)}, got {opts['threshold']!r}")
    if opts["shift"] not in SHIFTS:
        raise ValueError(f"convert: shift must be one of {', '.join(SHIFTS)}, got {opts['shift']!r}")
    cal = opts["calibration"]
    if isinstance(cal, str) and cal.strip().lower() in ("", "none"):
        cal = ()  # from the command line: --set calibration=none
    cal = (cal,) if isinstance(cal, str) else tuple(cal or ())
    bad = [c for c in cal if c not in CALIBRATIONS]
    if bad:
        raise ValueError(f"convert: calibration steps must be among {', '.join(CALIBRATIONS)}, got {bad}")
    opts["calibration"] = tuple(c for c in CALIBRATIONS if c in cal)
    opts["per_channel"] = bool(opts["per_channel"])
    opts["bias"] = bool(opts["bias"])
    return opts


def gather_inputs(data: Any, num_samples: Optional[int] = None) -> Tensor:
    """Calibration inputs from a tensor, a DataLoader / iterable of ``x`` or ``(x, y, ...)`` batches."""
    if isinstance(data, Tensor):
        x = data
    elif isinstance(data, (list, tuple)) and data and isinstance(data[0], Tensor) and data[0].dim() >= 1 \
            and not isinstance(data, tuple):
        x = torch.cat(list(data))
    else:
        try:
            iterator = iter(data)
        except TypeError:
            raise TypeError(f"convert: calibration_data must be a tensor of inputs or a DataLoader, "
                            f"got {type(data).__name__}") from None
        parts, n = [], 0
        for batch in iterator:
            xb = batch[0] if isinstance(batch, (tuple, list)) else batch
            if not isinstance(xb, Tensor):
                raise TypeError(f"convert: calibration batches must be tensors or (x, y) tuples, got {type(xb).__name__}")
            parts.append(xb)
            n += xb.shape[0]
            if num_samples is not None and n >= num_samples:
                break
        if not parts:
            raise ValueError("convert: calibration_data is empty")
        x = torch.cat(parts)
    if num_samples is not None:
        x = x[:num_samples]
    if x.dim() < 2 or x.shape[0] == 0:
        raise ValueError(f"convert: calibration inputs must be N x ... with N >= 1, got shape {list(x.shape)}")
    if not x.is_floating_point():
        x = x.float()
    finite = torch.isfinite(x).flatten(1).all(1)
    if not bool(finite.all()):
        bad = (~finite).nonzero().flatten()
        raise ValueError(f"convert: {bad.numel()} of {x.shape[0]} calibration samples hold NaN or Inf "
                         f"(the first is sample {int(bad[0])}); thresholds and corrections from them would be "
                         f"wrong: clean or drop those samples")
    return x


def _device_of(module: nn.Module) -> torch.device:
    p = next(iter(module.parameters()), None)
    return p.device if p is not None else torch.device("cpu")


@torch.no_grad()
def set_thresholds(snn: ConvertedSNN, x: Tensor, opts: dict, batch_size: int) -> None:
    """Balance every spiking layer's threshold on the ANN's activations for ``x``."""
    ann_modules = dict(snn.ann.named_modules())
    for name, layer in snn.spiking_layers().items():
        values = torch.cat([ann_activation(snn, name, xb).cpu() for xb in chunks(x, batch_size)])
        th = balance(values, opts["threshold"], per_channel=opts["per_channel"], percentile=opts["percentile"],
                     fraction=opts["fraction"], T=snn.T, shift=opts["shift"] != "none",
                     clip=activation_threshold(ann_modules[name]))
        layer.set_threshold(th.to(layer.bias.device))
        layer.shift_bias = opts["shift"] == "bias"
        layer.set_v_init(layer.threshold / 2 if opts["shift"] == "potential" else torch.zeros((), device=layer.bias.device))


def convert(ann: nn.Module, calibration_data: Any, T: int = 32, method: str = "light", *,
            source: Optional[dict] = None, verbose: bool = False, **options) -> ConvertedSNN:
    """Convert ``ann`` to a ``ConvertedSNN`` that runs T steps (see the module docstring for methods/options).

    Args:
        ann: the trained ANN (not modified). Its output must be one tensor.
        calibration_data: unlabeled inputs (``N x ...`` tensor, or a DataLoader of ``x`` / ``(x, y)``);
            a few hundred samples. Only their inputs are used.
        T: the number of time steps.
        method: a preset name: 'max', 'robust', 'fraction', 'mse', 'light', 'advanced', 'qcfs'.
        source: ``{'model_name': ..., 'model_args': {...}}`` of a registry model, stored in checkpoints
            so that ``load_converted`` can rebuild the network.
        **options: override the preset (``threshold=``, ``percentile=``, ``per_channel=``, ``shift=``,
            ``calibration=``, ``bias=``, ``max_pool=``, ...).

    Returns a ``ConvertedSNN``: ``snn(x)`` takes the ANN's input and returns its output shape, the
    readout averaged over T steps. ``snn.stats`` holds the time each phase took.
    """
    T = check_T(T)
    opts = resolve_options(method, options)
    device = _device_of(ann)
    x = gather_inputs(calibration_data, opts["num_samples"]).to(device)
    batch_size = opts["batch_size"] or max(8, 2048 // T)
    t0 = time.perf_counter()
    ann_gm = normalize(trace(ann))
    net = build_snn(ann_gm, tuple(x.shape[1:]), max_pool=opts["max_pool"])
    snn = ConvertedSNN(net, ann_gm, T, tuple(x.shape[1:]), method=method, options=_stored(options, method),
                       source=source).to(device)
    t1 = time.perf_counter()
    set_thresholds(snn, x, opts, batch_size)
    t2 = time.perf_counter()
    cal = opts["calibration"]
    errors = {}
    for name in snn.spiking_layers():
        if "weights" in cal:
            calibrate_weights(snn, name, x, iters=opts["weight_iters"], lr=opts["weight_lr"], batch_size=batch_size)
        if "bias" in cal or "potential" in cal:
            for it in range(max(1, int(opts["bias_iters"]))):
                mse = correct_layer(snn, name, x, "bias" in cal, "potential" in cal and it == 0, batch_size)["mse"]
                errors.setdefault(name, mse)
            if verbose:
                print(f"[spikesmith] calibrated {name}: layer MSE before correction {errors[name]:.3g}")
    if "bias" in cal:
        errors["readout"] = correct_readout(snn, x, batch_size)
    t3 = time.perf_counter()
    if not opts["bias"]:
        snn.remove_biases()
    snn.t_dependent = needs_recalibration(opts)
    snn.stats = {"trace_s": t1 - t0, "threshold_s": t2 - t1, "calibration_s": t3 - t2, "samples": int(x.shape[0]),
                 "layer_mse_before_correction": errors}
    return snn


def _stored(options: dict, method: str) -> dict:
    """The options as given (JSON-friendly), for checkpoints and recalibration."""
    out = {}
    for k, v in options.items():
        out[k] = list(v) if isinstance(v, tuple) else v
    return out
