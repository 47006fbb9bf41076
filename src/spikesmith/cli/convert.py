"""``spikesmith convert --checkpoint ann.pt``: convert a trained ANN twin to an SNN, accuracy against T.

    spikesmith convert --checkpoint runs/ann/checkpoint.pt --calib-samples 512 --T 4,8,16,32,64 \\
        --method max,robust,mse,light,advanced --out runs/ann/conversion

For every method it prints the test accuracy at every T next to the ANN's, plots accuracy against T
(``accuracy_vs_T.png``), writes ``conversion.json`` and the converted network of each method at the
largest T (``converted_<method>.pt``; all writes atomic). A method whose conversion does not depend on
T (max, robust, fraction, and qcfs without calibration) is converted and run once for the largest T and read at every T from
that run; the others (MSE thresholds, the V_th/(2T) shift, calibration) are converted for each T.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..atomic import write_json


def add_parser(sub) -> None:
    p = sub.add_parser("convert", help="convert a trained ANN to an SNN and report accuracy against T",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True, help="checkpoint of an ANN twin (spikesmith train --ann)")
    p.add_argument("--method", default="light,advanced",
                   help="comma-separated presets: max, robust, fraction, mse, light, advanced, qcfs")
    p.add_argument("--T", default="4,8,16,32,64", help="comma-separated numbers of time steps")
    p.add_argument("--calib-samples", type=int, default=512, help="unlabeled training samples for calibration")
    p.add_argument("--test-samples", type=int, default=None, help="evaluate on the first K test samples only")
    p.add_argument("--dataset", default=None, help="override the checkpoint's dataset")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--batch-size", type=int, default=None, help="evaluation batch (default: 4096 / T)")
    p.add_argument("--per-channel", action="store_true", help="one threshold per channel instead of per layer")
    p.add_argument("--weights", action="store_true", help="add weight calibration to the advanced method")
    p.add_argument("--no-bias", action="store_true",
                   help="also convert every method without biases (moved into initial potentials) and report both")
    p.add_argument("--max-pool", default="error", choices=["error", "gate"], help="rule for max pooling on spikes")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                   help="further conversion options, e.g. percentile=99.99 fraction=0.7")
    p.add_argument("--seed", type=int, default=0, help="seed of the choice of calibration samples")
    p.add_argument("--out", default=None, help="output folder (default: next to the checkpoint)")
    p.add_argument("--no-plot", action="store_true")


def _ints(text: str, name: str) -> list[int]:
    try:
        values = sorted({int(v) for v in text.split(",") if v.strip()})
    except ValueError:
        raise ValueError(f"--{name} must be comma-separated integers, got {text!r}") from None
    if not values or values[0] < 1:
        raise ValueError(f"--{name} must list positive integers, got {text!r}")
    return values


def _option_value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if "+" in text:
        return tuple(t for t in text.split("+") if t)
    return text


def log(msg: str) -> None:
    print(f"[spikesmith] {msg}", file=sys.stderr, flush=True)


def _plot(results: dict, ann_acc: float, steps: list[int], path: Path, title: str) -> None:
    from ..viz._common import new_figure, save_png

    fig = new_figure((6.0, 4.0))
    ax = fig.add_subplot(1, 1, 1)
    for label, row in results.items():
        ts = [t for t in steps if str(t) in row["accuracy"]]
        ax.plot(ts, [100 * row["accuracy"][str(t)] for t in ts], marker="o", label=label)
        if row.get("ann_accuracy") is not None and abs(row["ann_accuracy"] - ann_acc) > 1e-12:
            ax.axhline(100 * row["ann_accuracy"], ls=":", color="grey", lw=1)
    ax.axhline(100 * ann_acc, ls="--", color="black", lw=1, label=f"ANN {100 * ann_acc:.2f}%")
    ax.set_xscale("log", base=2)
    ax.set_xticks(steps)
    ax.set_xticklabels([str(t) for t in steps])
    ax.set_xlabel("time steps T")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    save_png(fig, path)


def run(args: argparse.Namespace) -> int:
    import torch

    from ..conversion import convert, resolve_options, save_converted
    from ..conversion.evaluate import accuracy_over_time, ann_accuracy
    from ..models import build_model
    from ..training import TrainConfig, load_checkpoint, load_weights
    from ..training.config import parse_overrides
    from ..training.setup import load_split

    methods = [m.strip() for m in args.method.split(",") if m.strip()]
    steps = _ints(args.T, "T")
    extra = {k: _option_value(v) for k, v in parse_overrides(args.set).items()}
    if args.per_channel:
        extra["per_channel"] = True
    extra["max_pool"] = args.max_pool
    for m in methods:
        resolve_options(m, extra)  # fail early on a bad method or option
    if args.calib_samples < 1:
        raise ValueError(f"--calib-samples must be >= 1, got {args.calib_samples}")

    ckpt = load_checkpoint(args.checkpoint)
    if not ckpt["model_args"].get("ann", False):
        raise ValueError(f"{args.checkpoint} holds an SNN ({ckpt['model_name']}); convert needs an ANN twin trained "
                         f"with spikesmith train --ann true")
    ann = build_model(ckpt["model_name"], **ckpt["model_args"])
    load_weights(ann, ckpt["state_dict"], source=args.checkpoint)
    ann.eval()
    known = TrainConfig.__dataclass_fields__
    cfg = TrainConfig(**{k: v for k, v in ckpt["config"].items() if k in known})
    if args.dataset:
        cfg.dataset = args.dataset
    if args.data_dir:
        cfg.data_dir = args.data_dir
    cfg.train_subset, cfg.test_subset = None, args.test_samples
    x_train, _, info = load_split(cfg, "train")
    if info.temporal:
        raise ValueError(f"dataset {cfg.dataset!r} is temporal; conversion works on static inputs (images)")
    gen = torch.Generator().manual_seed(args.seed)
    x_calib = x_train[torch.randperm(x_train.shape[0], generator=gen)[: args.calib_samples]]
    x_test, y_test, _ = load_split(cfg, "test")
    source = {"model_name": ckpt["model_name"], "model_args": dict(ckpt["model_args"])}
    out_dir = Path(args.out) if args.out else Path(args.checkpoint).resolve().parent / "conversion"
    out_dir.mkdir(parents=True, exist_ok=True)

    ann_acc = ann_accuracy(ann, x_test, y_test)
    log(f"ANN {ckpt['model_name']} ({ckpt['model_args'].get('activation', 'relu')}): test accuracy "
        f"{100 * ann_acc:.2f}% on {x_test.shape[0]} samples; calibrating on {x_calib.shape[0]} training samples")
    variants = [(m, {}) for m in methods]
    if args.no_bias:
        variants += [(m, {"bias": False}) for m in methods]
    results: dict[str, dict] = {}
    for method, more in variants:
        opts = {**extra, **more}
        if method == "advanced" and args.weights:
            opts["calibration"] = ("bias", "potential", "weights")
        resolved = resolve_options(method, opts)
        label = method + ("" if resolved["bias"] else " (no bias)")
        t_free = (resolved["threshold"] != "mse" and not resolved["calibration"] and resolved["shift"] != "bias"
                  and resolved["bias"])
        row = {"method": method, "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in opts.items()},
               "accuracy": {}, "calibration_s": {}, "one_run": t_free}
        snn = None
        if t_free:
            t0 = time.perf_counter()
            snn = convert(ann, x_calib, T=steps[-1], method=method, source=source, **opts)
            row["calibration_s"][str(steps[-1])] = time.perf_counter() - t0
            accs = accuracy_over_time(snn, x_test, y_test, steps, args.batch_size)
            row["accuracy"] = {str(t): a for t, a in accs.items()}
            row["eval_s"] = time.perf_counter() - t0
        else:
            for T in steps:
                t0 = time.perf_counter()
                snn = convert(ann, x_calib, T=T, method=method, source=source, **opts)
                row["calibration_s"][str(T)] = time.perf_counter() - t0
                row["accuracy"][str(T)] = accuracy_over_time(snn, x_test, y_test, [T], args.batch_size)[T]
                log(f"{label} T={T}: {100 * row['accuracy'][str(T)]:.2f}% (conversion {row['calibration_s'][str(T)]:.1f} s)")
        results[label] = row
        name = method + ("" if resolved["bias"] else "_nobias")
        save_converted(snn, out_dir / f"converted_{name}.pt", ann_test_accuracy=ann_acc,
                       config={**ckpt["config"], "dataset": cfg.dataset, "data_dir": cfg.data_dir, "T": snn.T},
                       test_accuracy=dict(row["accuracy"]))
        log(f"{label}: " + ", ".join(f"T={t} {100 * row['accuracy'][str(t)]:.2f}%" for t in steps))

    width = max(len(k) for k in results) if results else 6
    print(f"{'method':<{width}}  " + "  ".join(f"{'T=' + str(t):>7}" for t in steps) + "   conversion (s)")
    print(f"{'ANN':<{width}}  " + "  ".join(f"{100 * ann_acc:7.2f}" for _ in steps))
    for label, row in results.items():
        secs = max(row["calibration_s"].values())
        print(f"{label:<{width}}  " + "  ".join(f"{100 * row['accuracy'][str(t)]:7.2f}" for t in steps)
              + f"   {secs:.1f}")
    summary = {"checkpoint": str(args.checkpoint), "model_name": ckpt["model_name"], "model_args": source["model_args"],
               "dataset": cfg.dataset, "test_samples": int(x_test.shape[0]), "calib_samples": int(x_calib.shape[0]),
               "ann_accuracy": ann_acc, "T": steps, "results": results, "torch_threads": torch.get_num_threads()}
    write_json(out_dir / "conversion.json", summary)
    if not args.no_plot:
        try:
            _plot(results, ann_acc, steps, out_dir / "accuracy_vs_T.png",
                  f"{ckpt['model_name']} on {cfg.dataset}: converted SNN vs T")
        except ImportError as err:
            log(f"no plot: {err}")
    log(f"results in {out_dir}")
    return 0
