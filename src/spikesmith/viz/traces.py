"""Membrane potential traces: a few neurons' V over time, spikes marked, threshold dashed.

``v`` is ``T x N`` for one sample (a monitor record ``[T, B, N]`` -> ``v[:, b]``); a 1-D ``v``
is one neuron. The recorded V is usually the value after reset, so a spike is drawn as a red
triangle at the threshold (or at the panel top when no threshold is given), not on the trace.

>>> plot_membrane_traces(v, "out/v.png", spikes=s, threshold=1.0, neurons=[0, 5])  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._common import as_float_array, check_png_path, new_figure, save_png, to_numpy

MAX_PANELS = 16


def _select_neurons(neurons: int | Sequence[int], num_neurons: int) -> list[int]:
    if isinstance(neurons, bool):
        raise ValueError(f"neurons must be an int count or a sequence of neuron indices, got {neurons!r}")
    if isinstance(neurons, (int, np.integer)):
        if neurons < 1:
            raise ValueError(f"neurons must be >= 1 when given as a count, got {neurons}")
        picked = list(range(min(int(neurons), num_neurons)))
    else:
        picked = [int(i) for i in to_numpy(neurons, "neurons").reshape(-1)]
        if not picked:
            raise ValueError("neurons must name at least one neuron, got an empty sequence")
        bad = [i for i in picked if not 0 <= i < num_neurons]
        if bad:
            raise ValueError(f"neurons must be indices in [0, {num_neurons}), got {bad}")
    if len(picked) > MAX_PANELS:
        raise ValueError(f"neurons selects {len(picked)} neurons; at most {MAX_PANELS} stay readable")
    return picked


def plot_membrane_traces(
    v: Any,
    path: str | os.PathLike,
    spikes: Any = None,
    threshold: float | None = None,
    neurons: int | Sequence[int] = 4,
    title: str = "Membrane potential",
) -> Path:
    """One stacked panel per selected neuron: V[t] (line), spikes (red triangles), threshold (dashed).

    ``v``: ``T x N`` (or ``T``) array / tensor; ``spikes``: same shape, nonzero = spike;
    ``threshold``: V_th drawn as a dashed line; ``neurons``: how many of the first neurons to draw
    (int) or which ones (indices). Returns ``path``.
    """
    check_png_path(path)
    v_arr = as_float_array(v, "v", (1, 2))
    if v_arr.ndim == 1:
        v_arr = v_arr[:, None]
    steps, n = v_arr.shape
    if steps == 0 or n == 0:
        raise ValueError(f"v must have at least one step and one neuron, got shape {list(v_arr.shape)}")
    s_arr = None
    if spikes is not None:
        s_arr = to_numpy(spikes, "spikes")
        if s_arr.ndim == 1:
            s_arr = s_arr[:, None]
        if s_arr.shape != v_arr.shape:
            raise ValueError(f"spikes must have the shape of v {list(v_arr.shape)}, got {list(s_arr.shape)}")
        s_arr = s_arr != 0
    if threshold is not None:
        try:
            threshold = float(threshold)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"threshold must be a number or None, got {threshold!r}") from exc
        if not np.isfinite(threshold):
            raise ValueError(f"threshold must be finite, got {threshold}")
    picked = _select_neurons(neurons, n)

    fig = new_figure((9, 0.8 + 1.6 * len(picked)))
    axes = fig.subplots(len(picked), 1, sharex=True, squeeze=False)[:, 0]
    t = np.arange(steps)
    lo = min(v_arr[:, picked].min(), threshold if threshold is not None else np.inf)
    hi = max(v_arr[:, picked].max(), threshold if threshold is not None else -np.inf)
    pad = 0.12 * (hi - lo) if hi > lo else 0.5
    for ax, i in zip(axes, picked):
        ax.plot(t, v_arr[:, i], color="tab:blue", lw=1.3, label="V")
        if threshold is not None:
            ax.axhline(threshold, color="gray", ls="--", lw=1, label=f"threshold {threshold:g}")
        count = ""
        if s_arr is not None:
            ts = np.nonzero(s_arr[:, i])[0]
            mark_y = threshold if threshold is not None else hi + 0.5 * pad
            ax.plot(ts, np.full(ts.shape, mark_y), "v", color="tab:red", ms=6, label="spike")
            count = f", {len(ts)} spikes"
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_ylabel("V", fontsize=9)
        ax.set_title(f"neuron {i}{count}", fontsize=9, loc="left")
        ax.grid(True, alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper right", ncols=3, fontsize=8, frameon=False)
    axes[-1].set_xlabel("time step")
    fig.suptitle(title)
    return save_png(fig, path)
