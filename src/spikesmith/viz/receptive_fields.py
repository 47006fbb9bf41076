"""Receptive fields: the input weights of a layer's units, each drawn as an image.

Row j of a first layer's weight ``W`` (``units x pixels``) is what unit j responds to; reshaped to
``image_shape`` it shows the stroke, edge or blob the unit has learned (for an RBM trained on
images, the classic grid of filters). Each image is scaled to its own range, so weak and strong
units are equally visible; the units with the largest weight norm are shown first.

>>> plot_receptive_fields(dbn.rbms[0].weight, (28, 28), "report/receptive_fields.png")   # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from ._common import as_float_array, check_png_path, new_figure, save_png
from .patterns import check_image_shape

__all__ = ["plot_receptive_fields", "receptive_field_images"]


def receptive_field_images(weight: Any, image_shape: Any, count: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """The ``count`` units with the largest weight norm as ``count x H x W`` images (channels summed),
    strongest first, and their unit indices."""
    shape = check_image_shape(image_shape)
    w = as_float_array(weight, "weight", 2)
    pixels = math.prod(shape)
    if w.shape[1] != pixels or w.shape[0] == 0:
        raise ValueError(f"weight must be units x {pixels} (prod of image_shape {shape}), got shape {list(w.shape)}")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a positive int (units to show), got {count!r}")
    order = np.argsort(-np.linalg.norm(w, axis=1), kind="stable")[:count]
    imgs = w[order].reshape((len(order),) + shape)
    return (imgs.sum(axis=1) if len(shape) == 3 else imgs), order


def plot_receptive_fields(weight: Any, image_shape: Any, path: str | os.PathLike, count: int = 100,
                          title: str = "Receptive fields") -> Path:
    """A grid of the strongest ``count`` units' weight images (each scaled to its own range, grey)."""
    target = check_png_path(path)
    imgs, order = receptive_field_images(weight, image_shape, count)
    cols = math.ceil(math.sqrt(len(imgs)))
    rows = math.ceil(len(imgs) / cols)
    fig = new_figure((0.8 * cols + 0.4, 0.8 * rows + 0.6))
    axes = fig.subplots(rows, cols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i < len(imgs):
            img = imgs[i]
            low, high = float(img.min()), float(img.max())
            ax.imshow(img, cmap="gray", vmin=low, vmax=high if high > low else low + 1, interpolation="nearest")
    fig.suptitle(f"{title} ({len(imgs)} of {np.asarray(as_float_array(weight, 'weight', 2)).shape[0]} units, "
                 f"strongest first)")
    return save_png(fig, target)
