"""Firing rates per layer: a bar chart of the means, or one histogram of per-neuron rates per layer.

A firing rate is spikes per neuron per time step (a fraction in [0, 1] for binary spikes), e.g.
from ``spikesmith.monitor`` records averaged over time and samples.

>>> plot_firing_rates({"lif1": 0.12, "lif2": 0.04}, "out/rates.png")          # doctest: +SKIP
>>> plot_firing_rate_histograms({"lif1": torch.rand(256)}, "out/hist.png")    # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ._common import check_png_path, new_figure, save_png, to_numpy

RATE_LABEL = "firing rate (spikes / neuron / step)"


def layer_rates(rates: Mapping[str, Any], name: str = "rates") -> dict[str, np.ndarray]:
    """{layer: 1-D float array of per-neuron rates} (a single number gives a length-1 array).

    ValueError naming the layer for empty, non-finite or negative values.
    """
    if not isinstance(rates, Mapping) or len(rates) == 0:
        raise ValueError(
            f"{name} must be a non-empty dict {{layer_name: rate or per-neuron rates}}, "
            f"got {type(rates).__name__}{' (empty)' if isinstance(rates, Mapping) else ''}"
        )
    out: dict[str, np.ndarray] = {}
    for layer, value in rates.items():
        where = f"{name}[{layer!r}]"
        arr = to_numpy(value, where)
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise ValueError(f"{where} must be a number or a numeric array, got dtype {arr.dtype}")
        arr = arr.astype(np.float64).reshape(-1)
        if arr.size == 0:
            raise ValueError(f"{where} is empty")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{where} contains NaN or infinite values")
        if np.any(arr < 0):
            raise ValueError(f"{where} must be >= 0 (a firing rate), got minimum {arr.min():g}")
        out[str(layer)] = arr
    return out


def mean_rates(rates: Mapping[str, Any]) -> dict[str, float]:
    """{layer: mean firing rate}, from either scalar rates or per-neuron arrays."""
    return {k: float(v.mean()) for k, v in layer_rates(rates).items()}


def plot_firing_rates(
    rates: Mapping[str, Any],
    path: str | os.PathLike,
    title: str = "Mean firing rate per layer",
) -> Path:
    """Horizontal bar chart of the mean firing rate of each layer, in the dict's order.

    ``rates`` maps layer names to a mean rate (float) or per-neuron rates (array / tensor, any
    shape); for arrays the whisker spans the 10th to 90th percentile over neurons. Returns ``path``.
    """
    check_png_path(path)
    layers = layer_rates(rates)
    names = list(layers)
    means = np.array([v.mean() for v in layers.values()])
    p10 = np.array([np.percentile(v, 10) for v in layers.values()])
    p90 = np.array([np.percentile(v, 90) for v in layers.values()])
    xerr = np.stack([np.maximum(means - p10, 0.0), np.maximum(p90 - means, 0.0)])
    has_spread = any(v.size > 1 for v in layers.values())

    fig = new_figure((8, 1.2 + 0.45 * len(names)))
    ax = fig.subplots()
    y = np.arange(len(names))
    ax.barh(y, means, xerr=xerr if has_spread else None, color="tab:blue", alpha=0.85,
            error_kw=dict(ecolor="gray", capsize=3, lw=1))
    tips = means + xerr[1]
    right = float(tips.max())
    for yi, m, tip in zip(y, means, tips):
        ax.text(tip + 0.01 * max(right, 1e-12), yi, f"{m:.3g}", va="center", fontsize=9)
    ax.set_yticks(y, names)
    ax.invert_yaxis()  # first layer on top
    ax.set_xlim(0, (right if right > 0 else 1.0) * 1.18)
    ax.set_xlabel(RATE_LABEL + (" (whisker: 10th-90th percentile over neurons)" if has_spread else ""))
    ax.set_ylabel("layer")
    ax.set_title(title)
    ax.grid(True, axis="x", alpha=0.3)
    return save_png(fig, path)


def plot_firing_rate_histograms(
    rates: Mapping[str, Any],
    path: str | os.PathLike,
    bins: int = 30,
    title: str = "Per-neuron firing rates",
) -> Path:
    """One histogram panel per layer of the per-neuron firing rates, with the mean dashed.

    ``rates`` maps layer names to per-neuron rates (array / tensor, any shape, flattened). Each
    panel's title gives the neuron count, the mean and the share of silent (never firing)
    neurons. Returns ``path``.
    """
    check_png_path(path)
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise ValueError(f"bins must be a positive int, got {bins!r}")
    layers = layer_rates(rates)
    for layer, arr in layers.items():
        if arr.size < 2:
            raise ValueError(
                f"rates[{layer!r}] must be a per-neuron array for a histogram, got a single rate "
                "(use plot_firing_rates for mean rates)"
            )
    n = len(layers)
    ncols = min(3, n)
    nrows = math.ceil(n / ncols)
    fig = new_figure((4.2 * ncols, 3.2 * nrows))
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).reshape(-1)
    for ax, (layer, arr) in zip(axes, layers.items()):
        hi = float(arr.max())
        ax.hist(arr, bins=bins, range=(0.0, hi if hi > 0 else 1.0), color="tab:blue", alpha=0.85)
        mean = float(arr.mean())
        ax.axvline(mean, color="tab:red", ls="--", lw=1.2, label=f"mean {mean:.3g}")
        silent = float(np.mean(arr == 0)) * 100
        ax.set_title(f"{layer}: {arr.size} neurons, {silent:.0f}% silent", fontsize=10)
        ax.set_xlabel(RATE_LABEL, fontsize=9)
        ax.set_ylabel("neurons")
        ax.legend(fontsize=8, loc="upper right")
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.suptitle(title)
    return save_png(fig, path)
