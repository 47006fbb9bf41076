"""The run behind ``spikesmith stdp --model hybrid``: the network of
:mod:`spikesmith.models.hybrid_stdp` (a convolution learning by STDP under a readout trained by
gradient descent) in one loop, on the skeleton of :mod:`spikesmith.run.skeleton`. Under torchrun the
readout's gradients are averaged by DDP and the convolution's STDP changes by its learner, so the
replicas stay identical.
"""

from __future__ import annotations

import time
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from .. import functional
from ..learning import gd_parameters
from ..models.hybrid_stdp import HybridSTDPNet
from ..training.batches import iterate_batches, num_batches
from .skeleton import Run
from .stdp_config import STDPConfig
from .stdp_data import batch_generator, load_images


def hybrid_arguments(cfg: STDPConfig, input_shape: tuple, num_classes: int) -> dict[str, Any]:
    return {"in_channels": input_shape[0], "image_size": tuple(input_shape[-2:]), "num_classes": num_classes,
            "channels": cfg.channels, "kernel": cfg.kernel, "time": cfg.time, "dt": cfg.dt, "max_rate": cfg.max_rate,
            "tau": cfg.tau, "v_threshold": cfg.v_threshold, "theta_plus": cfg.theta_plus, "tau_theta": cfg.tau_theta,
            "inhibition": cfg.inhibition, "k": cfg.k, "a_plus": cfg.a_plus, "a_minus": cfg.a_minus,
            "tau_plus": cfg.tau_plus, "tau_minus": cfg.tau_minus, "trace": cfg.trace,
            "weight_dependence": cfg.weight_dependence, "w_max": cfg.w_max, "norm": cfg.norm, "w_init": cfg.w_init,
            "reduction": cfg.reduction}


@torch.no_grad()
def _evaluate(model, net, x_all, y_all, cfg, ctx, device, num_classes):
    model.eval()
    correct = total = 0
    loss_sum = 0.0
    confusion = torch.zeros(num_classes, num_classes, dtype=torch.long)
    rate_sum = rate_n = 0.0
    for i, (x, y) in enumerate(iterate_batches(x_all, y_all, cfg.eval_batch_size, shuffle=False, rank=ctx.rank,
                                               world_size=ctx.world_size, pad=False)):
        x, y = x.to(device), y.to(device)
        spikes = []
        handle = model.sn.register_forward_hook(lambda m, i_, o: spikes.append(o.mean()))
        out = net(model.encode(x, batch_generator(cfg.seed, 0, i, rank=ctx.rank, salt=7))).mean(0)
        handle.remove()
        functional.reset_net(model)
        loss_sum += float(nn.functional.cross_entropy(out, y, reduction="sum"))
        pred = out.argmax(1)
        correct += int((pred == y).sum())
        total += y.numel()
        rate_sum += float(spikes[0]) * y.numel()
        rate_n += y.numel()
        confusion += torch.bincount((y * num_classes + pred).cpu(), minlength=num_classes ** 2).view(num_classes, -1)
    model.train()
    m = {"loss": loss_sum / max(total, 1), "accuracy": correct / max(total, 1), "count": total,
         "firing_rates": {"conv": rate_sum / max(rate_n, 1)}, "confusion": confusion}
    return ctx.reduce_metrics(m)


