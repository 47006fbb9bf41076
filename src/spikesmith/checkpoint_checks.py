"""What a checkpoint must hold, checked in one place before anything reads it.

Every reader of checkpoints (``spikesmith.load``, ``eval``, ``profile``, ``convert``, ``--resume``)
goes through the same three steps:

1. :func:`read_file`: ``torch.load(weights_only=True)`` (tensors and plain values, never code), then
   the content checksum (:mod:`spikesmith.checksum`): a damaged file is an error naming it;
2. :func:`check_entries` with the entries the reader needs (``TRAINED``, ``CONVERTED``, and for a
   resume ``RESUME_GRADIENT``, ``RESUME_HYBRID`` or ``RESUME_DIEHL_COOK``): one error naming every
   entry that is missing or of the wrong type or range, never a ``KeyError`` from deep inside;
3. :func:`check_finite`: weights (and, on resume, the optimiser state) holding NaN or Inf are refused,
   naming the first such tensor, unless the caller forces it (``--allow-nonfinite``,
   ``spikesmith.load(..., allow_nonfinite=True)``).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import torch

from . import checksum

ALLOW_NONFINITE_HINT = "pass --allow-nonfinite (spikesmith.load(..., allow_nonfinite=True)) to load it anyway"


class IncompleteCheckpointError(ValueError):
    """An entry a reader needs is missing, or of the wrong type or range."""


class NonFiniteCheckpointError(ValueError):
    """A checkpoint's weights hold NaN or Inf, and the caller did not allow it."""


# ----------------------------------------------------------------------------- 1. the file
def require_file(path: Path, what: str) -> None:
    """A ``FileNotFoundError`` unless ``path`` is a regular file, saying what it is instead."""
    if path.is_file():
        return
    if path.is_dir():
        raise FileNotFoundError(f"{what} {path} is a folder, not a file; give the checkpoint file in it "
                                f"(runs write checkpoint.pt)")
    if path.exists():
        raise FileNotFoundError(f"{what} {path} is not a regular file; give a checkpoint file")
    raise FileNotFoundError(f"{what} {path} does not exist")


def read_file(path: os.PathLike | str, map_location: str = "cpu",
              check_format: Optional[Callable[[Any], None]] = None) -> Any:
    """The contents of a checkpoint file, read with ``weights_only=True`` and its checksum verified.

    A missing file is a ``FileNotFoundError``; a file that is not tensors and plain values (damaged,
    truncated, or pickled code) or whose content does not match its checksum is a ``ValueError``
    naming it. A checkpoint without a checksum (older) loads with an ``UnverifiedCheckpointWarning``.
    ``check_format``, if given, raises for contents that are not the caller's kind of checkpoint; it
    runs before the checksum, so another program's file is refused as such.
    """
    path = Path(path)
    require_file(path, "checkpoint")
    try:
        with warnings.catch_warnings():     # a liquid's CSR weights: torch's "sparse is in beta" note
            warnings.filterwarnings("ignore", message=".*[Ss]parse CSR tensor support is in beta.*")
            ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises several types for damaged files
        raise ValueError(f"checkpoint {path} cannot be read ({type(err).__name__}: {err}); it is damaged or not "
                         f"a checkpoint") from None
    if check_format is not None:
        check_format(ckpt)
    if isinstance(ckpt, Mapping):
        checksum.verify(ckpt, str(path))
    return ckpt


# ----------------------------------------------------------------------------- 2. the entries
@dataclass(frozen=True)
class Entry:
    """One entry a reader needs: its key, the types it may have, what it is (for messages), and an
    optional ``rule`` that returns what is wrong with a value of the right type (None: nothing)."""

    key: str
    types: tuple[type, ...]
    meaning: str
    required: bool = True
    rule: Optional[Callable[[Any], Optional[str]]] = None


def _non_negative(value: int) -> Optional[str]:
    return None if value >= 0 else f"must be >= 0, got {value}"


def _positive(value: int) -> Optional[str]:
    return None if value >= 1 else f"must be >= 1, got {value}"


def _tensors(value: Mapping) -> Optional[str]:
    for key, item in value.items():
        if not isinstance(key, str):
            return f"must map names to tensors, but has the key {key!r} ({type(key).__name__})"
        if not isinstance(item, torch.Tensor):
            return f"must map names to tensors, but {key!r} is a {type(item).__name__}"
    return None


def _shape(value) -> Optional[str]:
    if all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in value):
        return None
    return f"must list positive sizes, got {list(value)!r}"


def _source(value) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value.get("model_name"), str) or not isinstance(value.get("model_args"), dict):
        return "must name the source model: {'model_name': str, 'model_args': dict}"
    return None


_WEIGHTS = Entry("state_dict", (Mapping,), "the weights", rule=_tensors)
_EPOCH = Entry("epoch", (int,), "the epoch it was written after", rule=_non_negative)

