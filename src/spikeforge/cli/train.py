"""``spikeforge train``: config file + command-line overrides -> a trained network in ``--out``."""

from __future__ import annotations

import argparse
import dataclasses
import os

from ..training.config import TrainConfig, _field_types, make_config, parse_overrides

HELP = {
    "dataset": "fashion_mnist | mnist | digits | sfmnist (default: Fashion-MNIST where found, else digits)",
    "model": "csnn | fcsnn (default: csnn for images, fcsnn for digits)",
    "neuron": "if | lif | plif | alif | izhikevich",
    "surrogate": "surrogate spike function, e.g. atan or 'sigmoid:alpha=4'",
    "encoder": "direct | poisson | rate | latency | population | none",
    "ann": "train the model's ANN twin instead (activation in place of each neuron)",
    "time_limit": "stop after the epoch that would pass this many minutes of training",
}


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a spiking network", description=__doc__)
    p.add_argument("--config", help="YAML or TOML file of config keys")
    p.add_argument("--resume", metavar="CHECKPOINT", help="continue a run from its checkpoint.pt")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="override any config key")
    types = _field_types()
    for f in dataclasses.fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        base = types[f.name]
        if base is bool:
            p.add_argument(flag, nargs="?", const="true", default=None, dest=f.name,
                           help=HELP.get(f.name, f"(default: {f.default})"))
        else:
            p.add_argument(flag, default=None, dest=f.name, help=HELP.get(f.name, f"(default: {f.default})"))


def run(args: argparse.Namespace) -> int:
    from ..training import load_checkpoint, run as train_run

    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)
                 if getattr(args, f.name) is not None}
    overrides.update(parse_overrides(args.set))
    if args.resume:
        saved = load_checkpoint(args.resume)["config"]
        cfg = make_config(args.config, {**saved, **overrides})
    else:
        cfg = make_config(args.config, overrides)
    metrics = train_run(cfg, resume=args.resume)
    if os.environ.get("RANK", "0") == "0":  # under torchrun only rank 0 reports
        print(f"test_accuracy {metrics['test_accuracy']:.4f}")
    return 0
