"""Accuracy against the number of time steps T: one line per conversion, the ANN as a dashed line."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from ._common import new_figure, save_png


def plot_accuracy_vs_T(results: dict, ann_accuracy: float, steps: Sequence[int], path: str | os.PathLike,
                       title: str = "converted SNN vs T") -> Path:
    """``results``: label -> ``{"accuracy": {str(T): accuracy}, "ann_accuracy": optional}``.

    A row whose own ``ann_accuracy`` differs from ``ann_accuracy`` (an ANN without biases, say) gets
    a dotted grey line of its own. T is drawn on a log-2 axis. Returns the PNG's path.
    """
    fig = new_figure((6.0, 4.0))
    ax = fig.add_subplot(1, 1, 1)
    for label, row in results.items():
        ts = [t for t in steps if str(t) in row["accuracy"]]
        ax.plot(ts, [100 * row["accuracy"][str(t)] for t in ts], marker="o", label=label)
        if row.get("ann_accuracy") is not None and abs(row["ann_accuracy"] - ann_accuracy) > 1e-12:
            ax.axhline(100 * row["ann_accuracy"], ls=":", color="grey", lw=1)
    ax.axhline(100 * ann_accuracy, ls="--", color="black", lw=1, label=f"ANN {100 * ann_accuracy:.2f}%")
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(steps))
    ax.set_xticklabels([str(t) for t in steps])
    ax.set_xlabel("time steps T")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_png(fig, path)
