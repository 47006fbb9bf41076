"""Class patterns: each output neuron's input weights shown as an image (the "generative" view).

For a single fully connected layer over a flattened image, row c of its weight ``W`` (``C x
pixels``) is the image that drives class c most: reshaped to ``image_shape`` it shows what the
network looks for, red for excitatory and blue for inhibitory pixels.

For a stack of Linear layers, :func:`class_patterns_from_model` composes the weights,

    P = W_L @ ... @ W_2 @ W_1        (num_classes x pixels)

ignoring biases, spiking nonlinearities and anything between the layers. That is exact for one
layer and only a linear approximation with hidden layers (it says how the weights combine, not
what a thresholded neuron passes on). A convolutional net has no such matrix: compute the
gradient of each class output with respect to an input (e.g. averaged over test images) yourself
and pass that ``num_classes x pixels`` array to :func:`plot_class_patterns`.

>>> fc = torch.nn.Linear(784, 10)
>>> plot_class_patterns(fc.weight, (28, 28), "out/patterns.png")   # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._common import as_float_array, check_names, check_png_path, new_figure, save_png


def check_image_shape(image_shape: Any) -> tuple[int, ...]:
    """``image_shape`` as ``(H, W)`` or ``(C, H, W)`` of positive ints."""
    try:
        shape = tuple(image_shape)
    except TypeError as exc:
        raise ValueError(f"image_shape must be (H, W) or (C, H, W), got {image_shape!r}") from exc
    if len(shape) not in (2, 3) or not all(
        isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0 for d in shape
    ):
        raise ValueError(f"image_shape must be (H, W) or (C, H, W) of positive ints, got {image_shape!r}")
    return tuple(int(d) for d in shape)


def class_pattern_images(weight: Any, image_shape: Any) -> np.ndarray:
    """``weight`` (``C x prod(image_shape)``) reshaped to ``C x H x W``; channels are summed."""
    shape = check_image_shape(image_shape)
    w = as_float_array(weight, "weight", 2)
    pixels = math.prod(shape)
    if w.shape[1] != pixels or w.shape[0] == 0:
        raise ValueError(
            f"weight must be num_classes x {pixels} (prod of image_shape {shape}), got shape {list(w.shape)}"
        )
    imgs = w.reshape((w.shape[0],) + shape)
    return imgs.sum(axis=1) if len(shape) == 3 else imgs


def class_patterns_from_model(model: Any, image_shape: Any) -> np.ndarray:
    """``W_L @ ... @ W_1`` over the model's Linear layers in registration order (``C x pixels``).

    The first Linear must read the flattened image (``in_features == prod(image_shape)``) and
    each next one the previous one's output. Biases and everything between the layers (spiking
    neurons, dropout, norms) are ignored, so with hidden layers this is a linear approximation.
    Raises ValueError for a model with convolutions (see the module docstring for the fallback).
    Returns a float64 numpy array.
    """
    from torch import nn

    shape = check_image_shape(image_shape)
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    linears = []
    for name, m in model.named_modules():
        if isinstance(m, nn.modules.conv._ConvNd):
            raise ValueError(
                f"model has a convolution ({name or 'model'}: {type(m).__name__}); class patterns by weight "
                "composition need a fully connected net. Compute each class output's gradient w.r.t. the "
                "input and pass that num_classes x pixels array to plot_class_patterns"
            )
        if isinstance(m, nn.Linear):
            linears.append((name or "model", m))
    if not linears:
        raise ValueError(f"model has no nn.Linear layer, got {type(model).__name__}")
    pixels = math.prod(shape)
    first_name, first = linears[0]
    if first.in_features != pixels:
        raise ValueError(
            f"model's first Linear ({first_name}) has in_features={first.in_features}, but image_shape "
            f"{shape} has {pixels} pixels"
        )
    p = first.weight.detach().cpu().double().numpy()
    for name, m in linears[1:]:
        if m.in_features != p.shape[0]:
            raise ValueError(
                f"model's Linear {name} has in_features={m.in_features} but the layer before gives "
                f"{p.shape[0]} features; class_patterns_from_model needs a plain chain of Linear layers"
            )
        p = m.weight.detach().cpu().double().numpy() @ p
    return p


def plot_class_patterns(
    weight: Any,
    image_shape: Any,
    path: str | os.PathLike,
    class_names: Sequence[str] | None = None,
    title: str = "Class patterns: input weights of each output neuron",
    shared_scale: bool = True,
) -> Path:
    """A grid of ``C`` images, one per class, red > 0 > blue (colour scale centred at 0).

    ``weight``: ``num_classes x prod(image_shape)`` array / tensor (a Linear weight, the result of
    :func:`class_patterns_from_model`, or input gradients); ``image_shape``: ``(H, W)`` or
    ``(C, H, W)`` (channels summed). ``shared_scale`` uses one colour scale for all classes so
    strengths compare; False scales each image to its own maximum. Returns ``path``.
    """
    check_png_path(path)
    imgs = class_pattern_images(weight, image_shape)
    n = imgs.shape[0]
    names = check_names(class_names, n, "class_names")
    ncols = min(n, 5 if n <= 10 else math.ceil(math.sqrt(n)))
    nrows = math.ceil(n / ncols)
    fig = new_figure((2.0 * ncols + 1.2, 2.1 * nrows + 0.8))
    axes = fig.subplots(nrows, ncols, squeeze=False).reshape(-1)
    global_lim = float(np.abs(imgs).max()) or 1.0
    im = None
    for ax, img, name in zip(axes, imgs, names):
        lim = global_lim if shared_scale else (float(np.abs(img).max()) or 1.0)
        im = ax.imshow(img, cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
        ax.set_title(name, fontsize=10)
        ax.set_axis_off()  # pixel indices add nothing; also skips costly tick layout
    for ax in axes[n:]:
        ax.set_visible(False)
    if shared_scale and im is not None:
        fig.colorbar(im, ax=list(axes[:n]), shrink=0.8, label="weight")
    fig.supxlabel(f"pixel column (image {imgs.shape[2]} wide)")
    fig.supylabel(f"pixel row (image {imgs.shape[1]} high)")
    shape = check_image_shape(image_shape)
    note = " (channels summed)" if len(shape) == 3 and shape[0] > 1 else ""
    fig.suptitle(title + note + ("" if shared_scale else " (each image scaled to its own max)"))
    return save_png(fig, path)
