"""The loop behind ``spikeforge stdp``: unsupervised Diehl & Cook training with label assignment,
or a hybrid network (a convolution learning by STDP under a readout trained by gradient descent).

Everything random is derived from (seed, epoch, batch), so ``--resume`` from a checkpoint ends
with the same weights as an uninterrupted run (on the CPU). Checkpoints are written atomically
every ``checkpoint_every`` batches and at the end of every epoch.

Diehl & Cook: for every training batch the network runs with STDP and adaptive thresholds on;
``curve_points`` times per epoch the neurons are labelled from the responses since the last
point, and the accuracy of those labels on the next stretch of training inputs (seen before
their labels are used) gives the accuracy curve. At the end of every epoch the current labels
are tested; after training (``assign_pass``) the neurons are labelled from a pass over the
training set without learning, and the test accuracy with those labels is ``test_accuracy``.
"""

from __future__ import annotations

import csv
import math
import os
import time
from pathlib import Path
from typing import Any, Optional

import torch
from torch import Tensor
from tqdm.auto import tqdm

from .. import __version__
from ..data import get_dataset
from ..training.batches import iterate_batches, num_batches
from ..training.checkpoint import atomic_save, load_checkpoint, load_weights, make_checkpoint
from ..training.setup import log
from ..training.trainer import _atomic_json, default_out_dir
from .assign import ResponseAssigner, classify
from .config import STDPConfig


