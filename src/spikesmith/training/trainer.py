"""The gradient-descent loop behind ``spikesmith train``: one epoch (``train_epoch``) and a test
pass (``evaluate``); the run around them (data, model, resume, checkpoints, metrics) is
``spikesmith.run.train``.

Per batch: x (``N x ...``) -> encoder -> ``T x N x ...`` -> SNN -> ``T x N x classes`` -> loss,
then ``functional.reset_net``. Temporal datasets (``N x T x ...``) skip the encoder and are moved
time-first. The ANN twin (``ann=True``) sees ``N x ...`` and returns ``N x classes``.

With ``online`` set (``ottt`` or ``sltt``) a batch trains online instead (``training.online``): one
step at a time, each step's loss backpropagated at once, nothing of a step kept for the next.

Everything random is derived from (seed, epoch), so ``--resume`` after a killed run ends with the
same weights as an uninterrupted run (on the CPU).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from .. import functional
from .augment import augment
from .batches import epoch_generator, iterate_batches, num_batches
from .checkpoint import unwrap
from .config import TrainConfig
from .losses import firing_rate_regularizer, get_loss
from .online import online_step
from .setup import make_encoder
from .stats import FiringRateMeter


def model_input(x: Tensor, cfg: TrainConfig, encoder: nn.Module, temporal: bool) -> Tensor:
    """A batch ``N x ...`` as the model takes it: ``T x N x ...`` (temporal data moved time-first,
    static data encoded), or ``N x ...`` as it is for the ANN twin of a static dataset."""
    if not x.is_floating_point():
        x = x.float()  # event-count frames are stored as integers
    if cfg.ann and not temporal:
        return x
    return x.transpose(0, 1).contiguous() if temporal else encoder(x)


def forward(model: nn.Module, x: Tensor, cfg: TrainConfig, encoder: nn.Module, temporal: bool) -> Tensor:
    """Model output as ``T x N x classes`` (``1 x N x classes`` for the ANN twin)."""
    out = model(model_input(x, cfg, encoder, temporal))
    return out.unsqueeze(0) if cfg.ann and not temporal else out


def materialize(model: nn.Module, x: Tensor, cfg: TrainConfig, temporal: bool) -> bool:
    """Give lazily shaped parameters (``AdLIFNode()`` without ``shape``) their shape, with one sample
    ``x[:1]``, before the optimizer sees them; the encoder has its own seed, so the run's random stream
    is untouched. Returns whether there was anything to do (models without lazy parameters: nothing runs)."""
    if not any(isinstance(p, nn.parameter.UninitializedParameter) for p in model.parameters()):
        return False
    with torch.no_grad():
        forward(model, x[:1], cfg, make_encoder(cfg, seed=0), temporal)
    functional.reset_net(model)
    return True


def start_epoch(model: nn.Module, epoch: int, epochs: int) -> None:
    """Tell every module with a per-epoch schedule where training stands: each one that has an
    ``epoch_start(epoch, epochs)`` method (``layer.LearnableDelay``'s shrinking Gaussian) is called."""
    for module in unwrap(model).modules():
        hook = getattr(module, "epoch_start", None)
        if callable(hook):
            hook(epoch, epochs)


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
    total, correct, loss_sum, rate_sum, skipped = 0, 0, 0.0, 0.0, 0
    rate_meter = FiringRateMeter(unwrap(model))
    aug_gen = epoch_generator(cfg.seed, epoch, salt=3 + 1000 * rank)
    step_gen = epoch_generator(cfg.seed, epoch, salt=4 + 1000 * rank)     # SLTT-K's time steps
    for i, (x, y) in enumerate(bar):
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        x = augment(x, cfg.random_flip, cfg.random_shift, aug_gen)
        if cfg.online:      # gradients accumulated step by step, inside
            opt.zero_grad(set_to_none=True)
            out, loss = online_step(model, model_input(x, cfg, encoder, temporal),
                                    lambda o, t, y=y: criterion(o.unsqueeze(0).float(), y), cfg.online,
                                    k=cfg.sltt_k, generator=step_gen, amp=cfg.amp)
        else:
            with torch.autocast(device.type, enabled=cfg.amp and device.type == "cuda"):
                out = forward(model, x, cfg, encoder, temporal)
                loss = criterion(out.float(), y)
        if cfg.rate_reg > 0:
            loss = loss + firing_rate_regularizer(meter.take_outputs(), weight=cfg.rate_reg)
        if not _finite_everywhere(loss, world_size):
            if cfg.nonfinite_loss != "skip":
                raise NonFiniteLossError(
                    f"epoch {epoch + 1}, batch {i + 1}/{steps}: the loss is {float(loss.detach())} (not finite); "
                    f"lower lr (now {cfg.lr:g}), check the inputs for NaN/Inf, or set nonfinite_loss=skip to skip "
                    f"such batches (counted in metrics.json)")
            skipped += 1
            opt.zero_grad(set_to_none=True)      # an online step's gradients are already in .grad
            functional.reset_net(model)
            continue
        if not cfg.online:
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
    if skipped == steps:
        raise NonFiniteLossError(f"epoch {epoch + 1}: every batch had a non-finite loss; lower lr (now {cfg.lr:g}) "
                                 f"or check the inputs for NaN/Inf")
    return {"loss": loss_sum / max(total, 1), "accuracy": correct / max(total, 1), "count": total,
            "skipped_batches": skipped}


class NonFiniteLossError(ValueError):
    """A batch's loss was NaN or Inf and the run was not asked to skip such batches."""


def _finite_everywhere(loss: Tensor, world_size: int) -> bool:
    """Whether the loss is finite on every rank (under torchrun all ranks skip or stop together:
    one rank skipping a backward that the others run would leave them waiting in its all-reduce)."""
    finite = torch.isfinite(loss.detach()).all()
    if world_size > 1:
        import torch.distributed as dist

        flag = finite.to(torch.int32).reshape(1)
        dist.all_reduce(flag, op=dist.ReduceOp.MIN)
        return bool(flag.item())
    return bool(finite)
