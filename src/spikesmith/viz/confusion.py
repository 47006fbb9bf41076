"""Confusion matrix: counts of (true class, predicted class), and its plot with per-class accuracy.

cm[i, j] = number of samples of true class i predicted as class j (rows = true class), so
per-class accuracy (recall) is cm[i, i] / cm[i].sum() and the overall accuracy is trace / total.

>>> confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], num_classes=3)
array([[1, 0, 0],
       [0, 1, 0],
       [0, 1, 1]])
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._common import check_names, check_png_path, new_figure, save_png, to_numpy

MAX_ANNOTATED = 30  # beyond this many classes the counts are too small to print


def _labels(x: Any, name: str, num_classes: int) -> np.ndarray:
    arr = to_numpy(x, name)
    if arr.ndim == 2:  # scores / logits [N, C] -> predicted class
        if arr.shape[1] != num_classes:
            raise ValueError(
                f"{name} as scores must be N x num_classes ({num_classes}), got shape {list(arr.shape)}"
            )
        arr = arr.argmax(axis=1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D class indices (or N x C scores), got shape {list(arr.shape)}")
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{name} must hold integer class indices, got dtype {arr.dtype}")
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError(f"{name} must hold integer class indices, got non-integer values")
    arr = arr.astype(np.int64)
    bad = arr[(arr < 0) | (arr >= num_classes)]
    if bad.size:
        shown = sorted(set(bad.tolist()))[:5]
        raise ValueError(f"{name} must be class indices in [0, {num_classes}), got {shown}")
    return arr


def confusion_matrix(pred: Any, target: Any, num_classes: int) -> np.ndarray:
    """``num_classes x num_classes`` int64 counts, rows = true class (``target``), columns = ``pred``.

    ``pred``: predicted class per sample ``[N]``, or scores ``[N, num_classes]`` (argmax taken);
    ``target``: true class per sample ``[N]``. Arrays, tensors or lists.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
    num_classes = int(num_classes)
    p = _labels(pred, "pred", num_classes)
    t = _labels(target, "target", num_classes)
    if p.shape != t.shape:
        raise ValueError(f"pred and target must have the same length, got {p.shape[0]} and {t.shape[0]}")
    flat = np.bincount(t * num_classes + p, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def check_confusion(cm: Any, name: str = "cm") -> np.ndarray:
    """``cm`` as a square int64 array of non-negative counts."""
    arr = to_numpy(cm, name)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise ValueError(
            f"{name} must be a square num_classes x num_classes matrix, got shape {list(arr.shape)}"
        )
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{name} must hold counts, got dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr != np.round(arr)):
        raise ValueError(f"{name} must hold non-negative integer counts")
    return arr.astype(np.int64)


def per_class_accuracy(cm: Any) -> np.ndarray:
    """cm[i, i] / cm[i].sum() per true class (NaN for a class with no samples)."""
    arr = check_confusion(cm)
    totals = arr.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(arr) / np.maximum(totals, 1), np.nan)


def plot_confusion_matrix(
    cm: Any,
    path: str | os.PathLike,
    class_names: Sequence[str] | None = None,
    title: str = "Confusion matrix",
) -> Path:
    """Heat map of ``cm`` (colour = share of the true class's row), counts written in each cell.

    The y tick labels carry each class's accuracy, the title the overall accuracy.
    Returns ``path``.
    """
    check_png_path(path)
    arr = check_confusion(cm)
    c = arr.shape[0]
    names = check_names(class_names, c, "class_names")
    totals = arr.sum(axis=1)
    frac = arr / np.maximum(totals, 1)[:, None]
    acc = per_class_accuracy(arr)
    total = int(arr.sum())
    overall = f"{np.trace(arr) / total * 100:.2f}%" if total else "n/a"

    side = float(np.clip(0.55 * c + 2.5, 5.0, 16.0))
    fig = new_figure((side + 1.5, side))
    ax = fig.subplots()
    im = ax.imshow(frac, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(im, ax=ax, shrink=0.8, label="share of true class")
    if c <= MAX_ANNOTATED:
        fontsize = 9 if c <= 12 else 7 if c <= 20 else 5
        for i in range(c):
            for j in range(c):
                if arr[i, j] or i == j:
                    ax.text(j, i, str(arr[i, j]), ha="center", va="center", fontsize=fontsize,
                            color="white" if frac[i, j] > 0.5 else "black")
    ticks = np.arange(c)
    ylabels = [f"{n}  ({a * 100:.1f}%)" if np.isfinite(a) else f"{n}  (no samples)"
               for n, a in zip(names, acc)]
    slanted = max(map(len, names)) > 3  # long names would overlap side by side
    ax.set_xticks(ticks, names, rotation=45 if slanted else 0, ha="right" if slanted else "center")
    ax.set_yticks(ticks, ylabels)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class  (per-class accuracy)")
    ax.set_title(f"{title}: {total} samples, accuracy {overall}")
    return save_png(fig, path)
