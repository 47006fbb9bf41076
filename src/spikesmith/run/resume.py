"""What ``--resume`` accepts: the checkpoint's entries, and which options may differ from its config.

A resumed run is the same run continued: with the same config it ends with the uninterrupted run's
weights. So an option given with ``--resume`` that differs from the checkpoint's config is refused,
naming the option and both values, except the options in the job's ``may_change``:

- where the run reads and writes: ``out``, ``data_dir`` (the same data in another place: a changed
  dataset shows as a different model, refused by :func:`check_model`);
- what it runs on and how fast: ``device``, ``threads``, ``amp``, ``reuse_memory``, ``channels_last``,
  ``dist_timeout``;
- when it stops: ``epochs`` (a longer run; a schedule made for fewer steps refuses it, see
  ``run.gradient``), ``time_limit``, ``checkpoint_every``;
- what it reports: ``report``, ``tensorboard``, ``test_subset``, ``eval_batch_size``, and
  ``nonfinite_loss`` (what happens on a NaN loss, not how training goes while it is finite);
- for STDP, how the trained neurons are labelled and vote afterwards: ``assign_pass``,
  ``assign_subset``, ``vote`` (they change no weight).

Everything else (the model and its options, the data, the encoding, the optimiser, the loss, the
seed) defines the run; to change it, start a new run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

from .. import checkpoint_checks
from ..checkpoint_checks import Entry

_WHERE_AND_HOW = frozenset({"out", "data_dir", "threads", "report", "time_limit", "epochs", "test_subset"})

#: The options ``spikesmith train --resume`` may change (see the module docstring).
TRAIN_MAY_CHANGE = _WHERE_AND_HOW | {"device", "amp", "reuse_memory", "channels_last", "dist_timeout",
                                     "tensorboard", "nonfinite_loss"}
#: The options ``spikesmith stdp --resume`` may change.
STDP_MAY_CHANGE = _WHERE_AND_HOW | {"checkpoint_every", "eval_batch_size", "assign_pass", "assign_subset", "vote"}


@dataclass(frozen=True)
class ResumeRules:
    """A job's resume contract: the entries its checkpoint needs (besides ``checkpoint_checks.TRAINED``)
    and the config keys a resumed run may change."""

    entries: tuple[Entry, ...]
    may_change: frozenset[str]


GRADIENT = ResumeRules(checkpoint_checks.RESUME_GRADIENT, TRAIN_MAY_CHANGE)
HYBRID = ResumeRules(checkpoint_checks.RESUME_HYBRID, STDP_MAY_CHANGE)
DIEHL_COOK = ResumeRules(checkpoint_checks.RESUME_DIEHL_COOK, STDP_MAY_CHANGE)
NESSLER = ResumeRules(checkpoint_checks.RESUME_NESSLER, STDP_MAY_CHANGE)
#: The rules of each STDP model but Diehl & Cook's (the default).
_STDP_RULES = {"hybrid": HYBRID, "nessler": NESSLER}


def check_checkpoint(ckpt: Mapping, rules: ResumeRules, where: str, allow_nonfinite: bool = False) -> None:
    """The entries a resume needs are there and right, and the optimiser state is finite."""
    checkpoint_checks.check_entries(ckpt, rules.entries, where, " to resume")
    checkpoint_checks.check_finite(ckpt, ("optimizer",), where, allow_nonfinite)


def _plain(value: Any) -> Any:
    """Lists and tuples alike (a YAML list and a saved tuple are the same option value)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def check_config(config: Mapping, saved: Mapping, rules: ResumeRules, where: str) -> None:
    """Refuse a resumed run whose config differs from the checkpoint's outside ``rules.may_change``.

    ``config`` is the run's config as a dict (``cfg.to_dict()``); a key the checkpoint lacks (written
    by an older version) is not compared. Model options are compared one by one.
    """
    conflicts = []
    for key, value in config.items():
        if key in rules.may_change or key not in saved:
            continue
        old = saved[key]
        if isinstance(value, Mapping) and isinstance(old, Mapping):           # model_options
            conflicts += [(k, v, old[k]) for k, v in value.items() if k in old and _plain(v) != _plain(old[k])]
        elif _plain(value) != _plain(old):
            conflicts.append((key, value, old))
    _refuse(conflicts, rules, where)


def check_overrides(overrides: Mapping[str, Any], saved: Mapping, rules: ResumeRules, where: str,
                    types: Mapping[str, Any], canonical: Optional[Mapping[str, Callable[[Any], Any]]] = None) -> None:
    """:func:`check_config` for the options given on the command line (strings), before the config is
    built: ``--neuron if`` on a LIF run is named as the conflict it is, not as the error the mix of
    the two configs gives. ``types`` maps each key (config keys and the saved model's options) to its
    type; a value that does not convert is left for the config check to report. ``canonical`` maps a
    key to the function that gives a value's canonical name (a model's or a dataset's aliases)."""
    from ..training.config import coerce_value

    options = saved.get("model_options") if isinstance(saved.get("model_options"), Mapping) else {}
    conflicts = []
    for key, value in overrides.items():
        if key in rules.may_change or key not in types:
            continue
        if key in saved:
            old = saved[key]
        elif key in options:
            old = options[key]
        else:
            continue
        try:
            new = coerce_value(key, value, types[key])
            if canonical and key in canonical and new is not None:
                new = canonical[key](new)
        except (ValueError, TypeError, LookupError):
            continue
        if _plain(new) != _plain(old):
            conflicts.append((key, new, old))
    _refuse(conflicts, rules, where)


def _refuse(conflicts: list[tuple[str, Any, Any]], rules: ResumeRules, where: str) -> None:
    if conflicts:
        listed = "; ".join(f"{_flag(k)} {new!r} here, {old!r} in the checkpoint" for k, new, old in conflicts)
        raise ValueError(f"cannot resume {where}: options differ from the run it continues ({listed}); a resumed "
                         f"run keeps its config except {', '.join(sorted(rules.may_change))}: drop "
                         f"{', '.join(_flag(k) for k, _, _ in conflicts)}, or start a new run without --resume")


def check_model(model_name: str, model_args: Mapping, ckpt: Mapping, where: str) -> None:
    """Refuse to resume into another model than the checkpoint's ``model_name``/``model_args``
    (what ``spikesmith.load`` and ``eval`` build from it)."""
    saved_name, saved_args = ckpt.get("model_name"), ckpt.get("model_args") or {}
    problems: list[str] = []
    if model_name != saved_name:
        problems.append(f"model {model_name!r} here, {saved_name!r} in the checkpoint")
    for key in sorted(set(model_args) | set(saved_args)):
        new, old = model_args.get(key, _MISSING), saved_args.get(key, _MISSING)
        if _plain(new) != _plain(old):
            problems.append(f"{key} {new!r} here, {old!r} in the checkpoint")
    if problems:
        raise ValueError(f"cannot resume {where}: this run builds another model than the checkpoint's model_name "
                         f"and model_args ({'; '.join(problems)}); its config and model_args disagree (an edited "
                         f"file) or the data changed shape: resume with the data it was trained on, or start a new run")


class _Missing:
    def __repr__(self) -> str:
        return "(not given)"


_MISSING = _Missing()


def resume_rules_for(kind: Optional[str]) -> ResumeRules:
    """The rules of an STDP job by its config's model (``diehl_cook``, ``hybrid`` or ``nessler``)."""
    return _STDP_RULES.get(kind, DIEHL_COOK)
