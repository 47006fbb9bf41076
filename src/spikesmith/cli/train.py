"""``spikesmith train``: config file + command-line overrides -> a trained network in ``--out``."""

from __future__ import annotations

import argparse
import os

from ..training.config import TrainConfig, make_config
from ._flags import add_config_flags, config_overrides

HELP = {
    "dataset": "fashion_mnist | mnist | digits | sfmnist (default: Fashion-MNIST where found, else digits)",
    "model": "csnn | fcsnn (default: csnn for images, fcsnn for digits)",
    "neuron": "if | lif | plif | alif | izhikevich",
    "surrogate": "surrogate spike function, e.g. atan or 'sigmoid:alpha=4'",
    "encoder": "direct | poisson | rate | latency | population | none",
    "ann": "train the model's ANN twin instead (activation in place of each neuron)",
    "event_method": "nfmnist: how images become events: saccade (N-MNIST's moving camera) | flash (light on/off) | poisson",
    "event_threshold": "nfmnist: contrast threshold on log intensity (default 0.2; lower: more events, finer levels)",
    "random_flip": "mirror training samples left-right with probability 1/2 (images and event frames)",
    "random_shift": "translate training samples by up to this many pixels, zero-filled",
    "time_limit": "stop after the epoch that would pass this many minutes of training",
}


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a spiking network", description=__doc__)
    add_config_flags(p, TrainConfig, HELP)


def run(args: argparse.Namespace) -> int:
    from ..run import resumed_config, train

    # a resumed run keeps its own config, under the flags given now
    cfg = make_config(args.config, {**resumed_config(args.resume), **config_overrides(args, TrainConfig)})
    metrics = train(cfg, resume=args.resume)
    if os.environ.get("RANK", "0") == "0":  # under torchrun only rank 0 reports
        print(f"test_accuracy {metrics['test_accuracy']:.4f}")
    return 0
