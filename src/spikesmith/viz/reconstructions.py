"""Reconstructions: inputs next to what a generative model makes of them, one row per model.

``rows`` maps a label (``"input"``, ``"RBM 1"``, ``"whole stack"``) to ``K x pixels`` images; every
row has the same K samples in the same order, so a column compares one input with its
reconstructions. Pixels are drawn on one fixed grey scale, ``[0, 1]`` (probabilities), unless the
values leave it.

>>> plot_reconstructions({"input": x[:10], "RBM 1": rbm.reconstruct(x[:10])}, (28, 28), "recon.png")   # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._common import as_float_array, check_png_path, new_figure, save_png
from .patterns import check_image_shape

__all__ = ["plot_reconstructions"]


def plot_reconstructions(rows: Mapping[str, Any], image_shape: Any, path: str | os.PathLike,
                         title: str = "Reconstructions") -> Path:
    """One row of images per entry of ``rows`` (label -> ``K x pixels``), the same K samples in each."""
    target = check_png_path(path)
    shape = check_image_shape(image_shape)
    if not isinstance(rows, Mapping) or not rows:
        raise ValueError(f"rows must be a non-empty dict of label -> K x pixels images, got {type(rows).__name__}")
    pixels = math.prod(shape)
    arrays = {}
    for label, images in rows.items():
        arr = as_float_array(images, f"rows[{label!r}]", (2, 3, 4))
        arr = arr.reshape(arr.shape[0], -1)
        if arr.shape[1] != pixels:
            raise ValueError(f"rows[{label!r}] must hold images of {pixels} pixels (image_shape {shape}), got "
                             f"{arr.shape[1]}")
        arrays[str(label)] = arr.reshape((arr.shape[0],) + shape)
    counts = {a.shape[0] for a in arrays.values()}
    if len(counts) != 1 or 0 in counts:
        raise ValueError(f"every row must hold the same number (>= 1) of images, got "
                         f"{ {k: a.shape[0] for k, a in arrays.items()} }")
    k = counts.pop()
    low = min(0.0, min(float(a.min()) for a in arrays.values()))
    high = max(1.0, max(float(a.max()) for a in arrays.values()))
    fig = new_figure((0.9 * k + 1.2, 1.0 * len(arrays) + 0.5))
    axes = fig.subplots(len(arrays), k, squeeze=False)
    for r, (label, imgs) in enumerate(arrays.items()):
        for c in range(k):
            ax = axes[r, c]
            img = imgs[c].sum(axis=0) / imgs[c].shape[0] if len(shape) == 3 else imgs[c]
            ax.imshow(img, cmap="gray", vmin=low, vmax=high, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(label, rotation=0, ha="right", va="center")
    fig.suptitle(title)
    return save_png(fig, target)
