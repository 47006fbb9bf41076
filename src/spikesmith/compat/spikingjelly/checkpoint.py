"""Load SpikingJelly checkpoints (new ``activation_based`` and old ``clock_driven`` names) into spikesmith models.

``load_spikingjelly_state_dict(model, path_or_state_dict)`` matches every checkpoint key to a key of
``model.state_dict()``, trying in order:

1. the key as it is;
2. without the wrappers' prefixes: ``module.`` (``DataParallel`` / ``DistributedDataParallel``) and
   ``_orig_mod.`` (``torch.compile``);
3. the old containers' layout: ``clock_driven.layer.SeqToANNContainer`` / ``MultiStepContainer`` held their
   layers in a ``.module`` attribute (``conv.module.weight``, ``conv.module.0.weight``) where today's hold
   them as numbered children (``conv.0.weight``); either side may use either layout.

Neuron parameters keep their SpikingJelly names (PLIF's learned ``w``, the ``MultiStep*`` nodes' too), so
they match by the same rules. A checkpoint that is a training dict (``{'net': ..., 'epoch': ...}``) is
unwrapped at its ``net`` / ``model`` / ``state_dict`` entry.

Every key must find exactly one partner with the same shape; otherwise one ``ValueError`` lists all the
checkpoint keys left unmatched and all the model keys left unfilled (``strict=False`` loads the rest and
returns them instead).
"""

from __future__ import annotations

import itertools
import os
import pickle
from collections.abc import Mapping
from typing import NamedTuple, Union

import torch
from torch import Tensor, nn

_WRAPPER_PREFIXES = ("module.", "_orig_mod.")
_CHECKPOINT_ENTRIES = ("state_dict", "model_state_dict", "net", "model", "state", "module")
_SHOWN = 12


class SpikingJellyLoad(NamedTuple):
    """What ``load_spikingjelly_state_dict`` did: checkpoint key -> model key, and what stayed unmatched."""

    matched: dict
    unexpected_keys: list
    missing_keys: list


def _strip_wrappers(key: str) -> str:
    changed = True
    while changed:
        changed = False
        for prefix in _WRAPPER_PREFIXES:
            if key.startswith(prefix):
                key, changed = key[len(prefix):], True
    return key


def _layouts(key: str) -> list[str]:
    """``key`` with each ``module`` segment kept, dropped or numbered ``0`` (the two container layouts)."""
    parts = key.split(".")
    spots = [i for i, p in enumerate(parts[:-1]) if p == "module"]
    out = []
    for choice in itertools.product(("keep", "drop", "zero"), repeat=min(len(spots), 4)):
        new = list(parts)
        for i, how in sorted(zip(spots, choice), reverse=True):
            if how == "drop":
                del new[i]
            elif how == "zero":
                new[i] = "0"
        out.append(".".join(new))
    return out


def _canonical(key: str) -> list[str]:
    """Every spelling of ``key`` that the rules above treat as the same parameter."""
    seen = []
    for k in _layouts(_strip_wrappers(key)):
        if k not in seen:
            seen.append(k)
    return seen


def _read(source, weights_only: bool) -> Mapping:
    if isinstance(source, Mapping):
        return source
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"load_spikingjelly_state_dict: give a state dict or a checkpoint path, got "
                        f"{type(source).__name__}")
    if not os.path.isfile(source):
        raise OSError(f"load_spikingjelly_state_dict: no checkpoint file at {os.fspath(source)!r}; check the path")
    try:
        return torch.load(source, map_location="cpu", weights_only=weights_only)
    except pickle.UnpicklingError as err:
        if weights_only:
            raise OSError(f"load_spikingjelly_state_dict: {os.fspath(source)!r} holds more than tensors ({err}); "
                          f"if you trust the file, pass weights_only=False") from None
        raise OSError(f"load_spikingjelly_state_dict: {os.fspath(source)!r} is not a torch checkpoint: "
                      f"{err}") from None
    except MemoryError:
        raise
    except Exception as err:  # noqa: BLE001 - a damaged file makes torch.load raise almost any type
        raise OSError(f"load_spikingjelly_state_dict: cannot read {os.fspath(source)!r} as a torch checkpoint "
                      f"({type(err).__name__}: {err}); is the file complete and undamaged?") from None


