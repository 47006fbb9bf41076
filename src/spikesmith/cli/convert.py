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


def add_parser(sub) -> None:
    p = sub.add_parser("convert", help="convert a trained ANN to an SNN and report accuracy against T",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--allow-nonfinite", action="store_true",
                   help="load the checkpoint even if its weights hold NaN or Inf (refused otherwise)")
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


def run(args: argparse.Namespace) -> int:
    from ..conversion.sweep import table
    from ..loading import open_checkpoint
    from ..run.conversion import ConvertConfig, convert_checkpoint
    from ..training.config import parse_overrides

    options = {k: _option_value(v) for k, v in parse_overrides(args.set).items()}
    if args.per_channel:
        options["per_channel"] = True
    options["max_pool"] = args.max_pool
    cfg = ConvertConfig(checkpoint=args.checkpoint, methods=tuple(m.strip() for m in args.method.split(",") if m.strip()),
                        T=tuple(_ints(args.T, "T")), calib_samples=args.calib_samples, test_samples=args.test_samples,
                        dataset=args.dataset, data_dir=args.data_dir, batch_size=args.batch_size, options=options,
                        weights=args.weights, no_bias=args.no_bias, seed=args.seed, out=args.out,
                        report=not args.no_plot)
    summary = convert_checkpoint(cfg, open_checkpoint(cfg.checkpoint, allow_nonfinite=args.allow_nonfinite))
    print("\n".join(table(summary["results"], summary["ann_accuracy"], summary["T"])))
    return 0
