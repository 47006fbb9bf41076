"""The report of ``spikesmith stdp`` (``out/report/``): the excitatory neurons' receptive fields
as images with their assigned labels, neurons per class, the accuracy curve, firing statistics
and the confusion matrix, linked from ``README.md``.

Receptive fields are drawn as one tiled image (one ``imshow``), so 400 or 1600 neurons draw
as fast as 10; at most ``max_fields`` neurons are shown.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
from torch import Tensor

from ..viz import write_report
from ..viz._common import new_figure, save_png
from ..atomic import write_text


def tile_fields(weights: Tensor, image_shape: Sequence[int], max_fields: Optional[int] = None) -> tuple[np.ndarray, int]:
    """Weights ``[neurons, pixels]`` -> a mosaic ``[rows (H+1), cols (W+1)]`` (NaN gaps) and the column count."""
    w = weights.detach().cpu().double().numpy()
    if max_fields is not None:
        w = w[:max_fields]
    h, wd = int(image_shape[-2]), int(image_shape[-1])
    if w.shape[1] != h * wd:
        raise ValueError(f"receptive fields: {w.shape[1]} weights per neuron do not make a {h} x {wd} image")
    n = w.shape[0]
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    mosaic = np.full((rows * (h + 1) - 1, cols * (wd + 1) - 1), np.nan)
    for j in range(n):
        r, c = divmod(j, cols)
        mosaic[r * (h + 1):r * (h + 1) + h, c * (wd + 1):c * (wd + 1) + wd] = w[j].reshape(h, wd)
    return mosaic, cols


def plot_receptive_fields(weights: Tensor, image_shape: Sequence[int], path, labels: Optional[Tensor] = None,
                          class_names: Optional[Sequence[str]] = None, max_fields: int = 400,
                          title: str = "Receptive fields (input weights) of the excitatory neurons") -> Path:
    """Each neuron's input weights as an image, with its assigned label in the corner."""
    mosaic, cols = tile_fields(weights, image_shape, max_fields)
    n = min(weights.shape[0], max_fields)
    h, w = int(image_shape[-2]), int(image_shape[-1])
    rows = math.ceil(n / cols)
    size = min(16.0, max(5.0, 0.55 * cols + 1.5))
    fig = new_figure((size + 1.2, size * rows / cols + 0.8))
    ax = fig.add_subplot(1, 1, 1)
    im = ax.imshow(mosaic, cmap="hot_r", interpolation="nearest")
    ax.set_axis_off()
    if labels is not None:
        fontsize = max(4.0, min(9.0, 120.0 / cols))
        for j in range(n):
            r, c = divmod(j, cols)
            lab = int(labels[j])
            text = "-" if lab < 0 else (class_names[lab] if class_names is not None and cols <= 12 else str(lab))
            ax.text(c * (w + 1) + 0.2, r * (h + 1) + 0.2, text, color="tab:blue", fontsize=fontsize,
                    ha="left", va="top", fontweight="bold",
                    bbox={"boxstyle": "square,pad=0.05", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})
    fig.colorbar(im, ax=ax, shrink=0.7, label="weight")
    shown = f" (first {n} of {weights.shape[0]})" if weights.shape[0] > n else ""
    fig.suptitle(title + shown + ("; blue: assigned label" if labels is not None else ""))
    return save_png(fig, path)


def plot_label_counts(counts: Sequence[int], path, class_names: Optional[Sequence[str]] = None,
                      unlabelled: int = 0) -> Path:
    fig = new_figure((7.0, 3.2))
    ax = fig.add_subplot(1, 1, 1)
    names = list(class_names) if class_names is not None else [str(i) for i in range(len(counts))]
    ax.bar(range(len(counts)), counts, color="tab:blue")
    ax.set_xticks(range(len(counts)), names, rotation=30 if max(map(len, names)) > 3 else 0, fontsize=8)
    ax.set_ylabel("neurons")
    ax.set_title(f"Neurons assigned to each class ({unlabelled} never fired)")
    return save_png(fig, path)


def diehl_cook_report(model, out_dir, cfg, info, final: dict, metrics: dict) -> Path:
    """Write the report of a Diehl & Cook run; returns the README path."""
    counts = final["counts"].float()
    summary = {"dataset": cfg.dataset, "model": f"Diehl & Cook, {cfg.n_neurons} excitatory neurons",
               "test_accuracy": metrics["test_accuracy"], "epochs": metrics["epochs_run"],
               "wall_time_s": metrics["train_time_s"], "simulated_ms_per_input": metrics["simulated_ms_per_input"],
               "dt_ms": cfg.dt, "batch_size": cfg.batch_size}
    summary.update({k: v for k, v in metrics["firing"].items()})
    readme = write_report(out_dir, history=metrics["history"],
                          firing_rates={"excitatory (spikes per input)": counts.mean(0).numpy()},
                          confusion=final["confusion"].numpy(), class_names=list(info.class_names), summary=summary)
    report_dir = readme.parent
    extra = ["## Receptive fields", ""]
    try:
        plot_receptive_fields(model.fc.weight, info.input_shape, report_dir / "receptive_fields.png",
                              labels=model.assignments, class_names=list(info.class_names))
        extra += ["![Receptive fields](receptive_fields.png)", ""]
    except Exception as err:  # one figure must not cost the rest
        extra += [f"Skipped: {type(err).__name__}: {err}", ""]
    try:
        plot_label_counts(metrics["neurons_per_class"], report_dir / "label_counts.png", list(info.class_names),
                          metrics["unlabelled_neurons"])
        extra += ["![Neurons per class](label_counts.png)", ""]
    except Exception as err:
        extra += [f"Skipped: {type(err).__name__}: {err}", ""]
    extra += ["| Class | Neurons |", "|---|---:|"]
    extra += [f"| {name} | {n} |" for name, n in zip(info.class_names, metrics["neurons_per_class"])]
    extra += [f"| (never fired) | {metrics['unlabelled_neurons']} |", ""]
    write_text(readme, readme.read_text() + "\n" + "\n".join(extra))
    return readme


