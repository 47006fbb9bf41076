"""``spikesmith eval --checkpoint ckpt.pt``: test accuracy and firing rates of a trained network."""

from __future__ import annotations

import argparse
import json


def add_parser(sub) -> None:
    p = sub.add_parser("eval", help="evaluate a checkpoint on its test set", description=__doc__)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--dataset", default=None, help="override the checkpoint's dataset")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--T", type=int, default=None, help="override the number of time steps")
    p.add_argument("--batch-size", type=int, default=None)


def run(args: argparse.Namespace) -> int:
    import torch

    from ..models import build_model
    from ..training import TrainConfig, evaluate, load_checkpoint, load_weights
    from ..training.setup import load_split

    from ..conversion import is_converted_checkpoint

    try:
        raw = torch.load(args.checkpoint, map_location="cpu", weights_only=True)
    except Exception:  # missing or corrupt: load_checkpoint below says what is wrong
        raw = None
    if is_converted_checkpoint(raw):
        return _eval_converted(raw, args)
    ckpt = load_checkpoint(args.checkpoint)
    known = TrainConfig.__dataclass_fields__
    cfg = TrainConfig(**{k: v for k, v in ckpt["config"].items() if k in known})
    for key, value in (("dataset", args.dataset), ("data_dir", args.data_dir), ("T", args.T),
                       ("batch_size", args.batch_size)):
        if value is not None:
            setattr(cfg, key, value)
    model = build_model(ckpt["model_name"], **ckpt["model_args"])
    load_weights(model, ckpt["state_dict"], source=args.checkpoint)
    x, y, info = load_split(cfg, "test")
    trained = ckpt["model_args"].get("num_classes")
    if trained is not None and info.num_classes != trained:
        raise ValueError(f"dataset {cfg.dataset!r} has {info.num_classes} classes but the checkpoint was trained "
                         f"with {trained}")
    result = evaluate(model, x, y, cfg, info.temporal, torch.device("cpu"), info.num_classes)
    print(json.dumps({"test_accuracy": result["accuracy"], "test_loss": result["loss"],
                      "firing_rates": result["firing_rates"], "count": result["count"]}, indent=2))
    return 0


def _eval_converted(ckpt: dict, args: argparse.Namespace) -> int:
    """A converted (ANN -> SNN) checkpoint: accuracy of the drop-in SNN on its test set."""
    from ..conversion import load_converted
    from ..conversion.evaluate import accuracy_over_time
    from ..training import TrainConfig
    from ..training.setup import load_split

    snn = load_converted(ckpt)
    if args.T is not None and args.T != snn.T:
        snn.set_T(args.T)
    config = ckpt.get("config") or {}
    known = TrainConfig.__dataclass_fields__
    cfg = TrainConfig(**{k: v for k, v in config.items() if k in known})
    if args.dataset is not None:
        cfg.dataset = args.dataset
    if args.data_dir is not None:
        cfg.data_dir = args.data_dir
    if cfg.dataset is None:
        raise ValueError("the converted checkpoint names no dataset; pass --dataset")
    x, y, _ = load_split(cfg, "test")
    acc = accuracy_over_time(snn, x, y, [snn.T], args.batch_size)[snn.T]
    print(json.dumps({"test_accuracy": acc, "T": snn.T, "method": ckpt.get("method"), "count": int(y.numel())},
                     indent=2))
    return 0
