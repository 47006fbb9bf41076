"""The run behind ``spikesmith convert``: a trained ANN twin converted to SNNs, accuracy against T.

On the skeleton of :mod:`spikesmith.run.skeleton`: config (``ConvertConfig``), seed (of the choice of
calibration samples), data (the checkpoint's dataset), model (the ANN), loop (the sweep of
:mod:`spikesmith.conversion.sweep`), then the converted network of each method at the largest T
(``converted_<method>.pt``), the results (``conversion.json``) and the report (``accuracy_vs_T.png``),
every file written atomically.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import torch

from ..conversion import save_converted
from ..conversion.evaluate import ann_accuracy
from ..conversion.sweep import sweep, variants
from ..training.setup import load_split
from .skeleton import Run

RESULTS = "conversion.json"
PLOT = "accuracy_vs_T.png"


@dataclass
class ConvertConfig:
    """What ``spikesmith convert`` does; the defaults are the command's."""

    checkpoint: str                                   # an ANN twin's checkpoint.pt (spikesmith train --ann)
    methods: tuple = ("light", "advanced")            # presets of spikesmith.conversion.PRESETS
    T: tuple = (4, 8, 16, 32, 64)                     # time steps measured
    calib_samples: int = 512                          # unlabeled training samples for calibration
    test_samples: Optional[int] = None                # the first K test samples only
    dataset: Optional[str] = None                     # None: the checkpoint's
    data_dir: Optional[str] = None
    batch_size: Optional[int] = None                  # evaluation batch (None: 4096 / T)
    options: dict = field(default_factory=dict)       # conversion options (per_channel, max_pool, ...)
    weights: bool = False                             # add weight calibration to the advanced method
    no_bias: bool = False                             # also convert every method without biases
    seed: int = 0                                     # of the choice of calibration samples
    out: Optional[str] = None                         # None: <checkpoint folder>/conversion
    report: bool = True                               # the plot

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def convert_checkpoint(cfg: ConvertConfig, loaded) -> dict:
    """Convert as configured; return the summary written to ``conversion.json``.

    ``loaded`` is ``spikesmith.loading.open_checkpoint(cfg.checkpoint)``: the ANN twin with its run's
    config (the loader sits above the run layer, so the caller opens the file). ``summary["results"]``
    maps each variant's label to its row (see ``conversion.sweep.sweep``).
    """
    steps = sorted(set(cfg.T))
    if not steps or steps[0] < 1:
        raise ValueError(f"T must list positive integers, got {cfg.T!r}")
    todo = variants(cfg.methods, cfg.options, no_bias=cfg.no_bias, weights=cfg.weights)   # config
    if cfg.calib_samples < 1:
        raise ValueError(f"--calib-samples must be >= 1, got {cfg.calib_samples}")

    if loaded.kind != "trained" or not loaded.model_args.get("ann", False):                # model
        what = "an SNN" if loaded.kind == "trained" else f"a {loaded.kind} network"
        raise ValueError(f"{cfg.checkpoint} holds {what} ({loaded.model_name}); convert needs an ANN twin trained "
                         f"with spikesmith train --ann true")
    ann, ckpt = loaded.net, loaded.checkpoint
    data_cfg = loaded.config
    if cfg.dataset:
        data_cfg.dataset = cfg.dataset
    if cfg.data_dir:
        data_cfg.data_dir = cfg.data_dir
    data_cfg.train_subset, data_cfg.test_subset = None, cfg.test_samples
    x_train, _, info = load_split(data_cfg, "train")                                      # data
    if info.temporal:
        raise ValueError(f"dataset {data_cfg.dataset!r} is temporal; conversion works on static inputs (images)")
    gen = torch.Generator().manual_seed(cfg.seed)                                          # seed
    x_calib = x_train[torch.randperm(x_train.shape[0], generator=gen)[: cfg.calib_samples]]
    x_test, y_test, _ = load_split(data_cfg, "test")
    run = Run(cfg, out=Path(cfg.checkpoint).resolve().parent / "conversion")
    source = {"model_name": ckpt["model_name"], "model_args": dict(ckpt["model_args"])}

    ann_acc = ann_accuracy(ann, x_test, y_test)
    run.log(f"ANN {ckpt['model_name']} ({ckpt['model_args'].get('activation', 'relu')}): test accuracy "
            f"{100 * ann_acc:.2f}% on {x_test.shape[0]} samples; calibrating on {x_calib.shape[0]} training samples")
    results: dict[str, dict] = {}
    for done in sweep(ann, x_calib, x_test, y_test, steps, todo, cfg.batch_size, source, log=run.log):   # loop
        results[done.label] = done.row
        save_converted(done.snn, run.out_dir / f"converted_{done.variant.file_stem}.pt",             # checkpoints
                       ann_test_accuracy=ann_acc, test_accuracy=dict(done.row["accuracy"]),
                       config={**ckpt["config"], "dataset": data_cfg.dataset, "data_dir": data_cfg.data_dir,
                               "T": done.snn.T})

    summary = {"checkpoint": str(cfg.checkpoint), "model_name": ckpt["model_name"],                 # metrics
               "model_args": source["model_args"], "dataset": data_cfg.dataset,
               "test_samples": int(x_test.shape[0]), "calib_samples": int(x_calib.shape[0]),
               "ann_accuracy": ann_acc, "T": steps, "results": results, "torch_threads": torch.get_num_threads()}

    def report() -> Path:                                                                            # report
        from ..viz import plot_accuracy_vs_T

        return plot_accuracy_vs_T(results, ann_acc, steps, run.out_dir / PLOT,
                                  f"{ckpt['model_name']} on {data_cfg.dataset}: converted SNN vs T")

    return run.finish(summary, f"{len(results)} conversion(s) at T={','.join(map(str, steps))}", report=report,
                      metrics_file=RESULTS)