def hybrid_report(model, out_dir, cfg, info, final: dict, metrics: dict) -> Path:
    """Write the report of a hybrid run: curves, confusion, firing rate and the STDP kernels."""
    summary = {"dataset": cfg.dataset, "model": f"hybrid: STDP conv ({cfg.channels} ch) + GD readout",
               "test_accuracy": metrics["test_accuracy"], "epochs": metrics["epochs_run"],
               "wall_time_s": metrics["train_time_s"], "simulated_ms_per_input": metrics["simulated_ms_per_input"],
               "dt_ms": cfg.dt, "batch_size": cfg.batch_size}
    readme = write_report(out_dir, history=metrics["history"], firing_rates=final["firing_rates"],
                          confusion=final["confusion"].numpy(), class_names=list(info.class_names), summary=summary)
    w = model.conv.weight.detach().sum(1).flatten(1)  # channels summed
    extra = ["## STDP kernels", ""]
    try:
        plot_receptive_fields(w, model.conv.weight.shape[-2:], readme.parent / "stdp_kernels.png",
                              title="Convolution kernels learned by STDP")
        extra += ["![STDP kernels](stdp_kernels.png)", ""]
    except Exception as err:
        extra += [f"Skipped: {type(err).__name__}: {err}", ""]
    write_text(readme, readme.read_text() + "\n" + "\n".join(extra))
    return readme


def nessler_report(model, out_dir, cfg, info, final: dict, metrics: dict) -> Path:
    """Write the report of a Nessler stochastic-WTA run; returns the README path."""
    counts = final["counts"].float()
    summary = {"dataset": cfg.dataset, "model": f"Nessler stochastic WTA, {cfg.n_neurons} neurons",
               "test_accuracy": metrics["test_accuracy"], "epochs": metrics["epochs_run"],
               "wall_time_s": metrics["train_time_s"], "simulated_ms_per_input": metrics["simulated_ms_per_input"],
               "wta_rate_hz": cfg.wta_rate, "sigma_ms": cfg.sigma, "batch_size": cfg.batch_size,
               "mean_spikes_per_input": metrics["mean_spikes_per_input"]}
    readme = write_report(out_dir, history=metrics["history"],
                          firing_rates={"output (spikes per input)": counts.mean(0).numpy()},
                          confusion=final["confusion"].numpy(), class_names=list(info.class_names), summary=summary)
    extra = ["## What each neuron learned", ""]
    try:
        plot_receptive_fields(model.on_probabilities(), info.input_shape, readme.parent / "receptive_fields.png",
                              labels=model.assignments, class_names=list(info.class_names),
                              title="p(on afferent active | neuron) = exp(w_on) / c")
        extra += ["![Receptive fields](receptive_fields.png)", ""]
    except Exception as err:  # one figure must not cost the rest
        extra += [f"Skipped: {type(err).__name__}: {err}", ""]
    extra += ["| Class | Neurons |", "|---|---:|"]
    extra += [f"| {name} | {n} |" for name, n in zip(info.class_names, metrics["neurons_per_class"])]
    extra += [f"| (never fired) | {metrics['unlabelled_neurons']} |", ""]


def sdnn_report(model, out_dir, cfg, info, final: dict, metrics: dict) -> Path:
    """Write the report of an SDNN run: confusion, the STDP convergence per layer and conv 1's kernels
    (each kernel's on minus off channel)."""
    summary = {"dataset": cfg.dataset, "model": f"SDNN (Kheradpisheh 2018): maps {cfg.sdnn_maps}, kernels "
                                                 f"{cfg.sdnn_kernels}, {cfg.time_steps} steps",
               "test_accuracy": metrics["test_accuracy"], "train_accuracy": metrics["train_accuracy"],
               "stdp_images_per_layer": cfg.stdp_images, "features": metrics["features"],
               "wall_time_s": metrics["wall_time_s"]}
    readme = write_report(out_dir, confusion=final["confusion"].numpy(), class_names=list(info.class_names),
                          summary=summary)
    extra = ["## STDP", "", "| Layer | Images | a+ | Convergence mean w(1-w) |", "|---:|---:|---:|---:|"]
    extra += [f"| {r['layer']} | {r['images']} | {r['a_plus']:.4g} | {r['convergence']:.4f} |"
              for r in metrics["history"]]
    extra.append("")
    first = model.weights[0].detach()
    try:
        plot_receptive_fields((first[:, 0] - first[:, 1]).flatten(1), first.shape[-2:],
                              readme.parent / "stdp_kernels.png",
                              title="Conv 1 kernels (on minus off channel) learned by STDP")
        extra += ["![STDP kernels](stdp_kernels.png)", ""]
    except Exception as err:
        extra += [f"Skipped: {type(err).__name__}: {err}", ""]
    write_text(readme, readme.read_text() + "\n" + "\n".join(extra))
    return readme
