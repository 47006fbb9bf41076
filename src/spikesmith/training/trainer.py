"""The training loop behind ``spikesmith train``.

Per batch: x (``N x ...``) -> encoder -> ``T x N x ...`` -> SNN -> ``T x N x classes`` -> loss,
then ``functional.reset_net``. Temporal datasets (``N x T x ...``) skip the encoder and are moved
time-first. The ANN twin (``ann=True``) sees ``N x ...`` and returns ``N x classes``.

Everything random is derived from (seed, epoch), so ``--resume`` after a killed run ends with the
same weights as an uninterrupted run (on the CPU).
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any, Optional

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from .. import __version__, functional
from ..atomic import write_csv, write_json
from .augment import augment
from .batches import epoch_generator, iterate_batches, num_batches
from .checkpoint import atomic_save, load_checkpoint, load_weights, make_checkpoint, unwrap
from .config import TrainConfig
from .losses import firing_rate_regularizer, get_loss
from .setup import build, describe_model, load_split, log, make_encoder, make_optimizer, make_schedule, pick_device, resolve_defaults
from .stats import FiringRateMeter


def forward(model: nn.Module, x: Tensor, cfg: TrainConfig, encoder: nn.Module, temporal: bool) -> Tensor:
    """Model output as ``T x N x classes`` (``1 x N x classes`` for the ANN twin)."""
    if not x.is_floating_point():
        x = x.float()  # event-count frames are stored as integers
    if cfg.ann and not temporal:
        return model(x).unsqueeze(0)
    x_seq = x.transpose(0, 1).contiguous() if temporal else encoder(x)
    return model(x_seq)


def loss_fn(cfg: TrainConfig):
    base = get_loss(cfg.loss)
    if cfg.loss == "tet":
        return lambda out, y: base(out, y, lam=cfg.tet_lambda)
    if cfg.loss == "ce" and cfg.label_smoothing > 0:
        return lambda out, y: nn.functional.cross_entropy(out.mean(0), y, label_smoothing=cfg.label_smoothing)
    return base


@torch.no_grad()
def evaluate(model, x_all, y_all, cfg, temporal, device, num_classes, rank=0, world_size=1):
    """Loss, accuracy, per-layer firing rates and the confusion matrix on a split."""
    model.eval()
    encoder = make_encoder(cfg, seed=cfg.seed + 12345)
    meter = FiringRateMeter(unwrap(model))
    criterion = loss_fn(cfg)
    total, correct, loss_sum = 0, 0, 0.0
    confusion = torch.zeros(num_classes, num_classes, dtype=torch.long)
    for x, y in iterate_batches(x_all, y_all, max(cfg.batch_size, 256), shuffle=False, rank=rank, world_size=world_size,
                                  pad=False):
        x, y = x.to(device), y.to(device)
        out = forward(model, x, cfg, encoder, temporal)
        functional.reset_net(model)
        loss_sum += float(criterion(out, y)) * y.numel()
        pred = out.mean(0).argmax(1)
        correct += int((pred == y).sum())
        total += y.numel()
        confusion += torch.bincount((y * num_classes + pred).cpu(), minlength=num_classes**2).view(num_classes, -1)
    rates = meter.rates()
    meter.remove()
    model.train()
    return {"loss": loss_sum / max(total, 1), "accuracy": correct / max(total, 1), "firing_rates": rates,
            "confusion": confusion, "count": total}


def train_epoch(model, opt, sched, x_all, y_all, cfg, temporal, device, epoch, rank=0, world_size=1, show=True):
    model.train()
    torch.manual_seed(int(epoch_generator(cfg.seed, epoch, salt=1).initial_seed() % (2**31)))
    encoder = make_encoder(cfg, seed=int(epoch_generator(cfg.seed, epoch, salt=2).initial_seed() % (2**31)))
    criterion = loss_fn(cfg)
    meter = FiringRateMeter(unwrap(model), keep_graph=True) if cfg.rate_reg > 0 else None
    steps = num_batches(x_all.shape[0], cfg.batch_size, world_size)
    bar = tqdm(iterate_batches(x_all, y_all, cfg.batch_size, shuffle=True, seed=cfg.seed, epoch=epoch, rank=rank,
                               world_size=world_size), total=steps, desc=f"epoch {epoch + 1}/{cfg.epochs}",
               disable=not show, leave=False, dynamic_ncols=True)
    total, correct, loss_sum, rate_sum = 0, 0, 0.0, 0.0
    rate_meter = FiringRateMeter(unwrap(model))
    aug_gen = epoch_generator(cfg.seed, epoch, salt=3 + 1000 * rank)
    for i, (x, y) in enumerate(bar):
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        x = augment(x, cfg.random_flip, cfg.random_shift, aug_gen)
        with torch.autocast(device.type, enabled=cfg.amp and device.type == "cuda"):
            out = forward(model, x, cfg, encoder, temporal)
            loss = criterion(out.float(), y)
        if cfg.rate_reg > 0:
            loss = loss + firing_rate_regularizer(meter.take_outputs(), weight=cfg.rate_reg)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        functional.reset_net(model)
        loss_sum += loss.item() * y.numel()
        correct += int((out.detach().mean(0).argmax(1) == y).sum())
        total += y.numel()
        if show and (i % 20 == 0 or i == steps - 1):
            rates = rate_meter.rates()
            rate_sum = sum(rates.values()) / max(len(rates), 1)
            bar.set_postfix(loss=f"{loss_sum / total:.4f}", acc=f"{100 * correct / total:.2f}%", rate=f"{rate_sum:.3f}")
    rate_meter.remove()
    if meter is not None:
        meter.remove()
    return {"loss": loss_sum / max(total, 1), "accuracy": correct / max(total, 1), "count": total}


def default_out_dir() -> Path:
    return Path("runs") / datetime.now().strftime("%Y%m%d-%H%M%S")


def run(cfg: TrainConfig, resume: Optional[str] = None, dist: Optional[Any] = None) -> dict:
    """Train as configured; return the metrics written to ``metrics.json``."""
    from .distributed import DistContext

    ctx = dist or DistContext.from_env()
    start_wall = time.time()
    ckpt = load_checkpoint(resume) if resume else None
    cfg = resolve_defaults(cfg)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    if cfg.reuse_memory:
        from ..kernels import reuse_freed_memory

        reuse_freed_memory()
    device = ctx.device if ctx.enabled else pick_device(cfg.device)
    out_dir = Path(cfg.out) if cfg.out else default_out_dir()
    cfg.out = str(out_dir)
    if ctx.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
        log(f"writing to {out_dir}")

    x_train, y_train, info = load_split(cfg, "train")
    x_test, y_test, _ = load_split(cfg, "test")
    temporal = info.temporal
    torch.manual_seed(cfg.seed)
    model, model_args = build(cfg, tuple(info.input_shape), info.num_classes, temporal)
    model.to(device)
    if cfg.channels_last and any(isinstance(m, nn.Conv2d) for m in model.modules()):
        # NHWC: bench/bench_convnet.py's CNN trained 1.3x faster per step, but the CSNN (its flatten
        # and max-pool backward copy NHWC to NCHW) 1.1-1.3x slower, hence off by default; the neuron
        # kernels keep either layout, and checkpoints load into either
        model.to(memory_format=torch.channels_last)
    if ckpt is not None:
        load_weights(model, ckpt["state_dict"], source=resume)
    model = ctx.wrap(model)
    steps_per_epoch = num_batches(x_train.shape[0], cfg.batch_size, ctx.world_size)
    opt = make_optimizer(cfg, model)
    sched = make_schedule(cfg, opt, steps_per_epoch)
    history: list[dict] = []
    first_epoch = 0
    elapsed_before = 0.0
    if ckpt is not None:
        opt.load_state_dict(ckpt["optimizer"])
        if sched is not None and ckpt.get("scheduler"):
            # a saved schedule runs over the steps it was made for: OneCycleLR fails past its end
            # and CosineAnnealingLR turns back up, so a run can only be extended with schedule=none
            key = "total_steps" if cfg.schedule == "onecycle" else "T_max"
            saved_steps, steps = ckpt["scheduler"].get(key), sched.state_dict().get(key)
            if ckpt["config"].get("schedule") != cfg.schedule or saved_steps != steps:
                raise ValueError(
                    f"cannot resume {resume} with schedule={cfg.schedule!r} over {steps} steps: its schedule "
                    f"{ckpt['config'].get('schedule')!r} was made for {saved_steps} steps "
                    f"(epochs={ckpt['config'].get('epochs')}); keep epochs, batch_size and train_subset, "
                    f"or train with schedule=none to extend a run")
            sched.load_state_dict(ckpt["scheduler"])
        history = list(ckpt.get("history", []))
        first_epoch = int(ckpt["epoch"]) + 1
        elapsed_before = float(ckpt.get("train_time_s", 0.0))
        if ctx.is_main:
            log(f"resuming from {resume} after epoch {first_epoch}")
    if ctx.is_main:
        n_params = sum(p.numel() for p in model.parameters())
        log(f"{cfg.dataset}: {x_train.shape[0]} train / {x_test.shape[0]} test, model {cfg.model} "
            f"({describe_model(cfg) + ('' if cfg.ann else ', ' + (f'T={info.input_shape[0]} from the data' if temporal else f'T={cfg.T}, encoder {cfg.encoder}'))}), "
            f"{n_params:,} parameters, device {device}")

    writer = _tensorboard_writer(out_dir) if cfg.tensorboard and ctx.is_main else None
    train_time = elapsed_before
    for epoch in range(first_epoch, cfg.epochs):
        t0 = time.time()
        tr = train_epoch(model, opt, sched, x_train, y_train, cfg, temporal, device, epoch, ctx.rank, ctx.world_size,
                         show=ctx.is_main)
        tr = ctx.reduce_metrics(tr)
        train_time += time.time() - t0
        te = evaluate(model, x_test, y_test, cfg, temporal, device, info.num_classes, ctx.rank, ctx.world_size)
        te = ctx.reduce_metrics(te)
        row = {"epoch": epoch + 1, "train_loss": tr["loss"], "train_accuracy": tr["accuracy"], "test_loss": te["loss"],
               "test_accuracy": te["accuracy"], "lr": opt.param_groups[0]["lr"], "epoch_time_s": time.time() - t0,
               "mean_firing_rate": (sum(te["firing_rates"].values()) / len(te["firing_rates"])) if te["firing_rates"] else None}
        history.append(row)
        if ctx.is_main:
            log(f"epoch {epoch + 1}/{cfg.epochs}: train loss {tr['loss']:.4f} acc {100 * tr['accuracy']:.2f}% | "
                f"test loss {te['loss']:.4f} acc {100 * te['accuracy']:.2f}% | {row['epoch_time_s']:.1f} s")
            state = make_checkpoint(model, cfg.model, model_args, cfg.to_dict(), epoch=epoch, history=history,
                                    optimizer=opt.state_dict(), scheduler=sched.state_dict() if sched else None,
                                    train_time_s=train_time, test_accuracy=te["accuracy"])
            atomic_save(state, out_dir / "checkpoint.pt")
            write_csv(out_dir / "log.csv", history)
            if writer is not None:
                for key, value in row.items():
                    if key != "epoch" and value is not None:
                        writer.add_scalar(key, value, epoch + 1)
                for name, rate in te["firing_rates"].items():
                    writer.add_scalar(f"firing_rate/{name}", rate, epoch + 1)
                writer.flush()
        ctx.barrier()
        if cfg.time_limit is not None and train_time + row["epoch_time_s"] > cfg.time_limit * 60 and epoch + 1 < cfg.epochs:
            if ctx.is_main:
                log(f"stopping after epoch {epoch + 1}: the next epoch would pass the time limit of {cfg.time_limit} min")
            break

    final = evaluate(model, x_test, y_test, cfg, temporal, device, info.num_classes, ctx.rank, ctx.world_size)
    final = ctx.reduce_metrics(final)
    metrics = {
        "test_accuracy": final["accuracy"],
        "test_loss": final["loss"],
        "best_test_accuracy": max((h["test_accuracy"] for h in history), default=final["accuracy"]),
        "epochs_run": len(history),
        "history": history,
        "firing_rates": final["firing_rates"],
        "train_time_s": train_time,
        "wall_time_s": time.time() - start_wall,
        "dataset": cfg.dataset,
        "model": cfg.model,
        "model_args": model_args,
        "config": cfg.to_dict(),
        "spikesmith_version": __version__,
        "torch_version": torch.__version__,
        "world_size": ctx.world_size,
    }
    if writer is not None:
        writer.close()
    if ctx.is_main:
        write_json(out_dir / "metrics.json", metrics)
        if cfg.report:
            from .report import make_report

            make_report(unwrap(model), out_dir, cfg, info, x_test, y_test, final, metrics, device)
        log(f"test accuracy {100 * final['accuracy']:.2f}% after {len(history)} epochs, "
            f"{train_time / 60:.1f} min of training; results in {out_dir}")
    ctx.close()
    return metrics


def _tensorboard_writer(out_dir: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ImportError("tensorboard=true needs the tensorboard package: pip install 'spikesmith[viz]'") from None
    return SummaryWriter(str(out_dir / "tensorboard"))
