"""Training curves: loss and accuracy per epoch, train and test, in two panels.

>>> history = [{"epoch": 1, "train_loss": 0.9, "train_accuracy": 0.71, "test_accuracy": 0.80},
...            {"epoch": 2, "train_loss": 0.5, "train_accuracy": 0.86, "test_accuracy": 0.88}]
>>> plot_training_curves(history, "out/curves.png")   # doctest: +SKIP
PosixPath('out/curves.png')
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ._common import check_png_path, new_figure, save_png

KEYS = ("train_loss", "train_accuracy", "test_loss", "test_accuracy")


def _value(entry: Mapping[str, Any], key: str, index: int) -> float | None:
    v = entry.get(key)
    if v is None:
        return None
    if hasattr(v, "item"):
        v = v.item()
    try:
        v = float(v)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"history[{index}][{key!r}] must be a number or None, got {v!r}") from exc
    return None if math.isnan(v) else v


def history_series(history: Sequence[Mapping[str, Any]]) -> dict[str, tuple[list[float], list[float]]]:
    """{key: (epochs, values)} for each of ``KEYS`` with at least one value; missing/None/NaN dropped.

    An entry without ``epoch`` counts as epoch ``index + 1``.
    """
    if isinstance(history, Mapping) or isinstance(history, (str, bytes)) or not isinstance(history, Sequence):
        raise ValueError(
            f"history must be a list of per-epoch dicts, got {type(history).__name__}"
        )
    series: dict[str, tuple[list[float], list[float]]] = {}
    for i, entry in enumerate(history):
        if not isinstance(entry, Mapping):
            raise ValueError(f"history[{i}] must be a dict, got {type(entry).__name__}")
        epoch = _value(entry, "epoch", i)
        epoch = float(i + 1) if epoch is None else epoch
        for key in KEYS:
            v = _value(entry, key, i)
            if v is not None:
                xs, ys = series.setdefault(key, ([], []))
                xs.append(epoch)
                ys.append(v)
    return series


def plot_training_curves(
    history: Sequence[Mapping[str, Any]],
    path: str | os.PathLike,
    title: str = "Training curves",
) -> Path:
    """Two panels: loss (left) and accuracy in % (right), train solid and test dashed.

    ``history`` is a list of per-epoch dicts with any of ``epoch``, ``train_loss``,
    ``train_accuracy``, ``test_loss``, ``test_accuracy`` (accuracies as fractions in [0, 1]);
    missing or ``None`` values are skipped, a panel without data says so. Returns ``path``.
    """
    check_png_path(path)
    series = history_series(history)
    for key in ("train_accuracy", "test_accuracy"):
        if key in series and any(not -1e-9 <= v <= 1 + 1e-9 for v in series[key][1]):
            raise ValueError(
                f"history {key!r} must be a fraction in [0, 1], got values up to "
                f"{max(series[key][1]):g} (pass accuracy / 100 if it is in %)"
            )

    fig = new_figure((10, 4))  # imports matplotlib, or fails with the install hint
    from matplotlib.ticker import MaxNLocator

    ax_loss, ax_acc = fig.subplots(1, 2)
    styles = {"train": dict(color="tab:blue", ls="-"), "test": dict(color="tab:orange", ls="--")}
    for ax, metric, scale, ylabel in (
        (ax_loss, "loss", 1.0, "loss"),
        (ax_acc, "accuracy", 100.0, "accuracy (%)"),
    ):
        drawn = False
        for split in ("train", "test"):
            key = f"{split}_{metric}"
            if key not in series:
                continue
            xs, ys = series[key]
            marker = "o" if len(xs) <= 30 else None
            last = f"{ys[-1] * 100:.2f}%" if metric == "accuracy" else f"{ys[-1]:.4g}"
            label = f"{split} (last {last})"  # the final value, readable at a glance
            ax.plot(xs, [y * scale for y in ys], marker=marker, ms=4, label=label, **styles[split])
            drawn = True
        if drawn:
            ax.legend(loc="best")
        else:
            ax.text(0.5, 0.5, f"no {metric} recorded", ha="center", va="center", transform=ax.transAxes,
                    color="gray")
        ax.set_title(metric.capitalize())
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(title)
    return save_png(fig, path)
