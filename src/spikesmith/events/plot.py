"""A picture of an event stream: accumulated frames over time, ON events in one colour, OFF in another.

matplotlib is imported only when drawing (``pip install spikesmith[viz]``); the PNG is written
atomically (temporary file, then rename), as every plot in :mod:`spikesmith.viz`.

Example::

    plot_events(events, (34, 34, 2), "out/sample.png", n_frames=6)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from spikesmith.events.core import check_events, check_sensor_size
from spikesmith.events.frames import to_frame

ON_COLOUR = (0.85, 0.2, 0.1)     # red-orange
OFF_COLOUR = (0.1, 0.35, 0.9)    # blue


def event_images(events: np.ndarray, sensor_size: Any, n_frames: int = 6) -> np.ndarray:
    """RGB images ``[n_frames, H, W, 3]`` in [0, 1]: white background, ON/OFF colours by event count.

    Each frame accumulates one of ``n_frames`` equal time bins; a pixel's colour is the mix of ON
    and OFF colours weighted by its counts, its strength the count relative to the busiest pixel.
    """
    check_events(events, sensor_size)
    w, h, p = check_sensor_size(sensor_size)
    frames = to_frame(events, sensor_size, n_time_bins=n_frames).astype(np.float64)
    on = frames[:, 1] if p == 2 else frames[:, 0]
    off = frames[:, 0] if p == 2 else np.zeros_like(on)
    total = on + off
    scale = max(float(total.max()), 1.0)
    strength = np.sqrt(total / scale)[..., None]  # sqrt: faint activity stays visible
    mix = np.where(total[..., None] > 0,
                   (on[..., None] * np.array(ON_COLOUR) + off[..., None] * np.array(OFF_COLOUR))
                   / np.maximum(total, 1)[..., None], 1.0)
    return (1.0 - strength) * 1.0 + strength * mix


def plot_events(events: np.ndarray, sensor_size: Any, path: str | os.PathLike, n_frames: int = 6,
                title: str | None = None) -> Path:
    """Draw ``n_frames`` accumulated frames of ``events`` side by side and save a PNG at ``path``.

    Each panel is titled with its time range (ms from the first event). Returns the path.
    """
    from spikesmith.viz._common import check_png_path, new_figure, save_png

    check_png_path(path)
    if isinstance(n_frames, bool) or not isinstance(n_frames, int) or n_frames < 1:
        raise ValueError(f"plot_events: n_frames must be a positive int, got {n_frames!r}")
    images = event_images(events, sensor_size, n_frames)
    t0 = int(events["t"].min()) if events.size else 0
    span = (int(events["t"].max()) - t0 + 1) if events.size else 1
    fig = new_figure((2.2 * n_frames, 2.6))
    axes = fig.subplots(1, n_frames, squeeze=False)[0]
    for k, ax in enumerate(axes):
        ax.imshow(images[k], interpolation="nearest")
        ax.set_title(f"{k * span / n_frames / 1e3:.0f}-{(k + 1) * span / n_frames / 1e3:.0f} ms", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title or f"{events.size} events (ON red, OFF blue)", fontsize=9)
    return save_png(fig, path)
