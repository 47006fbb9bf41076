"""The run behind ``spikesmith stdp --model sdnn``: the STDP-trained deep spiking CNN of
:mod:`spikesmith.models.sdnn` (Kheradpisheh et al. 2018), in three phases on the skeleton of
:mod:`spikesmith.run.skeleton`:

1. STDP, layer by layer, without labels: each convolution learns from ``stdp_images`` training
   images (a fixed shuffle of the training set by ``seed``, cycled if it asks for more) with the
   lower layers frozen; ``a_plus`` and ``a_minus`` double every ``lr_double_every`` images until
   ``a_plus`` reaches ``a_plus_max``; a layer stops early once its convergence ``mean w(1-w)`` falls
   below ``stdp_convergence`` (0: never). ``stdp_images=0`` keeps the kernels at their random
   start: the frozen-random-filters baseline of the same architecture and readout.
2. Features: the last layer's final potentials of every training and test image, max-pooled over
   all positions (``feature_grid`` 1, the paper) or over each region of a ``g x g`` grid; with a
   grid the metrics also give the accuracy of global pooling of the same potentials
   (``test_accuracy_global_pooling``, the max over the regions, its own readout).
3. Readout: logistic regression on the standardised features (Adam, ``lr``, ``batch_size``,
   ``readout_epochs``), the only part that sees labels.

The run is short, so it neither resumes (``run.stdp`` refuses it) nor runs under torchrun.
"""

from __future__ import annotations

import time
from typing import Any

import torch
from torch import Tensor

from ..learning.simplified_stdp import convergence
from ..models.sdnn import SDNN
from .skeleton import Run
from .stdp_config import STDPConfig, float_list, int_list, pool_list


def sdnn_arguments(cfg: STDPConfig, input_shape: tuple, num_classes: int) -> dict[str, Any]:
    return {"in_channels": input_shape[0], "image_size": tuple(input_shape[-2:]), "num_classes": num_classes,
            "time_steps": cfg.time_steps, "dog_size": cfg.dog_size, "sigma_centre": cfg.sigma_centre,
            "sigma_surround": cfg.sigma_surround, "dog_threshold": cfg.dog_threshold,
            "maps": int_list(cfg, "sdnn_maps", 1), "kernels": int_list(cfg, "sdnn_kernels", 1),
            "thresholds": float_list(cfg, "sdnn_thresholds"), "pools": pool_list(cfg), "w_mean": cfg.w_init,
            "w_std": cfg.w_std, "feature_grid": cfg.feature_grid}


def learn_layers(model: SDNN, images: Tensor, cfg: STDPConfig, log) -> list[dict]:
    """Phase 1 (see the module docstring); returns one history row per rate step of each layer."""
    winners = [w or None for w in int_list(cfg, "sdnn_winners", 0)]
    radii = int_list(cfg, "sdnn_radii", 0)
    history: list[dict] = []
    order = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(cfg.seed))
    for layer in range(model.layers):
        a_plus, a_minus = cfg.a_plus, cfg.a_minus
        t0, learned, seen = time.time(), 0, 0
        for seen in range(cfg.stdp_images):
            if seen and seen % cfg.lr_double_every == 0:
                history.append(_row(model, layer, seen, a_plus, learned, t0))
                learned = 0
                if cfg.stdp_convergence and history[-1]["convergence"] < cfg.stdp_convergence:
                    break
                scale = min(2.0, cfg.a_plus_max / a_plus)
                a_plus, a_minus = a_plus * scale, a_minus * scale
            learned += model.learn(layer, images[order[seen % images.shape[0]]], a_plus, a_minus, winners[layer],
                                   radii[layer])
        else:
            if cfg.stdp_images:
                history.append(_row(model, layer, cfg.stdp_images, a_plus, learned, t0))
        if history:
            row = history[-1]
            log(f"conv {layer + 1}: {row['images']} images of STDP, convergence {row['convergence']:.4f}, "
                f"{time.time() - t0:.1f} s")
    return history


def _row(model: SDNN, layer: int, images: int, a_plus: float, learned: int, t0: float) -> dict:
    return {"layer": layer + 1, "images": images, "a_plus": a_plus, "convergence": convergence(model.weights[layer]),
            "winners": learned, "elapsed_s": time.time() - t0}


@torch.no_grad()
def feature_matrix(model: SDNN, images: Tensor, batch_size: int) -> Tensor:
    """Phase 2: ``[N, features]`` in batches."""
    return torch.cat([model.features(images[i:i + batch_size]) for i in range(0, images.shape[0], batch_size)])


