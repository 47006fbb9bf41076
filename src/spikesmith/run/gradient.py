"""The run behind ``spikesmith train``: a network trained by gradient descent (surrogate gradients,
or its ANN twin), on the skeleton of :mod:`spikesmith.run.skeleton`.

Everything random is derived from (seed, epoch), so ``--resume`` after a killed run ends with the
same weights as an uninterrupted run (on the CPU).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Optional

import torch
from torch import nn

from ..learning.feedback import attach_feedback, check_feedback
from ..training.batches import num_batches
from ..training.config import TrainConfig
from ..training.distributed import DistContext
from ..training.online import check_online
from ..training.setup import build, describe_model, load_split, make_optimizer, make_schedule, pick_device, resolve_defaults
from ..training.trainer import evaluate, materialize, start_epoch, train_epoch
from . import resume as resume_rules
from .phases import phases_for
from .readout_fit import FEATURE_READOUTS, fit_feature_readout
from .skeleton import Run


def train(cfg: TrainConfig, resume: Optional[str] = None, dist: Optional[Any] = None,
          allow_nonfinite: bool = False) -> dict:
    """Train as configured; return the metrics written to ``metrics.json``.

    ``resume`` continues from a ``checkpoint.pt`` of an earlier run (checked by ``run.resume.GRADIENT``:
    options that may not change, finite weights unless ``allow_nonfinite``); ``dist`` is a
    :class:`~spikesmith.training.distributed.DistContext` (default: from the ``torchrun`` environment).
    """
    ctx = dist or DistContext.from_env(cfg.dist_timeout)
    with ctx.unresponsive_ranks_named():   # a rank that stops answering ends the job, named
        return _train(cfg, resume, ctx, allow_nonfinite)


def _train(cfg: TrainConfig, resume: Optional[str], ctx: DistContext, allow_nonfinite: bool) -> dict:
    cfg = resolve_defaults(cfg)                                   # config
    from ..models import MODELS

    check_feedback(cfg.feedback, MODELS.get(cfg.model), cfg.model, cfg.rate_reg)   # before the data loads
    check_online(cfg.online, cfg.model, ann=cfg.ann, feedback=cfg.feedback, rate_reg=cfg.rate_reg, sltt_k=cfg.sltt_k,
                 world_size=ctx.world_size)
    run = Run(cfg, resume, ctx, rules=resume_rules.GRADIENT, allow_nonfinite=allow_nonfinite)
    if cfg.reuse_memory:
        from ..kernels import reuse_freed_memory

        reuse_freed_memory()
    device = ctx.device if ctx.enabled else pick_device(cfg.device)

    x_train, y_train, info = load_split(cfg, "train")              # data
    x_test, y_test, _ = load_split(cfg, "test")
    temporal = info.temporal
    run.seed()                                                     # seed, model
    model, model_args = build(cfg, tuple(info.input_shape), info.num_classes, temporal)
    model.to(device)
    materialize(model, x_train[:1].to(device), cfg, temporal)      # lazily shaped parameters, before the optimizer
    if cfg.channels_last and any(isinstance(m, nn.Conv2d) for m in model.modules()):
        # NHWC where the family's run_defaults choose it from a measurement (bench_convnet.py --models:
        # resnet on; csnn and vgg, whose flatten and max-pool backward copy NHWC to NCHW, off); the
        # neuron kernels keep either layout, and checkpoints load into either
        model.to(memory_format=torch.channels_last)
    attach_feedback(model, cfg.feedback, seed=cfg.seed)           # bp: nothing; fa / dfa: random feedback
    if model in FEATURE_READOUTS:                                   # a fixed network: only its readout is fitted
        return _fit_readout_run(run, cfg, ctx, model, model_args, info, device, x_train, y_train, x_test, y_test)
    ckpt = run.restore_weights(model, cfg.model, model_args)       # resume
    phases = phases_for(model)                                     # the family's phases (run.phases)
    phase_metrics = dict(ckpt.get("phase_metrics") or {}) if ckpt is not None else \
        phases.prepare(model, x_train, y_train, cfg, run, device)  # e.g. pre-training, before the first epoch
    trained, epoch_cfg = phases.supervised(model, cfg)             # what the epochs train and test
    net = ctx.wrap(trained)
    steps_per_epoch = num_batches(x_train.shape[0], cfg.batch_size, ctx.world_size)
    opt = make_optimizer(epoch_cfg, net)
    sched = make_schedule(cfg, opt, steps_per_epoch)
    history: list[dict] = []
    first_epoch = 0
    elapsed_before = 0.0
    if ckpt is not None:
        opt.load_state_dict(ckpt["optimizer"])
        if sched is not None and ckpt.get("scheduler"):
            _check_schedule(cfg, ckpt, sched, resume)
            sched.load_state_dict(ckpt["scheduler"])
        history = list(ckpt.get("history", []))
        first_epoch = int(ckpt["epoch"]) + 1
        elapsed_before = float(ckpt.get("train_time_s", 0.0))
        run.log(f"resuming from {resume} after epoch {first_epoch}")
    n_params = sum(p.numel() for p in net.parameters())
    run.log(f"{cfg.dataset}: {x_train.shape[0]} train / {x_test.shape[0]} test, model {cfg.model} "
            f"({describe_model(cfg) + ('' if cfg.feedback == 'bp' else f', feedback {cfg.feedback}') + ('' if not cfg.online else f', online {cfg.online}' + ('' if cfg.sltt_k is None else f' (K={cfg.sltt_k})')) + ('' if cfg.ann else ', ' + (f'T={info.input_shape[0]} from the data' if temporal else f'T={cfg.T}, encoder {cfg.encoder}'))}), "
            f"{n_params:,} parameters, device {device}")

    writer = _tensorboard_writer(run.out_dir) if cfg.tensorboard and ctx.is_main else None
    train_time = elapsed_before
    for epoch in range(first_epoch, cfg.epochs):                   # loop
        t0 = time.time()
        start_epoch(model, epoch, cfg.epochs)                      # per-epoch schedules (learnable delays' sigma)
        tr = train_epoch(net, opt, sched, x_train, y_train, epoch_cfg, temporal, device, epoch, ctx.rank,
                         ctx.world_size, show=ctx.is_main)
        tr = ctx.reduce_metrics(tr)
        train_time += time.time() - t0
        te = evaluate(net, x_test, y_test, epoch_cfg, temporal, device, info.num_classes, ctx.rank, ctx.world_size)
        te = ctx.reduce_metrics(te)
        row = {"epoch": epoch + 1, "train_loss": tr["loss"], "train_accuracy": tr["accuracy"], "test_loss": te["loss"],
               "test_accuracy": te["accuracy"], "lr": opt.param_groups[0]["lr"], "epoch_time_s": time.time() - t0,
               "mean_firing_rate": (sum(te["firing_rates"].values()) / len(te["firing_rates"])) if te["firing_rates"] else None}
        if cfg.nonfinite_loss == "skip":
            row["skipped_batches"] = tr["skipped_batches"]  # the same on every rank: they skip together
        history.append(row)
        run.log(f"epoch {epoch + 1}/{cfg.epochs}: train loss {tr['loss']:.4f} acc {100 * tr['accuracy']:.2f}% | "
                f"test loss {te['loss']:.4f} acc {100 * te['accuracy']:.2f}% | {row['epoch_time_s']:.1f} s")
        state = {"epoch": epoch, "history": history, "optimizer": opt.state_dict(),
                 "scheduler": sched.state_dict() if sched else None, "train_time_s": train_time,
                 "test_accuracy": te["accuracy"], "phase_metrics": phase_metrics}
        run.save_checkpoint(model, cfg.model, model_args, **state)                          # checkpoint
        run.write_history(history)
        if writer is not None:
            _log_tensorboard(writer, row, te["firing_rates"], epoch + 1)
        ctx.barrier()
        if cfg.time_limit is not None and train_time + row["epoch_time_s"] > cfg.time_limit * 60 and epoch + 1 < cfg.epochs:
            run.log(f"stopping after epoch {epoch + 1}: the next epoch would pass the time limit of {cfg.time_limit} min")
            break

    final = evaluate(net, x_test, y_test, epoch_cfg, temporal, device, info.num_classes, ctx.rank, ctx.world_size)
    final = ctx.reduce_metrics(final)
    finished = phases.finish(model, x_train, x_test, y_test, cfg, run, device, info.num_classes)   # e.g. conversion
    if finished:             # the checkpoint holds what the phase changed (a DBN's balanced thresholds)
        last = state if history[first_epoch:] else {k: ckpt[k] for k in ckpt if k in _EPOCH_STATE}
        phase_metrics = {**phase_metrics, **{k: v for k, v in finished.items() if k != "firing_rates"}}
        run.save_checkpoint(model, cfg.model, model_args, **{**last, "phase_metrics": phase_metrics})
    metrics = {                                                    # metrics
        "test_accuracy": final["accuracy"],
        "test_loss": final["loss"],
        "best_test_accuracy": max((h["test_accuracy"] for h in history), default=final["accuracy"]),
        "epochs_run": len(history),
        "history": history,
        "firing_rates": final["firing_rates"],
        "train_time_s": train_time,
        **({"skipped_batches": sum(h.get("skipped_batches", 0) for h in history)} if cfg.nonfinite_loss == "skip" else {}),
        **phase_metrics,
        **({"firing_rates": finished["firing_rates"]} if "firing_rates" in finished else {}),
        **run.stamp(cfg.model, model_args),
    }
    if writer is not None:
        writer.close()

    def report() -> Path:                                          # report
        from ..training.report import make_report

        return make_report(model, run.out_dir, cfg, info, x_test, y_test,
                           {**final, "firing_rates": metrics["firing_rates"]}, metrics, device,
                           section=lambda: phases.report(model, cfg, info, x_test, y_test, metrics, device))

    summary = f"test accuracy {100 * final['accuracy']:.2f}%"
    if "snn_test_accuracy" in metrics:
        summary += f" (spiking: {100 * metrics['snn_test_accuracy']:.2f}%)"
    return run.finish(metrics, f"{summary} after {len(history)} epochs, {train_time / 60:.1f} min of training",
                      report=report)


#: the entries of a checkpoint that say where the epochs stand (saved again after a run's last phase)
_EPOCH_STATE = ("epoch", "history", "optimizer", "scheduler", "train_time_s", "test_accuracy")


def _fit_readout_run(run: Run, cfg: TrainConfig, ctx: DistContext, model: nn.Module, model_args: dict, info,
                     device, x_train, y_train, x_test, y_test) -> dict:
    """The loop of a model in ``run.readout_fit.FEATURE_READOUTS`` (the liquid state machine): its
    fixed network's features computed once, its readout fitted on them (ridge: closed form, the one
    "epoch"; logistic: ``epochs`` passes), then the same checkpoint, test pass, metrics and report as
    a gradient run."""
    if run.resume:
        raise ValueError(f"--model {cfg.model} fits its readout in one pass over fixed features, so there is "
                         f"nothing to resume from {run.resume}; start the run again without --resume")
    if ctx.world_size > 1:
        raise ValueError(f"--model {cfg.model} fits its readout on one process; run it without torchrun")
    n_trained = sum(p.numel() for p in model.parameters() if p.requires_grad)
    run.log(f"{cfg.dataset}: {x_train.shape[0]} train / {x_test.shape[0]} test, model {cfg.model} "
            f"({describe_model(cfg)}, readout {FEATURE_READOUTS.get(model)(model)}), {n_trained:,} trained "
            f"parameters (the readout only), device {device}")
    t0 = time.time()
    history = fit_feature_readout(model, x_train, y_train, x_test, y_test, cfg, info.temporal, device,
                                  info.num_classes, run.log)
    train_time = time.time() - t0
    run.save_checkpoint(model, cfg.model, model_args, epoch=len(history) - 1, history=history, optimizer={},
                        scheduler=None, train_time_s=train_time, test_accuracy=history[-1]["test_accuracy"])
    run.write_history(history)
    final = evaluate(model, x_test, y_test, cfg, info.temporal, device, info.num_classes)
    metrics = {
        "test_accuracy": final["accuracy"],
        "test_loss": final["loss"],
        "best_test_accuracy": final["accuracy"],
        "train_accuracy": history[-1]["train_accuracy"],
        "epochs_run": len(history),
        "history": history,
        "firing_rates": final["firing_rates"],
        "train_time_s": train_time,
        **run.stamp(cfg.model, model_args),
    }

    def report() -> Path:
        from ..training.report import make_report

        phases = phases_for(model)
        return make_report(model, run.out_dir, cfg, info, x_test, y_test, final, metrics, device,
                           section=lambda: phases.report(model, cfg, info, x_test, y_test, metrics, device))

    return run.finish(metrics, f"test accuracy {100 * final['accuracy']:.2f}% (readout fitted in "
                               f"{train_time / 60:.1f} min)", report=report)


def _check_schedule(cfg: TrainConfig, ckpt: dict, sched, resume: Optional[str]) -> None:
    """A saved schedule runs over the steps it was made for: refuse to resume it over others.

    OneCycleLR fails past its end and CosineAnnealingLR turns back up, so a run can only be
    extended with schedule=none.
    """
    key = "total_steps" if cfg.schedule == "onecycle" else "T_max"
    saved_steps, steps = ckpt["scheduler"].get(key), sched.state_dict().get(key)
    if ckpt["config"].get("schedule") != cfg.schedule or saved_steps != steps:
        raise ValueError(
            f"cannot resume {resume} with schedule={cfg.schedule!r} over {steps} steps: its schedule "
            f"{ckpt['config'].get('schedule')!r} was made for {saved_steps} steps "
            f"(epochs={ckpt['config'].get('epochs')}); keep epochs, batch_size and train_subset, "
            f"or train with schedule=none to extend a run")


def _tensorboard_writer(out_dir: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ImportError("tensorboard=true needs the tensorboard package: pip install 'spikesmith[viz]'") from None
    return SummaryWriter(str(out_dir / "tensorboard"))


def _log_tensorboard(writer, row: dict, firing_rates: dict, step: int) -> None:
    for key, value in row.items():
        if key != "epoch" and value is not None:
            writer.add_scalar(key, value, step)
    for name, rate in firing_rates.items():
        writer.add_scalar(f"firing_rate/{name}", rate, step)
    writer.flush()
