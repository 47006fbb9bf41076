"""The run behind ``spikesmith stdp --model diehl_cook``: unsupervised Diehl & Cook training with
label assignment, on the skeleton of :mod:`spikesmith.run.skeleton`.

Everything random is derived from (seed, epoch, batch, rank), so ``--resume`` from a checkpoint
ends with the same weights as an uninterrupted run (on the CPU). Checkpoints are written atomically
every ``checkpoint_every`` batches and at the end of every epoch.

Diehl & Cook: for every training batch the network runs with STDP and adaptive thresholds on;
``curve_points`` times per epoch the neurons are labelled from the responses since the last
point, and the accuracy of those labels on the next stretch of training inputs (seen before
their labels are used) gives the accuracy curve. At the end of every epoch the current labels
are tested; after training (``assign_pass``) the neurons are labelled from a pass over the
training set (its first ``assign_subset`` images) without learning, and the test accuracy with
those labels is ``test_accuracy``.

Under torchrun each replica simulates its own ``batch_size`` inputs of every batch; the learner
and the thresholds combine the replicas' changes as they combine a batch's (``reduction``), the
label statistics and test counts are summed over the replicas, and rank 0 writes the files.
"""

from __future__ import annotations

import math
import time
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor
from tqdm.auto import tqdm

from ..learning.assign import VOTES, ResponseAssigner
from ..models.diehl_cook import DiehlCook
from ..training.batches import iterate_batches, num_batches
from .skeleton import Run
from .stdp_config import STDPConfig
from .stdp_data import batch_generator, load_images


def _sum_over_ranks(*tensors: Tensor) -> None:
    """In place: every tensor becomes the sum of its values over the replicas (no-op without torchrun)."""
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        for t in tensors:
            dist.all_reduce(t)


def diehl_cook_arguments(cfg: STDPConfig, n_inputs: int, num_classes: int) -> dict[str, Any]:
    return {"n_inputs": n_inputs, "n_neurons": cfg.n_neurons, "num_classes": num_classes, "time": cfg.time,
            "dt": cfg.dt, "max_rate": cfg.max_rate, "tau": cfg.tau, "v_threshold": cfg.v_threshold,
            "theta_plus": cfg.theta_plus, "tau_theta": cfg.tau_theta, "inhibition": cfg.inhibition, "k": cfg.k,
            "a_plus": cfg.a_plus, "a_minus": cfg.a_minus, "tau_plus": cfg.tau_plus, "tau_minus": cfg.tau_minus,
            "trace": cfg.trace, "weight_dependence": cfg.weight_dependence, "w_max": cfg.w_max, "norm": cfg.norm,
            "w_init": cfg.w_init, "reduction": cfg.reduction,
            "input_norm": cfg.input_norm}


