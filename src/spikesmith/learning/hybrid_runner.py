"""The hybrid network of ``spikesmith stdp --model hybrid``: a convolution that learns by STDP
(winner-take-all across channels at each position) under a linear readout trained by gradient
descent, in one loop; under torchrun the readout's gradients are averaged by DDP and the
convolution's STDP changes by its learner, so the replicas stay identical.

    Poisson spikes [T, N, C, H, W] -> Conv2d (STDP) -> LIF + k-WTA over channels -> MaxPool2d(2)
    -> Flatten -> Linear (GD) -> mean over time = logits        (cross-entropy)
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Optional

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from .. import __version__, functional, layer
from ..data import get_dataset
from ..neuron import LIFNode
from ..training.batches import iterate_batches, num_batches
from ..atomic import write_csv, write_json
from ..training.checkpoint import atomic_save, load_weights, make_checkpoint
from ..training.setup import log
from .config import STDPConfig
from .hooks import AdaptiveThreshold, LateralInhibition
from .hybrid import gd_parameters
from .stdp import STDPLearner


class HybridSTDPNet(nn.Module):
    """A convolution learning by STDP under a readout learning by gradient descent (see the module docstring)."""

    def __init__(self, in_channels: int = 1, image_size: tuple = (28, 28), num_classes: int = 10, channels: int = 16,
                 kernel: int = 5, time: float = 16.0, dt: float = 1.0, max_rate: float = 500.0, tau: float = 20.0,
                 v_threshold: float = 1.0, theta_plus: float = 0.0, tau_theta: float = 1e7, inhibition: float = 0.0,
                 k: Optional[int] = 1, a_plus: float = 1e-4, a_minus: float = 5e-5, tau_plus: float = 20.0,
                 tau_minus: float = 20.0, trace: str = "all_to_all", weight_dependence: str = "additive",
                 w_max: float = 1.0, norm: Optional[float] = None, w_init: float = 0.3, reduction: str = "mean"):
        super().__init__()
        if not 0 < max_rate * dt / 1000.0 <= 1:
            raise ValueError(f"HybridSTDPNet: max_rate * dt / 1000 must lie in (0, 1], got max_rate={max_rate}, dt={dt}")
        self.time, self.dt, self.max_rate = float(time), float(dt), float(max_rate)
        self.conv = layer.Conv2d(in_channels, channels, kernel, padding=kernel // 2, bias=False, step_mode="m")
        with torch.no_grad():
            self.conv.weight.uniform_(0.0, w_init)
        self.sn = LIFNode(tau=tau / dt, decay_input=False, v_threshold=v_threshold, v_reset=0.0, step_mode="m",
                          backend="torch")
        h, w = image_size
        if theta_plus > 0:
            AdaptiveThreshold((channels, h, w), theta_plus=theta_plus, tau_theta=tau_theta, dt=dt).attach(self.sn)
        if inhibition > 0 or k is not None:
            LateralInhibition(strength=inhibition, k=k, group="channel").attach(self.sn)
        self.pool = layer.MaxPool2d(2, step_mode="m")
        self.flat = layer.Flatten(step_mode="m")
        self.fc = layer.Linear(channels * (h // 2) * (w // 2), num_classes, step_mode="m")
        fan = self.conv.weight[0].numel()
        norm = 0.1 * fan if norm is None else (None if norm == 0 else float(norm))
        self.learner = STDPLearner(self.conv, self.sn, a_plus=a_plus, a_minus=a_minus, tau_plus=tau_plus,
                                   tau_minus=tau_minus, dt=dt, trace=trace, weight_dependence=weight_dependence,
                                   w_min=0.0, w_max=w_max, norm=norm, reduction=reduction)
        self.learner.clamp_and_normalize()
        self.learner.enabled = False

    @property
    def steps(self) -> int:
        return max(1, round(self.time / self.dt))

    def encode(self, x: Tensor, generator: Optional[torch.Generator] = None) -> Tensor:
        p = x.clamp(0, 1) * (self.max_rate * self.dt / 1000.0)
        u = torch.rand((self.steps, *p.shape), generator=generator, dtype=p.dtype).to(p.device)
        return (u < p).to(p.dtype)

    def forward(self, x_seq: Tensor) -> Tensor:
        """Spikes ``[T, N, C, H, W]`` -> readout ``[T, N, classes]``."""
        return self.fc(self.flat(self.pool(self.sn(self.conv(x_seq)))))


def hybrid_arguments(cfg: STDPConfig, input_shape: tuple, num_classes: int) -> dict[str, Any]:
    return {"in_channels": input_shape[0], "image_size": tuple(input_shape[-2:]), "num_classes": num_classes,
            "channels": cfg.channels, "kernel": cfg.kernel, "time": cfg.time, "dt": cfg.dt, "max_rate": cfg.max_rate,
            "tau": cfg.tau, "v_threshold": cfg.v_threshold, "theta_plus": cfg.theta_plus, "tau_theta": cfg.tau_theta,
            "inhibition": cfg.inhibition, "k": cfg.k, "a_plus": cfg.a_plus, "a_minus": cfg.a_minus,
            "tau_plus": cfg.tau_plus, "tau_minus": cfg.tau_minus, "trace": cfg.trace,
            "weight_dependence": cfg.weight_dependence, "w_max": cfg.w_max, "norm": cfg.norm, "w_init": cfg.w_init,
            "reduction": cfg.reduction}


def _generator(seed: int, epoch: int, batch: int, rank: int, salt: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed((seed * 1_000_003 + epoch * 7_919 + batch * 104_729 + rank * 15_485_863
                                          + salt) % (2**63))


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
        out = net(model.encode(x, _generator(cfg.seed, 0, i, ctx.rank, salt=7))).mean(0)
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


def run_hybrid(cfg: STDPConfig, ckpt: Optional[dict], resume: Optional[str], out_dir: Path) -> dict:
    from ..training.distributed import DistContext

    ctx = DistContext.from_env()
    device = ctx.device
    start_wall = time.time()
    train = get_dataset(cfg.dataset, "train", data_dir=cfg.data_dir)
    test = get_dataset(cfg.dataset, "test", data_dir=cfg.data_dir)
    x_train, y_train = train.inputs[:cfg.train_subset], train.targets[:cfg.train_subset]
    x_test, y_test = test.inputs[:cfg.test_subset], test.targets[:cfg.test_subset]
    info = train.info
    torch.manual_seed(cfg.seed)
    args = hybrid_arguments(cfg, tuple(info.input_shape), info.num_classes)
    model = HybridSTDPNet(**args).to(device)
    learner = model.learner
    history: list[dict] = []
    first_epoch, train_time = 0, 0.0
    opt = torch.optim.Adam(gd_parameters(model, [learner]), lr=cfg.lr)
    if ckpt is not None:
        load_weights(model, ckpt["state_dict"], source=resume)
        opt.load_state_dict(ckpt["optimizer"])
        history = list(ckpt.get("history", []))
        first_epoch = int(ckpt["epoch"])
        train_time = float(ckpt.get("train_time_s", 0.0))
    net = ctx.wrap(model)
    steps = num_batches(x_train.shape[0], cfg.batch_size, ctx.world_size)
    if ctx.is_main:
        log(f"{cfg.dataset}: hybrid STDP conv ({cfg.channels} channels, {cfg.kernel}x{cfg.kernel}) + GD readout, "
            f"{model.steps} steps per input, batch {cfg.batch_size}, world size {ctx.world_size}")
    te = None
    for epoch in range(first_epoch, cfg.epochs):
        t0 = time.time()
        bar = tqdm(iterate_batches(x_train, y_train, cfg.batch_size, shuffle=True, seed=cfg.seed, epoch=epoch,
                                   rank=ctx.rank, world_size=ctx.world_size), total=steps,
                   desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not ctx.is_main, leave=False, dynamic_ncols=True)
        correct = total = 0
        loss_sum = 0.0
        for i, (x, y) in enumerate(bar):
            x, y = x.to(device), y.to(device)
            learner.enabled = True
            out = net(model.encode(x, _generator(cfg.seed, epoch, i, ctx.rank))).mean(0)
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
        if ctx.is_main:
            log(f"epoch {epoch + 1}/{cfg.epochs}: train acc {100 * tr['accuracy']:.2f}% | test acc "
                f"{100 * te['accuracy']:.2f}% | {time.time() - t0:.1f} s")
            atomic_save(make_checkpoint(model, "hybrid_stdp", args, cfg.to_dict(), epoch=epoch + 1, history=history,
                                        optimizer=opt.state_dict(), train_time_s=train_time), out_dir / "checkpoint.pt")

            write_csv(out_dir / "log.csv", history)
        ctx.barrier()
        if cfg.time_limit is not None and train_time > cfg.time_limit * 60 and epoch + 1 < cfg.epochs:
            break
    # the last epoch's test already measured the final weights (same inputs, same noise)
    final = te if te is not None else _evaluate(model, net, x_test, y_test, cfg, ctx, device, info.num_classes)
    metrics = {"test_accuracy": final["accuracy"], "test_loss": final["loss"], "epochs_run": len(history),
               "history": history, "firing_rates": final["firing_rates"], "train_time_s": train_time,
               "wall_time_s": time.time() - start_wall, "steps_per_input": model.steps,
               "simulated_ms_per_input": model.steps * cfg.dt, "dataset": cfg.dataset, "model": "hybrid",
               "model_args": args, "config": cfg.to_dict(), "world_size": ctx.world_size,
               "spikesmith_version": __version__, "torch_version": torch.__version__}
    if ctx.is_main:
        write_json(out_dir / "metrics.json", metrics)
        if cfg.report:
            try:
                from .report import hybrid_report

                path = hybrid_report(model, out_dir, cfg, info, final, metrics)
                log(f"report written to {path}")
            except Exception as err:  # a report must never lose a finished run
                log(f"report skipped ({type(err).__name__}: {err})")
        log(f"test accuracy {100 * final['accuracy']:.2f}%, {train_time / 60:.1f} min of training; results in {out_dir}")
    ctx.close()
    return metrics
