"""SpikingJelly's ``visualizing`` plots on spikesmith's figure helpers (``spikesmith.viz``).

``plot_1d_spikes(spikes [N, T], title, xlabel, ylabel, ...)``, ``plot_2d_heatmap(array [N, T], ...)`` and
``plot_one_neuron_v_s(v [T], s [T], v_threshold, v_reset, ...)`` return ``(fig, ax...)`` as SpikingJelly's do;
the figure is on matplotlib's Agg canvas, so save it with ``fig.savefig(path)`` (``plt.show()`` shows
nothing: it was not drawn through pyplot). spikesmith's own plots (``viz.plot_spike_raster`` and the
rest) write a PNG and return its path.
"""

from __future__ import annotations

import numpy as np

from ...viz._common import as_float_array, new_figure
from ._missing import missing_name


def _figure(figsize, dpi):
    fig = new_figure(tuple(figsize))
    fig.set_dpi(dpi)
    return fig


def plot_2d_heatmap(array, title: str, xlabel: str, ylabel: str, int_x_ticks: bool = True, int_y_ticks: bool = True,
                    plot_colorbar: bool = True, colorbar_y_label: str = "magnitude", x_max=None,
                    figsize=(12, 8), dpi: int = 200):
    """A heat map of ``array`` (``[N, T]``: one row per neuron, time along x)."""
    values = as_float_array(array, "array", 2)
    fig = _figure(figsize, dpi)
    ax = fig.add_subplot(1, 1, 1)
    extent = None if x_max is None else (-0.5, float(x_max) - 0.5, values.shape[0] - 0.5, -0.5)
    image = ax.imshow(values, aspect="auto", extent=extent)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if int_x_ticks:
        ax.xaxis.get_major_locator().set_params(integer=True)
    if int_y_ticks:
        ax.yaxis.get_major_locator().set_params(integer=True)
    if plot_colorbar:
        bar = fig.colorbar(image, ax=ax)
        bar.ax.set_ylabel(colorbar_y_label, rotation=90, va="top")
    return fig, ax


def plot_1d_spikes(spikes, title: str, xlabel: str, ylabel: str, int_x_ticks: bool = True, int_y_ticks: bool = True,
                   plot_firing_rate: bool = True, firing_rate_map_title: str = "firing rate", figsize=(12, 8),
                   dpi: int = 200):
    """A raster of ``spikes`` (``[N, T]``) with, optionally, each neuron's firing rate beside it."""
    s = as_float_array(spikes, "spikes", 2)
    fig = _figure(figsize, dpi)
    if plot_firing_rate:
        grid = fig.add_gridspec(1, 5)
        ax, ax_rate = fig.add_subplot(grid[0, :4]), fig.add_subplot(grid[0, 4])
    else:
        ax, ax_rate = fig.add_subplot(1, 1, 1), None
    neuron, t = np.nonzero(s)
    ax.eventplot([t[neuron == i] for i in range(s.shape[0])], lineoffsets=np.arange(s.shape[0]), colors="black")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xlim(-0.5, s.shape[1] - 0.5)
    if int_x_ticks:
        ax.xaxis.get_major_locator().set_params(integer=True)
    if int_y_ticks:
        ax.yaxis.get_major_locator().set_params(integer=True)
    if ax_rate is None:
        return fig, ax
    rates = s.mean(axis=1, keepdims=True)
    ax_rate.imshow(rates, aspect="auto", cmap="magma")
    ax_rate.set_title(firing_rate_map_title)
    ax_rate.set_xticks([])
    for i, rate in enumerate(rates[:, 0]):
        ax_rate.text(0, i, f"{rate:.2f}", ha="center", va="center", color="white" if rate < 0.5 else "black")
    return fig, ax, ax_rate


def plot_one_neuron_v_s(v, s, v_threshold: float = 1.0, v_reset=0.0, title: str = "$V[t]$ and $S[t]$ of the neuron",
                        figsize=(12, 8), dpi: int = 200):
    """One neuron's membrane ``v`` (``[T]``) with the threshold (and reset) lines above its spikes ``s``."""
    v_arr, s_arr = as_float_array(v, "v", 1), as_float_array(s, "s", 1)
    fig = _figure(figsize, dpi)
    ax_v, ax_s = fig.add_subplot(2, 1, 1), fig.add_subplot(2, 1, 2)
    ax_v.set_title(title)
    steps = np.arange(v_arr.shape[0])
    ax_v.plot(steps, v_arr)
    ax_v.axhline(v_threshold, label="$V_{threshold}$", linestyle="-.", color="r")
    if v_reset is not None:
        ax_v.axhline(v_reset, label="$V_{reset}$", linestyle="-.", color="g")
    ax_v.legend(frameon=True)
    ax_v.set_ylabel("voltage")
    ax_s.eventplot(np.nonzero(s_arr)[0], lineoffsets=0, colors="r")
    ax_s.set_yticks([])
    ax_s.set_xlim(-0.5, s_arr.shape[0] - 0.5)
    ax_s.set_xlabel("simulating step")
    ax_s.set_ylabel("spike")
    return fig, ax_v, ax_s


_NEAREST = {
    "plot_2d_bar_in_3d": "plot_2d_heatmap, or spikesmith.viz.plot_firing_rates",
    "plot_2d_feature_map": "plot_2d_heatmap of each channel, or spikesmith.viz.plot_receptive_fields",
    "plot_2d_spiking_feature_map": "plot_2d_heatmap of each channel",
}

__all__ = ["plot_1d_spikes", "plot_2d_heatmap", "plot_one_neuron_v_s"]


def __getattr__(name: str):
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    raise missing_name(__name__, name, _NEAREST, __all__)