def write_log(path: Path, rows: list[dict]) -> None:
    """``log.csv`` with a column for every key any row has (empty where a row lacks it), atomically."""
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def _batch_generator(seed: int, epoch: int, batch: int, salt: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed((seed * 1_000_003 + epoch * 7_919 + batch * 104_729 + salt) % (2**63))


def _load(cfg: STDPConfig, split: str):
    ds = get_dataset(cfg.dataset, split, data_dir=cfg.data_dir)
    limit = cfg.train_subset if split == "train" else cfg.test_subset
    x, y = ds.inputs, ds.targets
    if limit is not None:
        x, y = x[:limit], y[:limit]
    return x, y, ds.info


def diehl_cook_arguments(cfg: STDPConfig, n_inputs: int, num_classes: int) -> dict[str, Any]:
    return {"n_inputs": n_inputs, "n_neurons": cfg.n_neurons, "num_classes": num_classes, "time": cfg.time,
            "dt": cfg.dt, "max_rate": cfg.max_rate, "tau": cfg.tau, "v_threshold": cfg.v_threshold,
            "theta_plus": cfg.theta_plus, "tau_theta": cfg.tau_theta, "inhibition": cfg.inhibition, "k": cfg.k,
            "a_plus": cfg.a_plus, "a_minus": cfg.a_minus, "tau_plus": cfg.tau_plus, "tau_minus": cfg.tau_minus,
            "trace": cfg.trace, "weight_dependence": cfg.weight_dependence, "w_max": cfg.w_max, "norm": cfg.norm,
            "w_init": cfg.w_init, "reduction": cfg.reduction}


@torch.no_grad()
def collect_counts(model, x_all: Tensor, cfg: STDPConfig, salt: int, show: bool, desc: str) -> Tensor:
    """Spike counts ``[samples, neurons]`` of the excitatory layer without learning."""
    out = []
    steps = -(-x_all.shape[0] // cfg.eval_batch_size)
    for i in tqdm(range(steps), desc=desc, disable=not show, leave=False, dynamic_ncols=True):
        x = x_all[i * cfg.eval_batch_size:(i + 1) * cfg.eval_batch_size]
        out.append(model.run(x, learn=False, generator=_batch_generator(cfg.seed, 0, i, salt)))
    return torch.cat(out)


def _test(model, x_test, y_test, cfg, num_classes, show, labels=None) -> dict:
    counts = collect_counts(model, x_test, cfg, salt=7, show=show, desc="test")
    labels = model.assignments if labels is None else labels
    pred = classify(counts, labels, num_classes)
    confusion = torch.bincount(y_test * num_classes + pred, minlength=num_classes ** 2).view(num_classes, -1)
    return {"accuracy": float((pred == y_test).float().mean()), "counts": counts, "confusion": confusion}


def firing_statistics(counts: Tensor, steps: int, theta: Tensor) -> dict[str, Any]:
    per_neuron = counts.float().mean(0)
    return {"mean_spikes_per_input": float(counts.sum(1).float().mean()),
            "inputs_without_spikes": float((counts.sum(1) == 0).float().mean()),
            "mean_rate_per_step": float(per_neuron.mean() / steps),
            "silent_neurons": float((per_neuron == 0).float().mean()),
            "max_neuron_spikes_per_input": float(per_neuron.max()),
            "theta_mean": float(theta.mean()), "theta_max": float(theta.max())}


def run_stdp(cfg: STDPConfig, resume: Optional[str] = None) -> dict:
    """Train as configured; return the metrics written to ``metrics.json``."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    ckpt = load_checkpoint(resume) if resume else None
    out_dir = Path(cfg.out) if cfg.out else default_out_dir()
    cfg.out = str(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    log(f"writing to {out_dir}")
    if cfg.model == "diehl_cook":
        return _run_diehl_cook(cfg, ckpt, resume, out_dir)
    from .hybrid_runner import run_hybrid

    return run_hybrid(cfg, ckpt, resume, out_dir)


def _run_diehl_cook(cfg: STDPConfig, ckpt: Optional[dict], resume: Optional[str], out_dir: Path) -> dict:
    from ..models.diehl_cook import DiehlCook

    start_wall = time.time()
    x_train, y_train, info = _load(cfg, "train")
    x_test, y_test, _ = _load(cfg, "test")
    n_inputs, classes = math.prod(info.input_shape), info.num_classes
    torch.manual_seed(cfg.seed)
    args = diehl_cook_arguments(cfg, n_inputs, classes)
    model = DiehlCook(**args)
    history: list[dict] = []
    first_epoch, first_batch, train_time = 0, 0, 0.0
    window = ResponseAssigner(cfg.n_neurons, classes)
    tally = [0, 0]  # correct, seen in the current curve window
    if ckpt is not None:
        load_weights(model, ckpt["state_dict"], source=resume)
        history = list(ckpt.get("history", []))
        first_epoch, first_batch = int(ckpt["epoch"]), int(ckpt["next_batch"])
        train_time = float(ckpt.get("train_time_s", 0.0))
        window.sums.copy_(ckpt["window_sums"])
        window.samples.copy_(ckpt["window_samples"])
        tally = list(ckpt["window_tally"])
        log(f"resuming from {resume} at epoch {first_epoch + 1}, batch {first_batch}")
    steps = num_batches(x_train.shape[0], cfg.batch_size)
    marks = sorted({max(1, round(steps * (i + 1) / cfg.curve_points)) for i in range(cfg.curve_points)})
    log(f"{cfg.dataset}: {x_train.shape[0]} train / {x_test.shape[0]} test, Diehl & Cook with {cfg.n_neurons} neurons, "
        f"{model.steps} steps of {cfg.dt} ms per input, batch {cfg.batch_size}")

    def save(epoch: int, next_batch: int) -> None:
        state = make_checkpoint(model, "diehl_cook", args, cfg.to_dict(), epoch=epoch, next_batch=next_batch,
                                history=history, train_time_s=train_time, window_sums=window.sums.clone(),
                                window_samples=window.samples.clone(), window_tally=list(tally))
        atomic_save(state, out_dir / "checkpoint.pt")

    stopped = False
    for epoch in range(first_epoch, cfg.epochs):
        batches = list(iterate_batches(x_train, y_train, cfg.batch_size, shuffle=True, seed=cfg.seed, epoch=epoch))
        start = first_batch if epoch == first_epoch else 0
        bar = tqdm(range(start, steps), initial=start, total=steps, desc=f"epoch {epoch + 1}/{cfg.epochs}",
                   leave=False, dynamic_ncols=True)
        t0 = time.time()
        for i in bar:
            x, y = batches[i]
            counts = model.run(x, learn=True, generator=_batch_generator(cfg.seed, epoch, i))
            pred = model.predict(counts)
            tally[0] += int((pred == y).sum())
            tally[1] += y.numel()
            window.add(counts, y)
            if i + 1 in marks:
                history.append({"epoch": epoch + (i + 1) / steps, "samples": epoch * x_train.shape[0] + min(
                    (i + 1) * cfg.batch_size, x_train.shape[0]), "train_accuracy": tally[0] / max(tally[1], 1),
                    "mean_spikes": float(window.sums.sum() / window.samples.sum().clamp(min=1))})
                model.assign(window)
                window.clear()
                tally = [0, 0]
                bar.set_postfix(acc=f"{100 * history[-1]['train_accuracy']:.1f}%",
                                theta=f"{float(model.theta.mean()):.2f}")
            elapsed = train_time + time.time() - t0
            if (i + 1) % cfg.checkpoint_every == 0 and i + 1 < steps:
                save(epoch, i + 1)
            if cfg.time_limit is not None and elapsed > cfg.time_limit * 60 and i + 1 < steps:
                log(f"stopping in epoch {epoch + 1} after batch {i + 1}: past the time limit of {cfg.time_limit} min")
                train_time, stopped = elapsed, True
                save(epoch, i + 1)
                break
        if stopped:
            break
        train_time += time.time() - t0
        te = _test(model, x_test, y_test, cfg, classes, show=True)
        history[-1]["test_accuracy"] = te["accuracy"]
        history[-1]["epoch_time_s"] = time.time() - t0
        log(f"epoch {epoch + 1}/{cfg.epochs}: running train accuracy {100 * history[-1]['train_accuracy']:.2f}% | "
            f"test accuracy {100 * te['accuracy']:.2f}% (labels from the last stretch) | {time.time() - t0:.1f} s")
        save(epoch + 1, 0)
        write_log(out_dir / "log.csv", history)

    assign_time = 0.0
    if cfg.assign_pass:
        t1 = time.time()
        assigner = ResponseAssigner(cfg.n_neurons, classes)
        assigner.add(collect_counts(model, x_train, cfg, salt=5, show=True, desc="assign"), y_train)
        model.assign(assigner)
        assign_time = time.time() - t1
    final = _test(model, x_test, y_test, cfg, classes, show=True)
    stats = firing_statistics(final["counts"], model.steps, model.theta)
    labels = model.assignments
    metrics = {
        "test_accuracy": final["accuracy"],
        "labelled_from": "a pass over the training set without learning" if cfg.assign_pass else "the last stretch",
        "epochs_run": len(history) and max(math.ceil(h["epoch"] - 1e-9) for h in history),
        "stopped_early": stopped,
        "history": history,
        "firing": stats,
        "neurons_per_class": torch.bincount(labels[labels >= 0], minlength=classes).tolist(),
        "unlabelled_neurons": int((labels < 0).sum()),
        "train_time_s": train_time,
        "assign_time_s": assign_time,
        "wall_time_s": time.time() - start_wall,
        "steps_per_input": model.steps,
        "simulated_ms_per_input": model.steps * cfg.dt,
        "dataset": cfg.dataset,
        "model": "diehl_cook",
        "model_args": args,
        "config": cfg.to_dict(),
        "spikeforge_version": __version__,
        "torch_version": torch.__version__,
    }
    _atomic_json(out_dir / "metrics.json", metrics)
    save(cfg.epochs if not stopped else epoch, 0 if not stopped else i + 1)
    if cfg.report:
        from .report import diehl_cook_report

        try:
            path = diehl_cook_report(model, out_dir, cfg, info, final, metrics)
            log(f"report written to {path}")
        except Exception as err:  # a report must never lose a finished run
            log(f"report skipped ({type(err).__name__}: {err})")
    log(f"test accuracy {100 * final['accuracy']:.2f}%, {train_time / 60:.1f} min of training; results in {out_dir}")
    return metrics