def _tensors(ckpt: Mapping) -> Mapping:
    """The state dict inside ``ckpt``: itself when all values are tensors, else its state-dict entry."""
    if not isinstance(ckpt, Mapping):
        raise ValueError(f"load_spikingjelly_state_dict: the checkpoint is a {type(ckpt).__name__}, not a state "
                         f"dict; save model.state_dict() (or a dict holding it under 'net' / 'model')")
    if ckpt and all(isinstance(v, Tensor) for v in ckpt.values()):
        return ckpt
    for name in _CHECKPOINT_ENTRIES:
        inner = ckpt.get(name)
        if isinstance(inner, nn.Module):
            return inner.state_dict()
        if isinstance(inner, Mapping) and inner and all(isinstance(v, Tensor) for v in inner.values()):
            return inner
    raise ValueError(f"load_spikingjelly_state_dict: the checkpoint holds no state dict: its top-level keys are "
                     f"{sorted(map(str, ckpt))[:_SHOWN]}; pass the state dict itself (e.g. ckpt['net'])")


def _listing(keys: list) -> str:
    shown = ", ".join(keys[:_SHOWN])
    return shown + (f", ... ({len(keys) - _SHOWN} more)" if len(keys) > _SHOWN else "")


def load_spikingjelly_state_dict(model: nn.Module, path_or_state_dict: Union[str, os.PathLike, Mapping],
                                 strict: bool = True, weights_only: bool = True) -> SpikingJellyLoad:
    """Load a SpikingJelly checkpoint into ``model`` (a spikesmith or SpikingJelly-compat network).

    >>> load_spikingjelly_state_dict(net, "spikformer_cifar10.pth")   # 'module.' prefixes, old '.module.'s

    Raises ``ValueError`` naming the unmatched keys (``strict=True``), ``OSError`` for an unreadable file.
    Returns ``SpikingJellyLoad(matched, unexpected_keys, missing_keys)``.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"load_spikingjelly_state_dict: model must be an nn.Module, got {type(model).__name__}")
    source = _tensors(_read(path_or_state_dict, weights_only))
    target = model.state_dict()
    by_spelling: dict[str, list[str]] = {}
    for key in target:
        for spelling in _canonical(key):
            by_spelling.setdefault(spelling, []).append(key)
    matched, unexpected, problems = {}, [], []
    taken: dict[str, str] = {}
    for key, value in source.items():
        if key in target:
            candidates = [key]
        else:
            candidates = []
            for spelling in _canonical(key):
                candidates += [t for t in by_spelling.get(spelling, []) if t not in candidates]
        if not candidates:
            unexpected.append(key)
            continue
        if len(candidates) > 1:
            problems.append(f"checkpoint key {key!r} fits several model keys {candidates}; rename it yourself")
            continue
        name = candidates[0]
        if name in taken:
            problems.append(f"checkpoint keys {taken[name]!r} and {key!r} both fit model key {name!r}")
            continue
        if tuple(value.shape) != tuple(target[name].shape):
            problems.append(f"checkpoint key {key!r} has shape {list(value.shape)} but model key {name!r} has "
                            f"{list(target[name].shape)}; the architectures differ")
            continue
        taken[name] = key
        matched[key] = name
    missing = [k for k in target if k not in taken]
    if problems or (strict and (unexpected or missing)):
        lines = list(problems)
        if unexpected:
            lines.append(f"{len(unexpected)} checkpoint key(s) match nothing in the model: {_listing(unexpected)}")
        if missing and strict:
            lines.append(f"{len(missing)} model key(s) are not in the checkpoint: {_listing(missing)}")
        hint = "" if problems else "; check that the model is built like the one saved, or pass strict=False"
        raise ValueError("load_spikingjelly_state_dict: " + "\n  ".join(lines) + hint)
    model.load_state_dict({name: source[key] for key, name in matched.items()}, strict=False)
    return SpikingJellyLoad(matched, unexpected, missing)
