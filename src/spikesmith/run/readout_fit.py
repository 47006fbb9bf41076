"""Models whose only trained part is a linear readout on fixed features (the liquid state machine):
the run's loop for them, in place of gradient descent through the whole network.

The features (the liquid's states) do not change during training, so they are computed once for
the training and the test set, and the readout is fitted on them:

- ``ridge``: closed form (:class:`~spikesmith.models.lsm_readout.RidgeReadout` on one-hot targets);
  the solve is the run's single "epoch" (one history row, whatever ``epochs`` says);
- ``logistic``: cross-entropy by Adam (``lr``, ``weight_decay``, ``batch_size``) for ``epochs``
  passes over the cached features, one history row each; no learning-rate schedule.

Either way the readout standardises the features with the training set's mean and std (buffers
of the model, saved in the checkpoint). The run around it (checkpoint, final ``evaluate``,
metrics, report) is the gradient run's, so ``spikesmith eval`` and ``spikesmith.load`` see an
ordinary checkpoint. Which models take this path is ``FEATURE_READOUTS``, keyed by type.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import Tensor, nn

from ..models.lsm_family import LSMClassifier
from ..models.lsm_readout import RidgeReadout, standardise
from ..training.batches import epoch_generator, iterate_batches
from ..training.config import TrainConfig
from ..training.setup import make_encoder
from ..training.trainer import loss_fn, model_input
from ..typeregistry import TypeRegistry

__all__ = ["FEATURE_READOUTS", "feature_matrix", "fit_feature_readout"]

#: model class -> how its readout's kind is read off an instance (``"ridge"`` or ``"logistic"``)
FEATURE_READOUTS: TypeRegistry[Callable[[nn.Module], str]] = TypeRegistry("feature readout")
FEATURE_READOUTS.register(LSMClassifier, lambda model: model.readout_kind)

#: the test pass's encoder seed, as ``training.trainer.evaluate`` has it (static data only)
_TEST_ENCODER_SALT = 12345


@torch.no_grad()
def feature_matrix(model: nn.Module, x_all: Tensor, cfg: TrainConfig, temporal: bool, device,
                   encoder_seed: int) -> Tensor:
    """``model.features`` of every sample, ``N x width`` float32 on the CPU (in batches; the readout's
    sums run in float64 block by block, so a float64 copy of all features is never needed)."""
    encoder = make_encoder(cfg, seed=encoder_seed)
    dummy = torch.zeros(x_all.shape[0], dtype=torch.long)
    rows = [model.features(model_input(x.to(device), cfg, encoder, temporal)).float().cpu()
            for x, _ in iterate_batches(x_all, dummy, max(cfg.batch_size, 256), shuffle=False, pad=False)]
    return torch.cat(rows)


def _scores_row(model: nn.Module, features: Tensor, labels: Tensor, cfg: TrainConfig) -> tuple[float, float]:
    with torch.no_grad():
        scores = model.read(features.to(model.feature_mean.device)).cpu()
    loss = float(loss_fn(cfg)(scores.unsqueeze(0).float(), labels))
    return loss, float((scores.argmax(1) == labels).double().mean())


def fit_feature_readout(model: nn.Module, x_train: Tensor, y_train: Tensor, x_test: Tensor, y_test: Tensor,
                        cfg: TrainConfig, temporal: bool, device, num_classes: int,
                        log: Callable[[str], Any]) -> list[dict]:
    """Fit ``model``'s readout (see the module docstring); return the history rows."""
    import time

    t0 = time.time()
    f_train = feature_matrix(model, x_train, cfg, temporal, device, cfg.seed)
    f_test = feature_matrix(model, x_test, cfg, temporal, device, cfg.seed + _TEST_ENCODER_SALT)
    log(f"features: {f_train.shape[1]} per sample, {f_train.shape[0]} train / {f_test.shape[0]} test "
        f"in {time.time() - t0:.1f} s")
    y_train, y_test = y_train.long().cpu(), y_test.long().cpu()
    kind = FEATURE_READOUTS.get(model)(model)
    mean, std = standardise(f_train)
    model.set_standardisation(mean, std)
    history = []
    if kind == "ridge":
        targets = nn.functional.one_hot(y_train, num_classes).double()
        ridge = RidgeReadout(model.ridge_alpha).fit(f_train, targets)
        with torch.no_grad():
            model.readout.weight.copy_(ridge.weight.to(model.readout.weight))
            model.readout.bias.copy_(ridge.bias.to(model.readout.bias))
        history.append(_row(model, 1, f_train, y_train, f_test, y_test, cfg, time.time() - t0))
        return history
    z = torch.cat([((block.double() - mean) / std).float() for block in f_train.split(4096)])
    z = z.to(model.feature_mean.device)
    labels = y_train.to(z.device)
    params = list(model.readout.parameters())
    opt = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    criterion = nn.functional.cross_entropy
    for epoch in range(cfg.epochs):
        t_epoch = time.time()
        order = torch.randperm(z.shape[0], generator=epoch_generator(cfg.seed, epoch, salt=1)).to(z.device)
        for start in range(0, z.shape[0], cfg.batch_size):
            pick = order[start:start + cfg.batch_size]
            loss = criterion(model.readout(z[pick]), labels[pick])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        history.append(_row(model, epoch + 1, f_train, y_train, f_test, y_test, cfg,
                            time.time() - (t0 if epoch == 0 else t_epoch)))
        log(f"epoch {epoch + 1}/{cfg.epochs}: readout train acc {100 * history[-1]['train_accuracy']:.2f}% | "
            f"test acc {100 * history[-1]['test_accuracy']:.2f}%")
    return history


def _row(model, epoch, f_train, y_train, f_test, y_test, cfg, seconds) -> dict:
    train_loss, train_accuracy = _scores_row(model, f_train, y_train, cfg)
    test_loss, test_accuracy = _scores_row(model, f_test, y_test, cfg)
    return {"epoch": epoch, "train_loss": train_loss, "train_accuracy": train_accuracy, "test_loss": test_loss,
            "test_accuracy": test_accuracy, "lr": cfg.lr, "epoch_time_s": seconds, "mean_firing_rate": None}
