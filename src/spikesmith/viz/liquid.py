"""Figures of a liquid state machine: its raster with excitatory and inhibitory neurons coloured,
the separation curve, the memory (fading-memory) curve and the readout's accuracy."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ._common import as_float_array, check_png_path, new_figure, save_png, to_numpy

__all__ = ["plot_liquid_raster", "plot_memory_curve", "plot_readout_accuracy", "plot_separation_curve"]

EXCITATORY_COLOUR, INHIBITORY_COLOUR = "tab:red", "tab:blue"


def plot_liquid_raster(spikes: Any, excitatory: Any, path: str | os.PathLike, title: str = "Liquid (one sample)",
                       step_ms: float = 1.0) -> Path:
    """``spikes`` ``T x neurons`` of one sample; ``excitatory`` a bool per neuron. Excitatory
    neurons are drawn on top in red, inhibitory ones below in blue."""
    check_png_path(path)
    s = as_float_array(spikes, "spikes", 2)
    exc = to_numpy(excitatory, "excitatory").astype(bool).reshape(-1)
    if exc.shape[0] != s.shape[1]:
        raise ValueError(f"excitatory must hold one flag per neuron ({s.shape[1]}), got {exc.shape[0]}")
    order = np.concatenate([np.flatnonzero(exc), np.flatnonzero(~exc)])
    row_of = np.empty_like(order)
    row_of[order] = np.arange(order.size)
    t, neuron = np.nonzero(s > 0)
    fig = new_figure((9, 1.5 + min(5.0, s.shape[1] / 40)))
    ax = fig.subplots()
    size = float(np.clip(3000.0 / max(s.shape[1], 1), 2.0, 40.0))
    for flag, colour, label in ((True, EXCITATORY_COLOUR, "excitatory"), (False, INHIBITORY_COLOUR, "inhibitory")):
        pick = exc[neuron] == flag
        rate = float(s[:, exc == flag].mean()) * 1000.0 / step_ms if (exc == flag).any() else 0.0
        ax.scatter(t[pick] * step_ms, row_of[neuron[pick]], marker="|", s=size, linewidths=1.0, color=colour,
                   label=f"{label} ({int((exc == flag).sum())} neurons, {rate:.3g} Hz)")
    ax.set_xlim(-0.5 * step_ms, (s.shape[0] - 0.5) * step_ms)
    ax.set_ylim(s.shape[1] - 0.5, -0.5)
    ax.axhline(exc.sum() - 0.5, color="grey", lw=0.5)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron (E first, then I)")
    ax.legend(loc="upper right", fontsize=8, markerscale=2)
    ax.set_title(title, loc="left", fontsize=10)
    return save_png(fig, path)


def plot_separation_curve(input_distance: Any, state_distance: Any, centres: Any, means: Any,
                          path: str | os.PathLike) -> Path:
    """State distance against input distance: each pair a dot, the binned mean a line."""
    check_png_path(path)
    x, y = as_float_array(input_distance, "input_distance", 1), as_float_array(state_distance, "state_distance", 1)
    fig = new_figure((5.5, 4))
    ax = fig.subplots()
    ax.scatter(x, y, s=8, alpha=0.4, color="grey", label="pairs of inputs")
    ax.plot(as_float_array(centres, "centres", 1), as_float_array(means, "means", 1), "o-", color="tab:red",
            label="mean per bin")
    ax.set_xlabel("input distance (filtered, per step)")
    ax.set_ylabel("liquid state distance ||x_a - x_b||")
    ax.set_title("Separation property", loc="left", fontsize=10)
    ax.legend(fontsize=8)
    return save_png(fig, path)


def plot_memory_curve(delays: Any, r2: Any, path: str | os.PathLike, unit: str = "bin") -> Path:
    """The fading-memory curve MC_k against delay k, its sum (the memory capacity) in the title."""
    check_png_path(path)
    k, r = as_float_array(delays, "delays", 1), as_float_array(r2, "r2", 1)
    fig = new_figure((5.5, 4))
    ax = fig.subplots()
    ax.bar(k, r, color="tab:green", width=0.8)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel(f"delay k ({unit}s)")
    ax.set_ylabel("MC_k = corr(u(t - k), y_k(t))^2")
    ax.set_title(f"Memory capacity {float(r.sum()):.2f} (sum over k)", loc="left", fontsize=10)
    return save_png(fig, path)


def plot_readout_accuracy(accuracies: Mapping[str, float], path: str | os.PathLike, title: str = "Readout") -> Path:
    """Bars of accuracies (fractions) by name, e.g. train and test."""
    check_png_path(path)
    names = list(accuracies)
    values = np.array([float(accuracies[n]) for n in names]) * 100
    fig = new_figure((4.5, 3.5))
    ax = fig.subplots()
    bars = ax.bar(names, values, color=["tab:grey", "tab:red", "tab:blue"][:len(names)])
    for bar, v in zip(bars, values):
        ax.text(bar.get_x() + bar.get_width() / 2, v + 1, f"{v:.1f}%", ha="center", fontsize=9)
    ax.set_ylim(0, 105)
    ax.set_ylabel("accuracy (%)")
    ax.set_title(title, loc="left", fontsize=10)
    return save_png(fig, path)
