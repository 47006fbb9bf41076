"""Tutorial script: random feedback (bp / fa / dfa) and Nessler's stochastic WTA on the digits
(docs/tutorials/random_feedback_and_probabilistic_stdp.md).

Trains the same FCSNN on scikit-learn's 8 x 8 digits with backprop, feedback alignment and direct
feedback alignment (same seed, same epochs) and draws their test-accuracy curves; then trains
Nessler's stochastic WTA without labels and shows the report's figure of what its neurons learned.

    PYTHONPATH=src python docs/tutorials/random_feedback_and_probabilistic_stdp.py            # about a minute
    PYTHONPATH=src python docs/tutorials/random_feedback_and_probabilistic_stdp.py --quick    # the docs build's
"""

from __future__ import annotations

import argparse
import csv
import shutil
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from spikesmith import run, training  # noqa: E402

IMG = Path(__file__).resolve().parent / "img"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs (seconds)")
    parser.add_argument("--out", type=Path, default=IMG, help="folder for the figures")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="spikesmith-feedback-"))
    epochs = 4 if args.quick else 15
    results: dict = {"feedback": {}}
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for mode in ("bp", "fa", "dfa"):
        cfg = training.make_config(overrides={
            "dataset": "digits", "model": "fcsnn", "depth": 2, "hidden": 128, "feedback": mode,
            "epochs": epochs, "threads": 1, "seed": 0, "report": False, "out": str(work / mode)})
        metrics = run.train(cfg)
        with open(work / mode / "log.csv", newline="", encoding="utf-8") as handle:
            curve = [float(row["test_accuracy"]) for row in csv.DictReader(handle)]
        ax.plot(range(1, len(curve) + 1), curve, marker="o", label=mode)
        results["feedback"][mode] = metrics["test_accuracy"]
        print(f"--feedback {mode:3s}: test accuracy {metrics['test_accuracy']:.3f} after {epochs} epochs")
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy")
    ax.set_title("FCSNN 64-128-128-10 on the digits: backprop, FA, DFA")
    ax.legend(fontsize=8)
    fig.savefig(args.out / "feedback_curves.png", dpi=110, bbox_inches="tight")
    plt.close(fig)

    cfg = run.make_stdp_config(overrides={"dataset": "digits", "model": "nessler", "threads": 1,
                                          "epochs": 1 if args.quick else 5, "out": str(work / "nessler")})
    metrics = run.run_stdp(cfg)
    results["nessler"] = metrics["test_accuracy"]
    print(f"Nessler WTA, {cfg.n_neurons} neurons, {metrics['epochs_run']} epoch(s): "
          f"test accuracy {metrics['test_accuracy']:.3f} (labels assigned after training)")
    for figure in sorted((work / "nessler" / "report").glob("*.png")):
        shutil.copy(figure, args.out / f"nessler_{figure.name}")
    shutil.rmtree(work, ignore_errors=True)
    return results


if __name__ == "__main__":
    main()
