"""Shared plumbing for the plots: lazy matplotlib, input conversion, atomic PNG writes.

Every figure is a bare ``matplotlib.figure.Figure`` drawn by the Agg canvas; ``pyplot`` and its
global backend are never touched, so plotting from a training script, a thread or a headless
machine behaves the same.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_write

INSTALL_HINT = "spikesmith.viz needs matplotlib: pip install spikesmith[viz]"
DPI = 120


def new_figure(figsize: tuple[float, float]) -> Any:
    """A constrained-layout ``Figure`` on an Agg canvas; ImportError with the install hint if needed."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(INSTALL_HINT) from exc
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def check_png_path(path: str | os.PathLike) -> Path:
    """``path`` as a ``Path``; ValueError unless it names a ``.png`` file (checked before drawing)."""
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"path must be a str or os.PathLike ending in '.png', got {type(path).__name__}")
    target = Path(path)
    if target.suffix.lower() != ".png":
        raise ValueError(f"path must end in '.png', got {str(path)!r}")
    if target.is_dir():
        raise ValueError(f"path must be a file name, got the existing folder {str(path)!r}")
    return target


def save_png(fig: Any, path: str | os.PathLike) -> Path:
    """Write ``fig`` to ``path`` as a PNG atomically (temp file in the same folder, then rename).

    Returns the path. The parent folder is created when missing; ``path`` must end in ``.png``.
    """
    target = check_png_path(path)
    with atomic_write(target) as f:
        fig.savefig(f, format="png", dpi=DPI)
    return target


def to_numpy(x: Any, name: str) -> np.ndarray:
    """A numpy copy of a tensor / array / nested list; ValueError naming ``name`` otherwise."""
    if hasattr(x, "detach"):  # torch.Tensor without importing torch here
        x = x.detach().cpu()
        if not x.dtype.is_floating_point and not x.dtype.is_complex:
            return x.numpy()
        return x.double().numpy()
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array or a tensor, got {type(x).__name__}") from exc
    if arr.dtype == object:
        raise ValueError(f"{name} must be a numeric array or tensor, got {type(x).__name__} of objects")
    return arr


def as_float_array(x: Any, name: str, ndim: int | tuple[int, ...]) -> np.ndarray:
    """``to_numpy`` as float64 with a dimension check and a finiteness check."""
    arr = to_numpy(x, name)
    dims = (ndim,) if isinstance(ndim, int) else ndim
    if arr.ndim not in dims:
        want = " or ".join(f"{d}-D" for d in dims)
        raise ValueError(f"{name} must be {want}, got shape {list(arr.shape)}")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def check_names(names: Any, count: int, name: str) -> list[str]:
    """``names`` as a list of ``count`` strings (``None`` -> "0", "1", ...)."""
    if names is None:
        return [str(i) for i in range(count)]
    if isinstance(names, str):
        raise ValueError(f"{name} must be a sequence of {count} names, got the single string {names!r}")
    names = [str(n) for n in names]
    if len(names) != count:
        raise ValueError(f"{name} must have {count} entries (one per class), got {len(names)}")
    return names
