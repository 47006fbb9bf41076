"""The run behind ``spikesmith stdp --model nessler``: Nessler et al.'s (2013) stochastic WTA
circuit trained by probabilistic STDP without labels, then labelled as Diehl & Cook's neurons are
(:mod:`spikesmith.learning.assign`): each neuron gets the class it fires most for on a pass over
the training set without learning (its first ``assign_subset`` images), and a test image is
classified by the labelled group that fired most.

Everything random is derived from (seed, epoch, batch), so ``--resume`` from a checkpoint ends
with the same weights as an uninterrupted run (on the CPU). Checkpoints are written atomically
every ``checkpoint_every`` batches and at the end of every epoch.
"""

from __future__ import annotations

import math
import time
from typing import Any

import torch
from tqdm.auto import tqdm

from ..learning.assign import VOTES, ResponseAssigner
from ..models.nessler import NesslerWTA
from ..training.batches import iterate_batches, num_batches
from .diehl_cook import collect_counts
from .skeleton import Run
from .stdp_config import STDPConfig
from .stdp_data import load_images


def nessler_arguments(cfg: STDPConfig, n_inputs: int, num_classes: int) -> dict[str, Any]:
    return {"n_inputs": n_inputs, "n_neurons": cfg.n_neurons, "num_classes": num_classes, "time": cfg.time,
            "dt": cfg.dt, "max_rate": cfg.max_rate, "wta_rate": cfg.wta_rate, "sigma": cfg.sigma, "c": cfg.c,
            "eta": cfg.eta, "eta_bias": cfg.eta_bias, "p_min": cfg.p_min, "homeostasis": cfg.homeostasis}


def _test(model: NesslerWTA, x, y, cfg: STDPConfig, classes: int, show: bool) -> dict:
    counts = collect_counts(model, x, cfg, salt=7, show=show, desc="test")
    by_vote = {vote: model.predict(counts, vote) for vote in VOTES}
    pred = by_vote[cfg.vote]
    confusion = torch.bincount(y * classes + pred, minlength=classes ** 2).view(classes, -1)
    return {"accuracy": float((pred == y).float().mean()), "counts": counts, "confusion": confusion,
            "by_vote": {vote: float((p == y).float().mean()) for vote, p in by_vote.items()}}


