"""Spike rasters: a dot at (t, neuron) for every spike of one sample, one panel per layer.

``spikes`` is ``T x N`` for one sample (select it first, ``s[:, 0]`` of a ``[T, B, N]``
record; flatten a conv map with ``s[:, 0].flatten(1)``). Any nonzero value counts as a spike.
Layers with more than ``max_neurons`` neurons are subsampled to evenly spaced neurons, and the
axis label says how many are shown.

>>> plot_spike_raster(torch.rand(50, 100) < 0.1, "out/raster.png")            # doctest: +SKIP
>>> plot_spike_raster({"lif1": s1, "lif2": s2}, "out/raster.png")           # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ._common import check_png_path, new_figure, save_png, to_numpy

MAX_NEURONS = 200


def subsample_neurons(num_neurons: int, max_neurons: int = MAX_NEURONS) -> np.ndarray:
    """Indices of at most ``max_neurons`` evenly spaced neurons out of ``num_neurons`` (sorted).

    >>> subsample_neurons(10, 4)
    array([0, 3, 6, 9])
    """
    if isinstance(max_neurons, bool) or not isinstance(max_neurons, int) or max_neurons < 1:
        raise ValueError(f"max_neurons must be a positive int, got {max_neurons!r}")
    if num_neurons <= max_neurons:
        return np.arange(num_neurons)
    return np.unique(np.round(np.linspace(0, num_neurons - 1, max_neurons)).astype(np.int64))


def _as_spikes(x: Any, name: str) -> np.ndarray:
    arr = to_numpy(x, name)
    if arr.ndim != 2:
        hint = (" for one sample of a [T, B, N] record pass spikes[:, b]; flatten a conv map with "
                ".flatten(1)" if arr.ndim > 2 else "")
        raise ValueError(f"{name} must be T x N_neurons (2-D),{hint} got shape {list(arr.shape)}")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"{name} must be numeric or bool, got dtype {arr.dtype}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} must have at least one step and one neuron, got shape {list(arr.shape)}")
    return arr != 0


def raster_events(spikes: Any, max_neurons: int = MAX_NEURONS, name: str = "spikes"):
    """(t, row, shown): spike times, plotted row (0..len(shown)-1) and the neuron indices shown."""
    s = _as_spikes(spikes, name)
    shown = subsample_neurons(s.shape[1], max_neurons)
    t, row = np.nonzero(s[:, shown])
    return t, row, shown


def plot_spike_raster(
    spikes: Any,
    path: str | os.PathLike,
    title: str = "Spike raster",
    max_neurons: int = MAX_NEURONS,
) -> Path:
    """Raster of one sample: x = time step, y = neuron, a tick per spike; one panel per layer.

    ``spikes``: ``T x N`` array / tensor, or ``{layer_name: T x N}`` (panels top to bottom in
    the dict's order, sharing the time axis). Returns ``path``.
    """
    check_png_path(path)
    if isinstance(spikes, Mapping):
        if len(spikes) == 0:
            raise ValueError("spikes must be a T x N array or a non-empty dict {layer_name: T x N}, got {}")
        layers = {str(k): v for k, v in spikes.items()}
        prefix = "spikes"
    else:
        layers = {"": spikes}
        prefix = None
    panels = []
    for layer, value in layers.items():
        name = f"spikes[{layer!r}]" if prefix else "spikes"
        s = _as_spikes(value, name)
        t, row, shown = raster_events(s, max_neurons, name)
        panels.append((layer, s, t, row, shown))

    heights = [max(1.0, min(3.5, len(p[4]) / 40)) for p in panels]
    fig = new_figure((9, 1.0 + sum(heights) + 0.3 * len(panels)))
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False,
                        gridspec_kw=dict(height_ratios=heights))[:, 0]
    for ax, (layer, s, t, row, shown) in zip(axes, panels):
        steps, total = s.shape
        n_shown = len(shown)
        size = float(np.clip(3000.0 / max(n_shown, 1), 4.0, 60.0))
        ax.scatter(t, row, marker="|", s=size, linewidths=1.0, color="black")
        ax.set_xlim(-0.5, steps - 0.5)
        ax.set_ylim(n_shown - 0.5, -0.5)  # neuron 0 on top
        shown_txt = f"neuron ({n_shown} of {total} shown)" if n_shown < total else "neuron"
        ax.set_ylabel(shown_txt, fontsize=9)
        rate = float(s.mean())
        head = f"{layer}: " if layer else ""
        ax.set_title(f"{head}{int(s.sum())} spikes, {total} neurons, rate {rate:.3g} / neuron / step",
                     fontsize=10, loc="left")
        if n_shown < total:  # y ticks name the real neuron indices
            ticks = np.linspace(0, n_shown - 1, min(5, n_shown)).round().astype(int)
            ax.set_yticks(ticks, [str(shown[i]) for i in ticks])
    axes[-1].set_xlabel("time step")
    fig.suptitle(title)
    return save_png(fig, path)