def _scores(model: SDNN, features: Tensor, labels: Tensor, num_classes: int) -> dict:
    with torch.no_grad():
        pred = model.readout(features).argmax(1)
    confusion = torch.bincount(labels * num_classes + pred, minlength=num_classes ** 2).view(num_classes, -1)
    return {"accuracy": float((pred == labels).double().mean()), "confusion": confusion}


def _global_pooling_accuracy(f_train: Tensor, y_train: Tensor, f_test: Tensor, y_test: Tensor, cfg: STDPConfig,
                             num_classes: int) -> float:
    """With a feature grid: the test accuracy of the paper's global max pooling, the max over the grid's
    regions of the same potentials, under a readout trained the same way."""
    from ..models.lsm_readout import LogisticReadout

    cells = cfg.feature_grid ** 2

    def pooled(f: Tensor) -> Tensor:
        return f.view(f.shape[0], -1, cells).amax(-1)

    readout = LogisticReadout(f_train.shape[1] // cells, num_classes)
    with torch.enable_grad():
        readout.fit(pooled(f_train), y_train, epochs=cfg.readout_epochs, lr=cfg.lr, batch_size=cfg.batch_size,
                    seed=cfg.seed)
    with torch.no_grad():
        return float((readout(pooled(f_test)).argmax(1) == y_test).double().mean())


def run_sdnn(run: Run) -> dict:
    """Train the SDNN as ``run.cfg`` says; return the metrics written to ``metrics.json``."""
    cfg, ctx = run.cfg, run.ctx
    if ctx.world_size > 1:
        raise ValueError("spikesmith stdp --model sdnn runs in one process (its STDP goes image by image); start it "
                         "without torchrun")
    from .stdp_data import load_images

    x_train, y_train, info = load_images(cfg, "train")
    x_test, y_test, _ = load_images(cfg, "test")
    run.seed()
    args = sdnn_arguments(cfg, tuple(info.input_shape), info.num_classes)
    model = SDNN(**args)
    run.log(f"{cfg.dataset}: SDNN, DoG {cfg.dog_size}x{cfg.dog_size} on/off, {cfg.time_steps} steps, maps "
            f"{cfg.sdnn_maps}, kernels {cfg.sdnn_kernels}, pools {cfg.sdnn_pools or '-'}; STDP on {cfg.stdp_images} "
            f"images per layer" + (" (frozen random kernels)" if cfg.stdp_images == 0 else ""))
    t0 = time.time()
    history = learn_layers(model, x_train, cfg, run.log)
    stdp_s = time.time() - t0
    t1 = time.time()
    f_train = feature_matrix(model, x_train, cfg.eval_batch_size)
    f_test = feature_matrix(model, x_test, cfg.eval_batch_size)
    features_s = time.time() - t1
    run.log(f"features: {f_train.shape[1]} per image, {f_train.shape[0]} train / {f_test.shape[0]} test in "
            f"{features_s:.1f} s")
    t2 = time.time()
    losses = model.fit_readout(f_train, y_train.long(), epochs=cfg.readout_epochs, lr=cfg.lr,
                               batch_size=cfg.batch_size, seed=cfg.seed)
    readout_s = time.time() - t2
    train = _scores(model, f_train, y_train.long(), info.num_classes)
    test = _scores(model, f_test, y_test.long(), info.num_classes)
    extra = {} if cfg.feature_grid == 1 else {"test_accuracy_global_pooling": _global_pooling_accuracy(
        f_train, y_train.long(), f_test, y_test.long(), cfg, info.num_classes)}
    run.save_checkpoint(model, "sdnn", args, history=history)
    run.write_history(history)
    metrics = {"test_accuracy": test["accuracy"], "train_accuracy": train["accuracy"], "readout_loss": losses[-1],
               "history": history, "stdp_images": cfg.stdp_images, "frozen_random_kernels": cfg.stdp_images == 0,
               "convergence": [convergence(w) for w in model.weights], "features": int(f_train.shape[1]),
               "stdp_time_s": stdp_s, "features_time_s": features_s, "readout_time_s": readout_s,
               "train_time_s": stdp_s + readout_s, **extra, **run.stamp("sdnn", args)}

    def report():
        from .stdp_report import sdnn_report

        return sdnn_report(model, run.out_dir, cfg, info, test, metrics)

    return run.finish(metrics, f"test accuracy {100 * test['accuracy']:.2f}% (train {100 * train['accuracy']:.2f}%), "
                      f"{(time.time() - t0) / 60:.1f} min", report=report)