def run_nessler(run: Run) -> dict:
    """Train the stochastic WTA as ``run.cfg`` says; return the metrics written to ``metrics.json``."""
    from .stdp_data import batch_generator

    cfg, ctx = run.cfg, run.ctx
    if ctx.world_size > 1:
        raise ValueError("--model nessler learns at every output spike on one process; run it without torchrun")
    x_train, y_train, info = load_images(cfg, "train")            # data
    x_test, y_test, _ = load_images(cfg, "test")
    n_inputs, classes = math.prod(info.input_shape), info.num_classes
    run.seed()                                                     # seed, model
    args = nessler_arguments(cfg, n_inputs, classes)
    model = NesslerWTA(**args)
    history: list[dict] = []
    first_epoch, first_batch, train_time = 0, 0, 0.0
    ckpt = run.restore_weights(model, "nessler", args)             # resume
    if ckpt is not None:
        history = list(ckpt.get("history", []))
        first_epoch, first_batch = int(ckpt["epoch"]), int(ckpt["next_batch"])
        train_time = float(ckpt.get("train_time_s", 0.0))
        run.log(f"resuming from {run.resume} at epoch {first_epoch + 1}, batch {first_batch}")
    steps = num_batches(x_train.shape[0], cfg.batch_size, 1)
    run.log(f"{cfg.dataset}: {x_train.shape[0]} train / {x_test.shape[0]} test, Nessler stochastic WTA with "
            f"{cfg.n_neurons} neurons, {model.steps} steps of {cfg.dt} ms per input, circuit rate {cfg.wta_rate} Hz, "
            f"batch {cfg.batch_size}")

    def save(epoch: int, next_batch: int) -> None:                 # checkpoint
        run.save_checkpoint(model, "nessler", args, epoch=epoch, next_batch=next_batch, history=history,
                            train_time_s=train_time)

    stopped, spikes = False, 0.0
    for epoch in range(first_epoch, cfg.epochs):                   # loop
        batches = list(iterate_batches(x_train, y_train, cfg.batch_size, shuffle=True, seed=cfg.seed, epoch=epoch))
        start = first_batch if epoch == first_epoch else 0
        bar = tqdm(range(start, steps), initial=start, total=steps, desc=f"epoch {epoch + 1}/{cfg.epochs}",
                   leave=False, dynamic_ncols=True, disable=not run.is_main)
        t0, spikes, seen = time.time(), 0.0, 0
        for i in bar:
            x, _ = batches[i]
            counts = model.run(x, learn=True, generator=batch_generator(cfg.seed, epoch, i))
            spikes, seen = spikes + float(counts.sum()), seen + x.shape[0]
            elapsed = train_time + time.time() - t0
            if (i + 1) % cfg.checkpoint_every == 0 and i + 1 < steps:
                save(epoch, i + 1)
            if cfg.time_limit is not None and elapsed > cfg.time_limit * 60 and i + 1 < steps:
                run.log(f"stopping in epoch {epoch + 1} after batch {i + 1}: past the time limit of "
                        f"{cfg.time_limit} min")
                train_time, stopped = elapsed, True
                history.append({"epoch": epoch + (i + 1) / steps, "samples": epoch * x_train.shape[0] + seen,
                                "mean_spikes": spikes / max(seen, 1), "epoch_time_s": time.time() - t0,
                                "bias_spread": float(model.bias.max() - model.bias.min())})
                save(epoch, i + 1)
                break
        if stopped:
            break
        train_time += time.time() - t0
        history.append({"epoch": epoch + 1, "samples": (epoch + 1) * x_train.shape[0],
                        "mean_spikes": spikes / max(seen, 1), "epoch_time_s": time.time() - t0,
                        "bias_spread": float(model.bias.max() - model.bias.min())})
        run.log(f"epoch {epoch + 1}/{cfg.epochs}: {spikes / max(seen, 1):.1f} output spikes per input | "
                f"{time.time() - t0:.1f} s")
        run.write_history(history)
        save(epoch + 1, 0)

    t1 = time.time()                                               # labels, then the test
    assigner = ResponseAssigner(cfg.n_neurons, classes)
    n = x_train.shape[0] if cfg.assign_subset is None else min(cfg.assign_subset, x_train.shape[0])
    assigner.add(collect_counts(model, x_train[:n], cfg, salt=5, show=run.is_main, desc="assign"), y_train[:n])
    labels = model.assign(assigner)
    assign_time = time.time() - t1
    final = _test(model, x_test, y_test, cfg, classes, show=run.is_main)
    metrics = {                                                    # metrics
        "test_accuracy": final["accuracy"],
        "vote": cfg.vote,
        "test_accuracy_by_vote": final["by_vote"],
        "labelled_from": f"a pass over {n} training images without learning",
        "epochs_run": len(history) and math.ceil(history[-1]["epoch"] - 1e-9),
        "samples_seen": history[-1]["samples"] if history else 0,
        "stopped_early": stopped,
        "history": history,
        "mean_spikes_per_input": float(final["counts"].sum(1).mean()),
        "neurons_per_class": torch.bincount(labels[labels >= 0], minlength=classes).tolist(),
        "unlabelled_neurons": int((labels < 0).sum()),
        "train_time_s": train_time,
        "assign_time_s": assign_time,
        "steps_per_input": model.steps,
        "simulated_ms_per_input": model.steps * cfg.dt,
        **run.stamp("nessler", args),
    }
    if not stopped:
        save(cfg.epochs, 0)

    def report():                                                  # report
        from .stdp_report import nessler_report

        return nessler_report(model, run.out_dir, cfg, info, final, metrics)

    return run.finish(metrics, f"test accuracy {100 * final['accuracy']:.2f}%, {train_time / 60:.1f} min of training",
                      report=report)