#: A trained network (``spikesmith train``, ``spikesmith stdp``): what rebuilds it.
TRAINED = (
    Entry("model_name", (str,), "the model's registry name"),
    Entry("model_args", (dict,), "the model's constructor arguments"),
    Entry("config", (dict,), "the config of the run that wrote it"),
    _WEIGHTS,
)
#: A converted network (``spikesmith convert``, ``conversion.save_converted``).
CONVERTED = (
    Entry("source", (dict, type(None)), "the source ANN", rule=_source),
    Entry("method", (str,), "the conversion method"),
    Entry("T", (int,), "the time steps", rule=_positive),
    Entry("input_shape", (list, tuple), "one sample's shape", rule=_shape),
    _WEIGHTS,
    Entry("options", (dict,), "the conversion options", required=False),
    Entry("calibrated_T", (int,), "the T it was calibrated for", required=False, rule=_positive),
    Entry("layers", (dict,), "the spiking layers' settings", required=False),
    Entry("config", (dict, type(None)), "the config of the source run", required=False),
)
#: What ``spikesmith train --resume`` needs besides ``TRAINED``.
RESUME_GRADIENT = (
    _EPOCH,
    Entry("optimizer", (dict,), "the optimiser state"),
    Entry("scheduler", (dict, type(None)), "the learning-rate schedule's state", required=False),
    Entry("history", (list,), "the finished epochs' metrics", required=False),
    Entry("train_time_s", (int, float), "the training time so far", required=False),
)
#: What ``spikesmith stdp --resume`` needs for the hybrid network.
RESUME_HYBRID = RESUME_GRADIENT[:2] + RESUME_GRADIENT[3:]
#: What ``spikesmith stdp --resume`` needs for Diehl & Cook.
RESUME_DIEHL_COOK = (
    _EPOCH,
    Entry("next_batch", (int,), "the batch to continue with", rule=_non_negative),
    Entry("window_sums", (torch.Tensor,), "the label window's response sums"),
    Entry("window_samples", (torch.Tensor,), "the label window's sample counts"),
    Entry("window_tally", (list, tuple), "the accuracy curve's tally"),
    Entry("history", (list,), "the accuracy curve so far", required=False),
    Entry("train_time_s", (int, float), "the training time so far", required=False),
)


def _type_names(types: tuple[type, ...]) -> str:
    names = {Mapping: "dict", type(None): "None", torch.Tensor: "tensor"}
    return " or ".join(names.get(t, t.__name__) for t in types)


def _problem(ckpt: Mapping, entry: Entry) -> Optional[str]:
    if entry.key not in ckpt:
        return f"{entry.key!r} ({entry.meaning}) is missing" if entry.required else None
    value = ckpt[entry.key]
    if not isinstance(value, entry.types) or (isinstance(value, bool) and bool not in entry.types):
        return f"{entry.key!r} ({entry.meaning}) must be {_type_names(entry.types)}, got {type(value).__name__}"
    wrong = entry.rule(value) if entry.rule is not None else None
    return f"{entry.key!r} ({entry.meaning}) {wrong}" if wrong else None


def check_entries(ckpt: Mapping, entries: tuple[Entry, ...], where: str, purpose: str = "") -> None:
    """Raise one error naming every entry of ``entries`` that ``ckpt`` lacks or holds wrongly.

    ``purpose`` says what needs them (``" to resume"``), for the message.
    """
    problems = [p for p in (_problem(ckpt, e) for e in entries) if p]
    if problems:
        raise IncompleteCheckpointError(
            f"checkpoint {where} cannot be used{purpose}: {'; '.join(problems)}; it was not written by spikesmith "
            f"or was edited: use the file the run wrote")


# ----------------------------------------------------------------------------- 3. the values
def first_nonfinite(value: Any, label: str) -> Optional[tuple[str, int, int]]:
    """``(name, non-finite count, size)`` of the first floating tensor in ``value`` (nested dicts,
    lists and tuples) that holds NaN or Inf; None when every one is finite."""
    if isinstance(value, torch.Tensor):
        if value.layout in (torch.sparse_csr, torch.sparse_coo):        # the stored values only
            value = value.values() if value.layout == torch.sparse_csr else value.coalesce().values()
        if value.is_floating_point() or value.is_complex():
            bad = int((~torch.isfinite(value)).sum())
            if bad:
                return label, bad, value.numel()
        return None
    if isinstance(value, Mapping):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        hit = first_nonfinite(item, f"{label}[{key!r}]")
        if hit is not None:
            return hit
    return None


def check_finite(ckpt: Mapping, keys: tuple[str, ...], where: str, allow_nonfinite: bool = False) -> None:
    """Refuse a checkpoint whose entries ``keys`` (weights, optimiser state) hold NaN or Inf, naming
    the first such tensor, unless ``allow_nonfinite``."""
    if allow_nonfinite:
        return
    for key in keys:
        hit = first_nonfinite(ckpt.get(key), key)
        if hit is not None:
            name, bad, size = hit
            raise NonFiniteCheckpointError(
                f"checkpoint {where}: {name} holds {bad} non-finite value(s) (NaN or Inf) of {size}; the run "
                f"that wrote it diverged: use an earlier checkpoint, or {ALLOW_NONFINITE_HINT}")
#: What ``spikesmith stdp --resume`` needs for Nessler's stochastic WTA.
RESUME_NESSLER = (
    _EPOCH,
    Entry("next_batch", (int,), "the batch to continue with", rule=_non_negative),
    Entry("history", (list,), "the finished epochs' statistics", required=False),
    Entry("train_time_s", (int, float), "the training time so far", required=False),
)
