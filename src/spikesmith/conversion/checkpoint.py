"""Converted checkpoints: everything needed to rebuild a ``ConvertedSNN``, loadable with ``weights_only=True``.

A converted checkpoint is a dict of plain values and tensors:

    format        "spikesmith-converted-1"
    source        {"model_name": ..., "model_args": {...}} of the source ANN (registry model), or None
    method        the preset name; options: the options given to ``convert``
    T             the time steps of ``forward``; calibrated_T: the T the corrections were made for
    input_shape   one sample's shape
    state_dict    weights of the converted graph and of the reference ANN, the thresholds, the
                  per-step offsets and the initial potentials (buffers of the IF neurons)

Loading rebuilds the source model from the registry (or takes ``ann=``), traces and converts its
structure again, and loads the state (buffers take the stored shapes: per-layer or per-channel
thresholds, per-neuron initial potentials).

Like every checkpoint it carries a content checksum (:mod:`spikesmith.checksum`), verified when it
is read, and its entries are checked (``checkpoint_checks.CONVERTED``) before anything is rebuilt.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional, Union

from torch import nn

from .. import checkpoint_checks
from ..checksum import seal
from .graph import normalize, trace
from .network import ConvertedSNN, build_snn, strip_biases

FORMAT = "spikesmith-converted-1"
# written by the project under its former name, spikeforge; still read
LEGACY_FORMATS = ("spikeforge-converted-1",)


def make_converted_checkpoint(snn: ConvertedSNN, **extra: Any) -> dict:
    """The checkpoint of ``snn``, sealed with its checksum (seal it again after changing it)."""
    from .. import __version__

    return seal({
        "format": FORMAT,
        "spikesmith_version": __version__,
        "source": dict(snn.source) if snn.source else None,
        "method": snn.method,
        "options": dict(snn.options),
        "T": snn.T,
        "calibrated_T": snn.calibrated_T,
        "t_dependent": snn.t_dependent,
        "input_shape": list(snn.input_shape),
        "layers": {name: {"shift_bias": layer.shift_bias} for name, layer in snn.spiking_layers().items()},
        "state_dict": snn.state_dict(),
        **extra,
    })


def save_converted(snn: ConvertedSNN, path: Union[str, os.PathLike], **extra: Any) -> Path:
    """Write ``snn`` as a converted checkpoint (atomically: a temp file renamed over ``path``)."""
    from ..atomic import torch_save as atomic_save

    if not isinstance(snn, ConvertedSNN):
        raise TypeError(f"save_converted expects a ConvertedSNN, got {type(snn).__name__}")
    return atomic_save(make_converted_checkpoint(snn, **extra), path)


def is_converted_checkpoint(ckpt: Any) -> bool:
    return isinstance(ckpt, dict) and ckpt.get("format") in (FORMAT, *LEGACY_FORMATS)


def _check_format(ckpt: Any, where: str) -> None:
    if not is_converted_checkpoint(ckpt):
        raise ValueError(f"{where} is not a converted spikesmith checkpoint (expected format {FORMAT!r})")


def load_converted(path_or_ckpt: Union[str, os.PathLike, dict], ann: Optional[nn.Module] = None,
                   map_location: str = "cpu", allow_nonfinite: bool = False, where: Optional[str] = None
                   ) -> ConvertedSNN:
    """Rebuild a ``ConvertedSNN`` from a converted checkpoint (a path, read with ``weights_only=True``
    and its checksum verified, or its dict; ``where`` names a dict's file in messages).

    ``ann`` is an untrained instance of the source architecture; it is needed only when the
    checkpoint names no registry model (``source`` is None). Weights holding NaN or Inf are refused
    unless ``allow_nonfinite``.
    """
    if isinstance(path_or_ckpt, dict):
        ckpt, where = path_or_ckpt, where or "the converted checkpoint"
    else:
        path, where = Path(path_or_ckpt), str(path_or_ckpt)
        checkpoint_checks.require_file(path, "converted checkpoint")
        ckpt = checkpoint_checks.read_file(path, map_location, lambda ckpt: _check_format(ckpt, where))
    _check_format(ckpt, where)
    checkpoint_checks.check_entries(ckpt, checkpoint_checks.CONVERTED, where)
    checkpoint_checks.check_finite(ckpt, ("state_dict",), where, allow_nonfinite)
    if ann is None:
        src = ckpt.get("source")
        if not src:
            raise ValueError("load_converted: the checkpoint names no registry model; pass ann= (an instance of the "
                             "source architecture)")
        from ..models import build_model, saved_arguments

        ann = build_model(src["model_name"], **saved_arguments(src["model_name"], src["model_args"]))
    options = dict(ckpt.get("options") or {})
    try:
        ann_gm = normalize(trace(ann))
        net = build_snn(ann_gm, tuple(ckpt["input_shape"]), max_pool=options.get("max_pool", "error"))
        if options.get("bias", True) is False:
            strip_biases(net)
        snn = ConvertedSNN(net, ann_gm, int(ckpt["T"]), tuple(ckpt["input_shape"]), method=ckpt["method"],
                           options=options, source=ckpt.get("source"))
    except (TypeError, RuntimeError) as err:     # its source model does not run on its input_shape
        raise ValueError(f"{where}: its source model and input_shape {list(ckpt['input_shape'])} do not build "
                         f"a network ({type(err).__name__}: {err}); it was edited or damaged") from None
    load_state(snn, ckpt["state_dict"], where)
    layers = ckpt.get("layers") or {}
    for name, layer in snn.spiking_layers().items():
        settings = layers.get(name)
        layer.shift_bias = bool(settings.get("shift_bias", False)) if isinstance(settings, dict) else False
    snn.calibrated_T = int(ckpt.get("calibrated_T", ckpt["T"]))
    snn.t_dependent = bool(ckpt.get("t_dependent", False))
    return snn


def load_state(snn: nn.Module, state_dict: dict, where: str = "converted checkpoint") -> None:
    """``load_state_dict`` that first gives buffers the stored shapes (thresholds, initial potentials)."""
    own = snn.state_dict()
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    if missing or unexpected:
        raise ValueError(f"{where} does not match the rebuilt network: missing keys {missing[:8]}, "
                         f"unexpected keys {unexpected[:8]}")
    params = dict(snn.named_parameters())
    shapes = [f"{k}: checkpoint {list(state_dict[k].shape)} vs network {list(v.shape)}"
              for k, v in params.items() if v.shape != state_dict[k].shape]
    if shapes:
        raise ValueError(f"{where} does not match the rebuilt network: shape mismatch {'; '.join(shapes[:8])}")
    buffers = dict(snn.named_buffers())
    for key, value in state_dict.items():
        if key in buffers and buffers[key].shape != value.shape:
            owner, _, name = key.rpartition(".")
            module = snn.get_submodule(owner)
            module._buffers[name] = value.detach().clone().to(buffers[key].dtype)
    snn.load_state_dict(state_dict)
