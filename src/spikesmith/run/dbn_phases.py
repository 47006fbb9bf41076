"""The phases of a ``--model dbn`` run (``models.dbn_family``), registered for ``SpikingDBN``:

    prepare      greedy CD pre-training of the RBMs (``pretrain_epochs``; tqdm bars per layer)
    supervised   the epochs fine-tune the rate DBN (``net.dbn``, run as an ANN on ``N x features``)
    finish       each layer's threshold balanced on ``CALIBRATION_SAMPLES`` training samples for the run's
                 T, then the spiking net tested with the run's encoder beside the rate DBN:
                 ``snn_test_accuracy``, ``agreement`` (fraction of test samples where both predict
                 the same class), ``thresholds``, ``snn_eval_time_s`` and the spiking firing rates
    figures      the first RBM's receptive fields; inputs, their first-RBM and whole-stack reconstructions;
                 the summary names both accuracies

``test_accuracy`` of the run stays the rate DBN's; a run of the ANN twin (``ann=True``) skips the
conversion. The spiking test draws its encoder and batches as ``training.evaluate`` does, so
``spikesmith eval`` on the checkpoint gives the same ``test_accuracy`` as ``snn_test_accuracy``.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from .. import functional
from ..models.dbn_family import SpikingDBN
from ..training.batches import iterate_batches
from ..training.config import TrainConfig, model_config
from ..training.setup import make_encoder
from ..training.stats import FiringRateMeter
from ..training.trainer import forward
from ..training.report import ReportSection
from .phases import PHASES, Figure, RunPhases

__all__ = ["CALIBRATION_SAMPLES", "DBNPhases", "compare"]

#: training samples whose pre-activations balance the thresholds
CALIBRATION_SAMPLES = 1000
#: test samples shown in the reconstruction figure, and units in the receptive-field grid
RECONSTRUCTED, FIELDS = 10, 100


@torch.no_grad()
def compare(model: SpikingDBN, x_all: Tensor, y_all: Tensor, cfg: TrainConfig, device: Any, num_classes: int,
            show: bool = True) -> dict:
    """The spiking net's accuracy, loss and firing rates on a split next to the rate DBN's predictions.

    Encoder seed and batches are ``training.evaluate``'s, so the spiking accuracy is the one
    ``spikesmith eval`` reports for the checkpoint."""
    model.eval()
    encoder = make_encoder(cfg, seed=cfg.seed + 12345)
    meter = FiringRateMeter(model)
    total = correct = agree = rate_correct = 0
    loss_sum = 0.0
    confusion = torch.zeros(num_classes, num_classes, dtype=torch.long)
    batch = max(cfg.batch_size, 256)
    bar = tqdm(iterate_batches(x_all, y_all, batch, shuffle=False, pad=False), total=math.ceil(len(y_all) / batch),
               desc=f"spiking DBN test (T={cfg.T})", disable=not show, leave=False, dynamic_ncols=True)
    try:
        for x, y in bar:
            x, y = x.to(device), y.to(device)
            logits = forward(model, x, cfg, encoder, temporal=False).mean(0)
            functional.reset_net(model)
            pred, rate_pred = logits.argmax(1), model.dbn(x).argmax(1)
            loss_sum += float(nn.functional.cross_entropy(logits, y)) * y.numel()
            correct += int((pred == y).sum())
            rate_correct += int((rate_pred == y).sum())
            agree += int((pred == rate_pred).sum())
            total += y.numel()
            confusion += torch.bincount((y * num_classes + pred).cpu(), minlength=num_classes**2).view(num_classes, -1)
        rates = meter.rates()
    finally:
        meter.remove()
        model.train()
    n = max(total, 1)
    return {"accuracy": correct / n, "loss": loss_sum / n, "rate_accuracy": rate_correct / n, "agreement": agree / n,
            "firing_rates": rates, "confusion": confusion, "count": total}


def _image_shape(info: Any) -> tuple:
    shape = tuple(info.input_shape)
    if math.prod(shape) != math.prod(shape[-2:]):
        raise ValueError(f"the DBN figures need one-channel images, got input shape {shape}")
    return shape[-2:]


class DBNPhases(RunPhases):
    """Pre-training before the epochs, fine-tuning in them, conversion and the spiking test after."""

    def prepare(self, model, x_train, y_train, cfg, run, device) -> dict:
        options = model_config(cfg.model, cfg.model_options)
        if options.pretrain_epochs == 0:
            run.log("DBN: no pre-training (pretrain_epochs=0): the epochs train a randomly initialised sigmoid net")
            return {}
        t0 = time.time()
        x = x_train.to(device).flatten(1)
        history = model.dbn.pretrain(x, epochs=options.pretrain_epochs, batch_size=cfg.batch_size,
                                     progress=run.is_main)
        elapsed = time.time() - t0
        layers = []
        with torch.no_grad():
            for depth, (rbm, stats) in enumerate(zip(model.dbn.rbms, history)):
                last = stats[-math.ceil(x.shape[0] / cfg.batch_size):]        # the last epoch's updates
                layers.append({"layer": depth + 1, "visible": rbm.n_visible, "hidden": rbm.n_hidden,
                               "reconstruction_error": sum(s.reconstruction_error for s in last) / len(last),
                               "free_energy_data": sum(s.free_energy_data for s in last) / len(last),
                               "hidden_mean": sum(s.hidden_mean for s in last) / len(last)})
        run.log(f"DBN pre-training: {options.pretrain_epochs} epoch(s) per RBM in {elapsed:.1f} s; last epoch's "
                f"reconstruction error " + ", ".join(f"{row['reconstruction_error']:.4f}" for row in layers))
        return {"pretrain": layers, "pretrain_time_s": elapsed}

    def supervised(self, model, cfg):
        return model.dbn, dataclasses.replace(cfg, ann=True)

    def finish(self, model, x_train, x_test, y_test, cfg, run, device, num_classes) -> dict:
        if cfg.ann:
            return {}
        t0 = time.time()
        thresholds = model.calibrate(x_train[:CALIBRATION_SAMPLES].to(device).flatten(1), cfg.T)
        result = compare(model, x_test, y_test, cfg, device, num_classes, show=run.is_main)
        elapsed = time.time() - t0
        run.log(f"spiking DBN ({model.neuron_kind}, T={cfg.T}, encoder {cfg.encoder}, thresholds "
                f"{', '.join(f'{t:.2f}' for t in thresholds)}): test accuracy {100 * result['accuracy']:.2f}% "
                f"(rate DBN {100 * result['rate_accuracy']:.2f}%), agreement {100 * result['agreement']:.2f}%, "
                f"{elapsed:.1f} s")
        return {"snn_test_accuracy": result["accuracy"], "snn_test_loss": result["loss"],
                "agreement": result["agreement"], "snn_T": cfg.T, "snn_encoder": cfg.encoder,
                "thresholds": thresholds, "snn_eval_time_s": elapsed, "firing_rates": result["firing_rates"]}

    def report(self, model, cfg, info, x_test, y_test, metrics, device) -> ReportSection:
        return ReportSection(figures=self._figures(model, x_test, info), summary=self._summary(cfg, metrics))

    def _summary(self, cfg, metrics) -> dict:
        if "snn_test_accuracy" not in metrics:
            return {"model": f"{cfg.model} (the rate DBN alone, its ANN twin)"}
        return {"model": f"{cfg.model}: test accuracy of the rate DBN; spiking: its {metrics['snn_T']}-step "
                         f"{cfg.model_options.get('neuron')} conversion, encoder {metrics['snn_encoder']}",
                "spiking_net_test_accuracy": metrics["snn_test_accuracy"],
                "agreement (spiking vs rate)": f"{100 * metrics['agreement']:.2f} %"}

    def _figures(self, model, x_test, info) -> list[Figure]:
        from ..viz import plot_receptive_fields, plot_reconstructions

        shape = _image_shape(info)
        dbn = model.dbn
        with torch.no_grad():
            x = x_test[:RECONSTRUCTED].flatten(1).to(dbn.classifier.weight.device)
            rows = {"input": x, "RBM 1": dbn.reconstruct(x, 1)}
            if len(dbn.rbms) > 1:
                rows[f"all {len(dbn.rbms)} RBMs"] = dbn.reconstruct(x)
        first = dbn.rbms[0]
        return [
            ("Receptive fields of the first RBM", "receptive_fields.png",
             lambda p: plot_receptive_fields(first.weight, shape, p, count=min(FIELDS, first.n_hidden),
                                             title=f"First RBM ({first.n_visible}->{first.n_hidden})")),
            ("Reconstructions", "reconstructions.png",
             lambda p: plot_reconstructions(rows, shape, p, title="Test inputs and their mean-field reconstructions")),
        ]


PHASES.register(SpikingDBN, DBNPhases())