@torch.no_grad()
def collect_counts(model, x_all: Tensor, cfg: STDPConfig, salt: int, show: bool, desc: str, rank: int = 0,
                   world_size: int = 1) -> Tensor:
    """Spike counts ``[samples, neurons]`` of the excitatory layer without learning.

    Under torchrun each replica runs every ``world_size``-th batch and the counts are summed over
    the replicas, so every replica returns all of them.
    """
    out = torch.zeros(x_all.shape[0], model.n_neurons)
    steps = -(-x_all.shape[0] // cfg.eval_batch_size)
    for i in tqdm(range(rank, steps, world_size), desc=desc, disable=not show, leave=False, dynamic_ncols=True):
        rows = slice(i * cfg.eval_batch_size, (i + 1) * cfg.eval_batch_size)
        out[rows] = model.run(x_all[rows], learn=False, generator=batch_generator(cfg.seed, 0, i, salt=salt))
    _sum_over_ranks(out)
    return out


def _test(model, x_test, y_test, cfg, num_classes, show, ctx) -> dict:
    counts = collect_counts(model, x_test, cfg, salt=7, show=show, desc="test", rank=ctx.rank,
                            world_size=ctx.world_size)
    by_vote = {vote: model.predict(counts, vote) for vote in VOTES}
    pred = by_vote[cfg.vote]
    confusion = torch.bincount(y_test * num_classes + pred, minlength=num_classes ** 2).view(num_classes, -1)
    return {"accuracy": float((pred == y_test).float().mean()), "counts": counts, "confusion": confusion,
            "by_vote": {vote: float((p == y_test).float().mean()) for vote, p in by_vote.items()}}


def firing_statistics(counts: Tensor, steps: int, theta: Tensor) -> dict[str, Any]:
    per_neuron = counts.float().mean(0)
    return {"mean_spikes_per_input": float(counts.sum(1).float().mean()),
            "inputs_without_spikes": float((counts.sum(1) == 0).float().mean()),
            "mean_rate_per_step": float(per_neuron.mean() / steps),
            "silent_neurons": float((per_neuron == 0).float().mean()),
            "max_neuron_spikes_per_input": float(per_neuron.max()),
            "theta_mean": float(theta.mean()), "theta_max": float(theta.max())}


def run_diehl_cook(run: Run) -> dict:
    """Train the Diehl & Cook network as ``run.cfg`` says; return the metrics written to ``metrics.json``."""
    cfg, ctx = run.cfg, run.ctx
    main = ctx.is_main
    x_train, y_train, info = load_images(cfg, "train")            # data
    x_test, y_test, _ = load_images(cfg, "test")
    n_inputs, classes = math.prod(info.input_shape), info.num_classes
    run.seed()                                                     # seed, model
    args = diehl_cook_arguments(cfg, n_inputs, classes)
    model = DiehlCook(**args)
    history: list[dict] = []
    first_epoch, first_batch, train_time = 0, 0, 0.0
    window = ResponseAssigner(cfg.n_neurons, classes)
    tally = [0, 0]  # correct, seen in the current curve window
    ckpt = run.restore_weights(model, "diehl_cook", args)          # resume
    if ckpt is not None:
        history = list(ckpt.get("history", []))
        first_epoch, first_batch = int(ckpt["epoch"]), int(ckpt["next_batch"])
        train_time = float(ckpt.get("train_time_s", 0.0))
        for key, own in (("window_sums", window.sums), ("window_samples", window.samples)):
            if ckpt[key].shape != own.shape:
                raise ValueError(f"cannot resume {run.resume}: its {key} has shape {list(ckpt[key].shape)}, the "
                                 f"network's {list(own.shape)}; it was edited or damaged")
        window.sums.copy_(ckpt["window_sums"])
        window.samples.copy_(ckpt["window_samples"])
        tally = list(ckpt["window_tally"])
        run.log(f"resuming from {run.resume} at epoch {first_epoch + 1}, batch {first_batch}")
    steps = num_batches(x_train.shape[0], cfg.batch_size, ctx.world_size)
    marks = sorted({max(1, round(steps * (i + 1) / cfg.curve_points)) for i in range(cfg.curve_points)})
    run.log(f"{cfg.dataset}: {x_train.shape[0]} train / {x_test.shape[0]} test, Diehl & Cook with {cfg.n_neurons} "
            f"neurons, {model.steps} steps of {cfg.dt} ms per input, batch {cfg.batch_size} x {ctx.world_size} "
            f"replica(s)")

    def save(epoch: int, next_batch: int) -> None:                 # checkpoint
        run.save_checkpoint(model, "diehl_cook", args, epoch=epoch, next_batch=next_batch, history=history,
                            train_time_s=train_time, window_sums=window.sums.clone(),
                            window_samples=window.samples.clone(), window_tally=list(tally))

    stopped = False
    for epoch in range(first_epoch, cfg.epochs):                   # loop
        batches = list(iterate_batches(x_train, y_train, cfg.batch_size, shuffle=True, seed=cfg.seed, epoch=epoch,
                                       rank=ctx.rank, world_size=ctx.world_size))
        start = first_batch if epoch == first_epoch else 0
        bar = tqdm(range(start, steps), initial=start, total=steps, desc=f"epoch {epoch + 1}/{cfg.epochs}",
                   leave=False, dynamic_ncols=True, disable=not main)
        t0 = time.time()
        for i in bar:
            x, y = batches[i]
            counts = model.run(x, learn=True, generator=batch_generator(cfg.seed, epoch, i, rank=ctx.rank))
            pred = model.predict(counts, cfg.vote)
            seen = ResponseAssigner(cfg.n_neurons, classes)
            seen.add(counts, y)
            elapsed = train_time + time.time() - t0
            over = cfg.time_limit is not None and elapsed > cfg.time_limit * 60 and i + 1 < steps
            hits = torch.tensor([float((pred == y).sum()), float(y.numel()), float(over)], dtype=torch.float64)
            _sum_over_ranks(seen.sums, seen.samples, hits)     # every replica keeps the whole window
            window.sums += seen.sums
            window.samples += seen.samples
            tally = [tally[0] + int(hits[0]), tally[1] + int(hits[1])]
            if i + 1 in marks:
                history.append({"epoch": epoch + (i + 1) / steps, "samples": epoch * x_train.shape[0] + min(
                    (i + 1) * cfg.batch_size * ctx.world_size, x_train.shape[0]),
                    "train_accuracy": tally[0] / max(tally[1], 1),
                    "mean_spikes": float(window.sums.sum() / window.samples.sum().clamp(min=1))})
                model.assign(window)
                window.clear()
                tally = [0, 0]
                bar.set_postfix(acc=f"{100 * history[-1]['train_accuracy']:.1f}%",
                                theta=f"{float(model.theta.mean()):.2f}")
            if (i + 1) % cfg.checkpoint_every == 0 and i + 1 < steps:
                save(epoch, i + 1)
            if hits[2] > 0:                                      # any replica past the limit: all stop here
                run.log(f"stopping in epoch {epoch + 1} after batch {i + 1}: past the time limit of "
                        f"{cfg.time_limit} min")
                train_time, stopped = elapsed, True
                save(epoch, i + 1)
                break
        if stopped:
            break
        train_time += time.time() - t0
        te = _test(model, x_test, y_test, cfg, classes, show=main, ctx=ctx)
        history[-1]["test_accuracy"] = te["accuracy"]
        history[-1]["epoch_time_s"] = time.time() - t0
        run.log(f"epoch {epoch + 1}/{cfg.epochs}: running train accuracy {100 * history[-1]['train_accuracy']:.2f}% "
                f"| test accuracy {100 * te['accuracy']:.2f}% (labels from the last stretch) | {time.time() - t0:.1f} s")
        run.write_history(history)
        save(epoch + 1, 0)

    assign_time, n = 0.0, 0
    if cfg.assign_pass:
        t1 = time.time()
        assigner = ResponseAssigner(cfg.n_neurons, classes)
        n = x_train.shape[0] if cfg.assign_subset is None else min(cfg.assign_subset, x_train.shape[0])
        assigner.add(collect_counts(model, x_train[:n], cfg, salt=5, show=main, desc="assign", rank=ctx.rank,
                                    world_size=ctx.world_size), y_train[:n])
        model.assign(assigner)
        assign_time = time.time() - t1
    final = _test(model, x_test, y_test, cfg, classes, show=main, ctx=ctx)
    stats = firing_statistics(final["counts"], model.steps, model.theta)
    labels = model.assignments
    metrics = {                                                    # metrics
        "test_accuracy": final["accuracy"],
        "vote": cfg.vote,
        "test_accuracy_by_vote": final["by_vote"],
        "labelled_from": (f"a pass over {n} training images without learning" if cfg.assign_pass
                          else "the last stretch"),
        "epochs_run": len(history) and max(math.ceil(h["epoch"] - 1e-9) for h in history),
        "stopped_early": stopped,
        "history": history,
        "firing": stats,
        "neurons_per_class": torch.bincount(labels[labels >= 0], minlength=classes).tolist(),
        "unlabelled_neurons": int((labels < 0).sum()),
        "train_time_s": train_time,
        "assign_time_s": assign_time,
        "steps_per_input": model.steps,
        "simulated_ms_per_input": model.steps * cfg.dt,
        **run.stamp("diehl_cook", args),
    }
    save(cfg.epochs if not stopped else epoch, 0 if not stopped else i + 1)

    def report():                                                  # report
        from .stdp_report import diehl_cook_report

        return diehl_cook_report(model, run.out_dir, cfg, info, final, metrics)

    return run.finish(metrics, f"test accuracy {100 * final['accuracy']:.2f}%, {train_time / 60:.1f} min of training",
                      report=report)
