"""``spikesmith eval --checkpoint ckpt.pt``: test accuracy and firing rates of a trained network."""

from __future__ import annotations

import argparse
import json


def add_parser(sub) -> None:
    p = sub.add_parser("eval", help="evaluate a checkpoint on its test set", description=__doc__)
    p.add_argument("--allow-nonfinite", action="store_true",
                   help="load the checkpoint even if its weights hold NaN or Inf (refused otherwise)")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--dataset", default=None, help="override the checkpoint's dataset")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--T", type=int, default=None, help="override the number of time steps")
    p.add_argument("--batch-size", type=int, default=None)


def run(args: argparse.Namespace) -> int:
    from ..loading import open_checkpoint

    loaded = open_checkpoint(args.checkpoint, allow_nonfinite=args.allow_nonfinite)
    if loaded.kind == "converted":
        result = _eval_converted(loaded, args)
    elif loaded.kind == "stdp":
        raise ValueError(f"{args.checkpoint} holds an STDP network ({loaded.model_name}); its test is part of the "
                         f"run: spikesmith stdp --resume {args.checkpoint} relabels the neurons and tests again")
    else:
        result = _eval_trained(loaded, args)
    print(json.dumps(result, indent=2))
    return 0


def _eval_trained(loaded, args: argparse.Namespace) -> dict:
    """A trained network (SNN or ANN twin): loss, accuracy and firing rates on its test set."""
    import torch

    from ..training import evaluate
    from ..training.setup import load_split

    cfg = loaded.config
    for key, value in (("dataset", args.dataset), ("data_dir", args.data_dir), ("T", args.T),
                       ("batch_size", args.batch_size)):
        if value is not None:
            setattr(cfg, key, value)
    x, y, info = load_split(cfg, "test")
    trained = loaded.model_args.get("num_classes")
    if trained is not None and info.num_classes != trained:
        raise ValueError(f"dataset {cfg.dataset!r} has {info.num_classes} classes but the checkpoint was trained "
                         f"with {trained}")
    result = evaluate(loaded.net, x, y, cfg, info.temporal, torch.device("cpu"), info.num_classes)
    return {"test_accuracy": result["accuracy"], "test_loss": result["loss"],
            "firing_rates": result["firing_rates"], "count": result["count"]}


def _eval_converted(loaded, args: argparse.Namespace) -> dict:
    """A converted (ANN -> SNN) network: accuracy of the drop-in SNN on its test set."""
    from ..conversion.evaluate import accuracy_over_time
    from ..training.setup import load_split

    snn, cfg = loaded.net, loaded.config
    if args.T is not None and args.T != snn.T:
        snn.set_T(args.T)
    if args.dataset is not None:
        cfg.dataset = args.dataset
    if args.data_dir is not None:
        cfg.data_dir = args.data_dir
    if cfg.dataset is None:
        raise ValueError("the converted checkpoint names no dataset; pass --dataset")
    x, y, _ = load_split(cfg, "test")
    acc = accuracy_over_time(snn, x, y, [snn.T], args.batch_size)[snn.T]
    return {"test_accuracy": acc, "T": snn.T, "method": snn.method, "count": int(y.numel())}