def run_hybrid(run: Run) -> dict:
    """Train the hybrid network as ``run.cfg`` says; return the metrics written to ``metrics.json``."""
    cfg, ctx = run.cfg, run.ctx
    device = ctx.device
    x_train, y_train, info = load_images(cfg, "train")            # data
    x_test, y_test, _ = load_images(cfg, "test")
    run.seed()                                                     # seed, model
    args = hybrid_arguments(cfg, tuple(info.input_shape), info.num_classes)
    model = HybridSTDPNet(**args).to(device)
    learner = model.learner
    history: list[dict] = []
    first_epoch, train_time = 0, 0.0
    opt = torch.optim.Adam(gd_parameters(model, [learner]), lr=cfg.lr)
    ckpt = run.restore_weights(model, "hybrid_stdp", args)         # resume
    if ckpt is not None:
        opt.load_state_dict(ckpt["optimizer"])
        history = list(ckpt.get("history", []))
        first_epoch = int(ckpt["epoch"])
        train_time = float(ckpt.get("train_time_s", 0.0))
    net = ctx.wrap(model)
    steps = num_batches(x_train.shape[0], cfg.batch_size, ctx.world_size)
    run.log(f"{cfg.dataset}: hybrid STDP conv ({cfg.channels} channels, {cfg.kernel}x{cfg.kernel}) + GD readout, "
            f"{model.steps} steps per input, batch {cfg.batch_size}, world size {ctx.world_size}")
    te = None
    for epoch in range(first_epoch, cfg.epochs):                   # loop
        t0 = time.time()
        bar = tqdm(iterate_batches(x_train, y_train, cfg.batch_size, shuffle=True, seed=cfg.seed, epoch=epoch,
                                   rank=ctx.rank, world_size=ctx.world_size), total=steps,
                   desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not ctx.is_main, leave=False, dynamic_ncols=True)
        correct = total = 0
        loss_sum = 0.0
        for i, (x, y) in enumerate(bar):
            x, y = x.to(device), y.to(device)
            learner.enabled = True
            out = net(model.encode(x, batch_generator(cfg.seed, epoch, i, rank=ctx.rank))).mean(0)
            loss = nn.functional.cross_entropy(out, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            learner.step()                       # averaged over the batch and the replicas
            functional.reset_net(model)
            learner.reset()
            loss_sum += loss.item() * y.numel()
            correct += int((out.argmax(1) == y).sum())
            total += y.numel()
            if i % 20 == 0:
                bar.set_postfix(loss=f"{loss_sum / total:.3f}", acc=f"{100 * correct / total:.1f}%")
        learner.enabled = False
        train_time += time.time() - t0
        tr = ctx.reduce_metrics({"loss": loss_sum / max(total, 1), "accuracy": correct / max(total, 1), "count": total})
        te = _evaluate(model, net, x_test, y_test, cfg, ctx, device, info.num_classes)
        history.append({"epoch": epoch + 1, "train_loss": tr["loss"], "train_accuracy": tr["accuracy"],
                        "test_loss": te["loss"], "test_accuracy": te["accuracy"], "epoch_time_s": time.time() - t0,
                        "conv_firing_rate": te["firing_rates"]["conv"]})
        run.log(f"epoch {epoch + 1}/{cfg.epochs}: train acc {100 * tr['accuracy']:.2f}% | test acc "
                f"{100 * te['accuracy']:.2f}% | {time.time() - t0:.1f} s")
        run.save_checkpoint(model, "hybrid_stdp", args, epoch=epoch + 1, history=history,     # checkpoint
                            optimizer=opt.state_dict(), train_time_s=train_time)
        run.write_history(history)
        ctx.barrier()
        if cfg.time_limit is not None and train_time > cfg.time_limit * 60 and epoch + 1 < cfg.epochs:
            break
    # the last epoch's test already measured the final weights (same inputs, same noise)
    final = te if te is not None else _evaluate(model, net, x_test, y_test, cfg, ctx, device, info.num_classes)
    metrics = {"test_accuracy": final["accuracy"], "test_loss": final["loss"], "epochs_run": len(history),   # metrics
               "history": history, "firing_rates": final["firing_rates"], "train_time_s": train_time,
               "steps_per_input": model.steps, "simulated_ms_per_input": model.steps * cfg.dt,
               **run.stamp("hybrid", args)}

    def report():                                                  # report
        from .stdp_report import hybrid_report

        return hybrid_report(model, run.out_dir, cfg, info, final, metrics)

    return run.finish(metrics, f"test accuracy {100 * final['accuracy']:.2f}%, {train_time / 60:.1f} min of training",
                      report=report)
