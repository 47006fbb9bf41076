"""``spikesmith train``: config file + command-line overrides -> a trained network in ``--out``.

The chosen model's own options are flags too (``--hidden 256``); ``spikesmith train --model NAME
--help`` lists them, and an option the model has not got is an error.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from typing import get_type_hints

from ..training.config import TrainConfig, load_config_file, make_config, split_model_options
from ._flags import add_config_flags, config_overrides

HELP = {
    "dataset": "fashion_mnist | mnist | digits | sfmnist (default: Fashion-MNIST where found, else digits)",
    "model": "the model family, by name (default: csnn for images, fcsnn for digits, rsnn for sequences); "
             "its options: --model NAME --help",
    "encoder": "direct | poisson | rate | latency | population | none",
    "ann": "train the model's ANN twin instead (activation in place of each neuron)",
    "activation": "the ANN twin's activation: relu | clip | tcl | qcfs | qcfs8",
    "event_method": "nfmnist: how images become events: saccade (N-MNIST's moving camera) | flash (light on/off) | poisson",
    "event_threshold": "nfmnist: contrast threshold on log intensity (default 0.2; lower: more events, finer levels)",
    "random_flip": "mirror training samples left-right with probability 1/2 (images and event frames)",
    "random_shift": "translate training samples by up to this many pixels, zero-filled",
    "feedback": "bp (backprop) | fa (feedback alignment: fixed random B in place of each W^T) | dfa (direct "
                "feedback alignment: the output error sent to every hidden layer through a fixed random matrix); "
                "fa and dfa: fully connected and recurrent models (fcsnn, rsnn)",
    "online": "train online through time instead of BPTT: ottt (instantaneous loss, presynaptic traces, "
              "Xiao et al. 2022) | sltt (spatial gradients only, Meng et al. 2023); memory constant in T; "
              "models fcsnn and csnn",
    "sltt_k": "with --online sltt: backpropagate at K time steps per batch, drawn at random (default: all T)",
    "time_limit": "stop after the epoch that would pass this many minutes of training",
    "dist_timeout": "under torchrun: seconds a rank waits for the others; past it the job fails, naming the rank "
                    "that stopped answering",
}


def _model_option_types() -> dict[str, type]:
    """Each option name of any registered model, with its type in one family that has it."""
    from ..models import MODELS, config_class

    found: dict[str, type] = {}
    for model in MODELS:
        for key, typ in get_type_hints(config_class(model)).items():
            if key in config_class(model).option_names():
                found.setdefault(key, typ)
    return found


def _help_text(f: dataclasses.Field) -> str:
    text = f.metadata.get("help", "")
    text = text() if callable(text) else text
    if f.metadata.get("choices"):
        text += f"; one of {' | '.join(f.metadata['choices'])}"
    return text if "default" in text else f"{text} (default: {f.default})"


def model_help(name: str | None) -> str:
    """The options of model ``name`` as help text; without a name, the models and their options."""
    from ..models import MODELS, config_class

    if name is None:
        lines = ["model options (spikesmith train --model NAME --help lists one model's):"]
        lines += [f"  {model}: {', '.join(config_class(model).option_names())}" for model in MODELS.names()]
        return "\n".join(lines) + "\n"
    model = MODELS.canonical(name)
    cls = config_class(model)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    doc = (MODELS.get(model).__doc__ or "").strip().splitlines()
    p = argparse.ArgumentParser(prog=f"spikesmith train --model {model}", add_help=False, usage=argparse.SUPPRESS)
    group = p.add_argument_group(f"options of model {model}" + (f" ({doc[0].rstrip('.')})" if doc else ""))
    for key in cls.option_names():
        group.add_argument("--" + key.replace("_", "-"), metavar=key.upper(), help=_help_text(fields[key]))
    text = p.format_help()
    if cls.run_defaults:        # run options the family sets (ModelOptions.run_defaults); flags still win
        text += (f"run options model {model} sets unless given: "
                 + ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in cls.run_defaults.items()) + "\n")
    return text


class _HelpAction(argparse.Action):
    """``--help``: the run's flags, then the options of the model named before it (or of all)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        text = parser.format_help()
        try:
            text += "\n" + model_help(getattr(namespace, "model", None))
        except ValueError as err:                       # an unknown --model: say so, list the known ones
            parser.exit(2, f"{parser.prog}: error: {err}\n")
        sys.stdout.write(text)
        parser.exit()


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a spiking network", description=__doc__, add_help=False,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-h", "--help", action=_HelpAction,
                   help="show this help and the model options (with --model NAME before it: that model's)")
    add_config_flags(p, TrainConfig, HELP)
    run_keys = {f.name for f in dataclasses.fields(TrainConfig)}
    for key, typ in _model_option_types().items():
        if key in run_keys:
            raise ValueError(f"model option {key!r} has the name of a TrainConfig key; rename the option")
        # listed by --help under the model's options; a bool flag alone means true, as above
        bool_flag = {"nargs": "?", "const": "true"} if typ is bool else {}
        p.add_argument("--" + key.replace("_", "-"), default=None, dest=key, help=argparse.SUPPRESS, **bool_flag)


def run(args: argparse.Namespace) -> int:
    from ..run import resumed_config, train

    overrides = config_overrides(args, TrainConfig)
    overrides.update({key: getattr(args, key) for key in _model_option_types()
                      if getattr(args, key, None) is not None and key not in overrides})
    # a resumed run keeps its own config, under the flags given now (only those that may change)
    saved = resumed_config(args.resume, args.allow_nonfinite)
    config_file = args.config
    if args.resume:
        if config_file:   # a file's keys on a resume are checked like flags (the saved config used to win silently)
            run_keys, options = split_model_options(load_config_file(config_file))
            overrides = {**run_keys, **options, **overrides}
            config_file = None
        _check_resume_overrides(overrides, saved, args.resume)
    cfg = make_config(config_file, {**saved, **overrides})
    metrics = train(cfg, resume=args.resume, allow_nonfinite=args.allow_nonfinite)
    if os.environ.get("RANK", "0") == "0":  # under torchrun only rank 0 reports
        print(f"test_accuracy {metrics['test_accuracy']:.4f}")
    return 0


def _check_resume_overrides(overrides: dict, saved: dict, resume: str) -> None:
    """Flags that conflict with the resumed checkpoint's config, refused naming both values."""
    from ..data import canonical_name
    from ..models import MODELS, config_class
    from ..run import resume as resume_rules

    types = dict(get_type_hints(TrainConfig))
    model = saved.get("model")
    if isinstance(model, str) and model in MODELS:
        types.update(get_type_hints(config_class(model)))
    resume_rules.check_overrides(overrides, saved, resume_rules.GRADIENT, resume, types,
                                 canonical={"model": MODELS.canonical, "dataset": canonical_name})
