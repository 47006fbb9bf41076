"""Self-describing checkpoints, written atomically and loaded with ``weights_only=True``.

A checkpoint holds the model's name and constructor arguments, the weights, the training
config, the optimiser/scheduler state and history (for ``--resume``), the package version and a
content checksum (:mod:`spikesmith.checksum`), verified on every load. What a reader needs is
checked by :mod:`spikesmith.checkpoint_checks`.
"""

from __future__ import annotations

import os
from typing import Any, Optional

from torch import nn

from .. import checkpoint_checks
from ..atomic import torch_save as atomic_save  # noqa: F401  (re-exported: training.atomic_save)
from ..checksum import seal

FORMAT = "spikesmith-checkpoint-1"
# The project was called spikeforge before 0.2; its checkpoints carry this tag and keep loading.
LEGACY_FORMATS = ("spikeforge-checkpoint-1",)


def make_checkpoint(model: nn.Module, model_name: str, model_args: dict, config: dict, **extra: Any) -> dict:
    """The checkpoint of ``model``, sealed with its checksum: save it as it is (``atomic_save``);
    a dict changed afterwards must be sealed again (``checksum.seal``), or it loads as damaged."""
    from .. import __version__

    return seal({
        "format": FORMAT,
        "spikesmith_version": __version__,
        "model_name": model_name,
        "model_args": dict(model_args),
        "config": dict(config),
        "state_dict": unwrap(model).state_dict(),
        **extra,
    })


#: ``torch.load(path, weights_only=True)`` with the checksum verified (see ``checkpoint_checks.read_file``).
read_file = checkpoint_checks.read_file


def load_checkpoint(path: os.PathLike | str, map_location: str = "cpu", allow_nonfinite: bool = False) -> dict:
    """Load a training checkpoint safely (``weights_only=True``) and check that it is one of ours:
    its checksum, the entries that rebuild the model (``checkpoint_checks.TRAINED``), and finite
    weights (unless ``allow_nonfinite``).

    ``spikesmith.load`` gives the network of any checkpoint, ready to run.
    """
    def check_format(ckpt: Any) -> None:
        if not isinstance(ckpt, dict) or ckpt.get("format") not in (FORMAT, *LEGACY_FORMATS):
            raise ValueError(f"{path} is not a spikesmith checkpoint (expected format {FORMAT!r})")

    ckpt = read_file(path, map_location, check_format)
    checkpoint_checks.check_entries(ckpt, checkpoint_checks.TRAINED, str(path))
    checkpoint_checks.check_finite(ckpt, ("state_dict",), str(path), allow_nonfinite)
    return upgrade(ckpt)


def upgrade(ckpt: dict) -> dict:
    """A training checkpoint written by an older version, in this version's form: its config's
    flat model options moved into ``model_options``, its model arguments as the model takes them now."""
    from ..models import MODELS, saved_arguments
    from .config import saved_config

    name = ckpt.get("model_name")
    if not isinstance(name, str) or name not in MODELS:      # an STDP or hybrid run: its own config
        return ckpt
    ckpt = dict(ckpt)
    ckpt["model_args"] = saved_arguments(name, ckpt.get("model_args") or {})
    if isinstance(ckpt.get("config"), dict):
        ckpt["config"] = saved_config(ckpt["config"])
    return ckpt


def unwrap(model: nn.Module) -> nn.Module:
    """The module inside DistributedDataParallel, if wrapped."""
    return getattr(model, "module", model)


def load_weights(model: nn.Module, state_dict: dict, source: Optional[str] = None) -> None:
    """Load weights, naming the keys and shapes that do not match instead of a bare RuntimeError."""
    own = unwrap(model).state_dict()
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    shapes = [f"{k}: checkpoint {list(state_dict[k].shape)} vs model {list(own[k].shape)}"
              for k in sorted(set(own) & set(state_dict))
              if not isinstance(own[k], nn.parameter.UninitializedTensorMixin)   # lazy: takes the checkpoint's shape
              and own[k].shape != state_dict[k].shape]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"missing keys {missing[:8]}")
        if unexpected:
            parts.append(f"unexpected keys {unexpected[:8]}")
        if shapes:
            parts.append("shape mismatch " + "; ".join(shapes[:8]))
        raise ValueError(f"checkpoint{' ' + source if source else ''} does not match the model: " + ", ".join(parts))
    unwrap(model).load_state_dict(state_dict)
