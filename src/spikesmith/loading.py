"""``spikesmith.load(path)``: the network of any checkpoint the project writes, ready to run.

    >>> net = spikesmith.load("runs/digits/checkpoint.pt")             # eval mode, on the CPU
    >>> net, cfg = spikesmith.load("runs/digits/checkpoint.pt", config=True)

One reader for every kind, chosen by the checkpoint's format tag (``CHECKPOINT_FORMATS``):

- trained (``spikesmith train``, SNN or ANN twin): the registry model of ``model_name`` built with
  the stored ``model_args``; its config is a :class:`~spikesmith.training.TrainConfig` (a ``--model
  dbn`` run gives its spiking network, ``models.SpikingDBN``, with the trained rate DBN as ``net.dbn``);
- STDP (``spikesmith stdp``): Diehl & Cook, the hybrid network or the SDNN (``STDP_MODELS``), with the
  neurons' labels; its config is a :class:`~spikesmith.run.STDPConfig`;
- converted (``spikesmith convert``): the :class:`~spikesmith.conversion.ConvertedSNN` at its T;
  its config is the ``TrainConfig`` of the source ANN's run (dataset and T of the conversion).

Every file is read with ``torch.load(weights_only=True)``: a checkpoint can hold tensors and plain
values only, never code. Its checksum is verified, its entries and its config checked and its
weights must be finite (``allow_nonfinite=True`` forces a NaN/Inf one), all through
:mod:`spikesmith.checkpoint_checks`. Checkpoints written before the rename (format tags
``spikeforge-checkpoint-1`` and ``spikeforge-converted-1``) load the same way.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Union

from torch import nn

from . import checkpoint_checks
from .conversion import checkpoint as converted_format
from .registry import Registry
from .training import checkpoint as trained_format

PathLike = Union[str, os.PathLike]


@dataclass
class Loaded:
    """A loaded checkpoint: the network (eval mode), its config, and what it was built from."""

    net: nn.Module
    config: Any                            # TrainConfig or STDPConfig
    kind: str                              # "trained", "stdp" or "converted"
    model_name: Optional[str]              # the registry name (converted: the source ANN's)
    model_args: dict                       # its constructor arguments
    checkpoint: dict                       # the file's contents as read
    path: Optional[Path] = None

    def ann_twin(self) -> Optional[nn.Module]:
        """The ANN twin of a trained SNN (untrained, eval mode), or None where the model has none.

        A converted network's twin is its reference ANN, with the trained weights.
        """
        if self.kind == "converted":
            return self.net.ann.eval()
        if self.kind != "trained":
            return None
        from .models import build_model

        try:
            return build_model(self.model_name, **{**self.model_args, "ann": True}).eval()
        except (TypeError, ValueError):
            return None


def read(path_or_checkpoint: Union[PathLike, dict], map_location: str = "cpu") -> dict:
    """The contents of a checkpoint file (``weights_only=True``, checksum verified), checked to be one of ours."""
    def check_format(ckpt: Any) -> None:
        tag = ckpt.get("format") if isinstance(ckpt, dict) else None
        if not isinstance(tag, str) or tag not in CHECKPOINT_FORMATS:
            raise ValueError(f"{where} is not a spikesmith checkpoint (format {tag!r}; known formats: "
                             f"{CHECKPOINT_FORMATS.describe()})")

    if isinstance(path_or_checkpoint, dict):
        ckpt, where = path_or_checkpoint, "the checkpoint"
        check_format(ckpt)
    else:
        where = str(path_or_checkpoint)
        ckpt = checkpoint_checks.read_file(path_or_checkpoint, map_location, check_format)
    return ckpt


def open_checkpoint(path_or_checkpoint: Union[PathLike, dict], map_location: str = "cpu",
                    allow_nonfinite: bool = False) -> Loaded:
    """Load any checkpoint the project writes; the network is in eval mode (see the module docstring)."""
    ckpt = read(path_or_checkpoint, map_location)
    path = None if isinstance(path_or_checkpoint, dict) else Path(path_or_checkpoint)
    loaded = CHECKPOINT_FORMATS.get(ckpt["format"])(ckpt, path, allow_nonfinite)
    loaded.net.eval()
    return loaded


def load(path: PathLike, config: bool = False, map_location: str = "cpu", allow_nonfinite: bool = False):
    """The network of the checkpoint at ``path``, ready to run (eval mode).

    With ``config=True``: ``(net, config)``, the config of the run that wrote it
    (``TrainConfig`` for trained and converted networks, ``STDPConfig`` for STDP ones). Weights
    holding NaN or Inf are an error naming the first such tensor, unless ``allow_nonfinite=True``.
    """
    loaded = open_checkpoint(path, map_location, allow_nonfinite)
    return (loaded.net, loaded.config) if config else loaded.net


# ----------------------------------------------------------------------------- configs
def _make_config(config_class: type, values: Optional[dict], where: str) -> Any:
    """``config_class`` from stored values, each of its field's type; keys the class no longer has are
    left out (older files)."""
    from .training.config import read_config_values

    values = dict(values or {})
    known = {f.name for f in dataclasses.fields(config_class)}
    # mappings (a TrainConfig's model_options) are checked by the model that takes them
    nested = {k: values.pop(k) for k in ("model_options",) if k in values and k in known}
    if not isinstance(nested.get("model_options", {}), dict):
        raise ValueError(f"checkpoint {where}: its config's model_options must be a dict, got "
                         f"{type(nested['model_options']).__name__}; it was edited or damaged")
    try:
        checked = read_config_values(config_class, None, {k: v for k, v in values.items() if k in known})
    except ValueError as err:
        raise ValueError(f"checkpoint {where}: its config is not valid ({err}); it was edited or damaged") from None
    return config_class(**checked, **nested)


def _train_config(values: Optional[dict], where: str = "the checkpoint") -> Any:
    from .training import TrainConfig
    from .training.config import saved_config

    # a config from before 0.2 holds the model options as flat keys: they move into model_options
    return _make_config(TrainConfig, saved_config(values) if values else values, where)


def _stdp_config(values: Optional[dict], where: str = "the checkpoint") -> Any:
    from .run import STDPConfig

    return _make_config(STDPConfig, values, where)


# ----------------------------------------------------------------------------- STDP networks
def _diehl_cook(**args: Any) -> nn.Module:
    from .models.diehl_cook import DiehlCook

    return DiehlCook(**args)


def _hybrid_stdp(**args: Any) -> nn.Module:
    from .models.hybrid_stdp import HybridSTDPNet

    return HybridSTDPNet(**args)


def _nessler(**args: Any) -> nn.Module:
    from .models.nessler import NesslerWTA

    return NesslerWTA(**args)


def _sdnn(**args: Any) -> nn.Module:
    from .models.sdnn import SDNN

    return SDNN(**args)


#: The networks ``spikesmith stdp`` writes, by the checkpoint's ``model_name`` (they take no
#: ``spikesmith train`` options, so they are not in ``models.MODELS``).
STDP_MODELS: Registry[Callable[..., nn.Module]] = Registry("STDP checkpoint model")
STDP_MODELS.register("diehl_cook", _diehl_cook)
STDP_MODELS.register("hybrid_stdp", _hybrid_stdp)
STDP_MODELS.register("nessler", _nessler)
STDP_MODELS.register("sdnn", _sdnn)


# ----------------------------------------------------------------------------- formats
def _load_trained(ckpt: dict, path: Optional[Path], allow_nonfinite: bool = False) -> Loaded:
    where = str(path) if path else "the checkpoint"
    checkpoint_checks.check_entries(ckpt, checkpoint_checks.TRAINED, where)
    checkpoint_checks.check_finite(ckpt, ("state_dict",), where, allow_nonfinite)
    upgraded = trained_format.upgrade(ckpt)
    name, args = upgraded["model_name"], dict(upgraded["model_args"])
    try:
        if name in STDP_MODELS:
            net, kind = STDP_MODELS.get(name)(**args), "stdp"
        else:
            from .models import build_model

            net, kind = build_model(name, **args), "trained"   # an unknown name lists the registry's models
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"checkpoint {where}: its model_args do not build {name!r} ({err}); it was edited or "
                         f"damaged") from None
    cfg = (_stdp_config if kind == "stdp" else _train_config)(ckpt.get("config"), where)  # as stored: upgraded there
    trained_format.load_weights(net, ckpt["state_dict"], source=str(path) if path else None)
    return Loaded(net, cfg, kind, name, args, ckpt, path)


def _load_converted(ckpt: dict, path: Optional[Path], allow_nonfinite: bool = False) -> Loaded:
    where = str(path) if path else "the converted checkpoint"
    snn = converted_format.load_converted(ckpt, allow_nonfinite=allow_nonfinite, where=where)
    source = ckpt.get("source") or {}
    return Loaded(snn, _train_config(ckpt.get("config"), where), "converted", source.get("model_name"),
                  dict(source.get("model_args") or {}), ckpt, path)


#: The reader of each checkpoint format tag (the old spikeforge tags as aliases).
CHECKPOINT_FORMATS: Registry[Callable[[dict, Optional[Path]], Loaded]] = Registry("checkpoint format")
CHECKPOINT_FORMATS.register(trained_format.FORMAT, _load_trained, aliases=trained_format.LEGACY_FORMATS)
CHECKPOINT_FORMATS.register(converted_format.FORMAT, _load_converted, aliases=converted_format.LEGACY_FORMATS)
