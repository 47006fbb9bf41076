"""Every plot writes a readable PNG at the given path, and refuses bad inputs by argument name."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from spikesmith import viz

RNG = np.random.default_rng(0)

HISTORY = [
    {"epoch": 1, "train_loss": 1.2, "train_accuracy": 0.61, "test_loss": 1.0, "test_accuracy": 0.70},
    {"epoch": 2, "train_loss": 0.7, "train_accuracy": 0.80, "test_loss": None, "test_accuracy": 0.82},
    {"epoch": 3, "train_loss": 0.5, "train_accuracy": 0.86},  # test metrics missing
]


# test_viz_report.py draws the main variant of every plot; these are the other input forms
PLOTS = {
    "rates_scalar": lambda p: viz.plot_firing_rates({"lif1": 0.1, "lif2": torch.tensor(0.03)}, p),
    "raster_single": lambda p: viz.plot_spike_raster(torch.rand(30, 50) < 0.1, p, title="one sample"),
    "traces_1d": lambda p: viz.plot_membrane_traces(torch.linspace(0, 1, 20), p),
    "patterns_chw": lambda p: viz.plot_class_patterns(RNG.normal(size=(3, 2 * 6 * 5)), (2, 6, 5), p,
                                                      class_names=["x", "y", "z"], shared_scale=False),
}


@pytest.mark.parametrize("name", sorted(PLOTS))
def test_plot_writes_readable_png(name, tmp_path, read_png):
    target = tmp_path / "sub" / f"{name}.png"  # the parent folder is created
    out = PLOTS[name](target)
    assert out == target
    read_png(target)


def test_png_has_the_figure_size(tmp_path, read_png):
    # figsize (10, 4) inches at 120 dpi, no tight bbox cropping
    assert read_png(viz.plot_training_curves(HISTORY, tmp_path / "c.png")) == (1200, 480)


def test_overwrite_replaces_the_file(tmp_path, read_png):
    target = tmp_path / "r.png"
    target.write_bytes(b"not a png")
    viz.plot_firing_rates({"a": 0.2}, target)
    read_png(target)


@pytest.mark.parametrize("bad", ["out.jpg", "out"])
def test_path_must_be_png(bad, tmp_path):
    with pytest.raises(ValueError, match="path"):
        viz.plot_firing_rates({"a": 0.2}, tmp_path / bad)
    assert list(tmp_path.iterdir()) == []


def test_missing_matplotlib_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # makes the import fail
    with pytest.raises(ImportError, match=r"pip install spikesmith\[viz\]"):
        viz.plot_firing_rates({"a": 0.2}, tmp_path / "r.png")


# --- training curves -------------------------------------------------------------------------

def test_history_series_skips_missing_and_none():
    from spikesmith.viz.curves import history_series

    series = history_series(HISTORY)
    assert series["train_loss"] == ([1.0, 2.0, 3.0], [1.2, 0.7, 0.5])
    assert series["test_loss"] == ([1.0], [1.0])
    assert series["test_accuracy"] == ([1.0, 2.0], [0.70, 0.82])
    # no epoch key: index + 1
    no_epochs = history_series([{"train_loss": 2.0}, {"train_loss": 1.0}])
    assert no_epochs["train_loss"] == ([1.0, 2.0], [2.0, 1.0])


@pytest.mark.parametrize(
    "history, match",
    [
        ({"train_loss": [1.0]}, "history"),
        ([1.0, 2.0], r"history\[0\]"),
        ([{"train_loss": "high"}], r"history\[0\]\['train_loss'\]"),
        ([{"test_accuracy": 87.5}], "test_accuracy.*fraction"),
    ],
)
def test_curves_bad_history(history, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        viz.plot_training_curves(history, tmp_path / "c.png")


# --- firing rates ----------------------------------------------------------------------------

def test_mean_rates_from_scalars_and_arrays():
    assert viz.mean_rates({"a": 0.25, "b": torch.tensor([[0.0, 1.0], [0.5, 0.5]])}) == {"a": 0.25, "b": 0.5}


@pytest.mark.parametrize(
    "rates, match",
    [
        ({}, "rates"),
        ([0.1, 0.2], "rates"),
        ({"lif1": -0.1}, r"rates\['lif1'\].*>= 0"),
        ({"lif1": np.array([0.1, np.nan])}, r"rates\['lif1'\].*NaN"),
        ({"lif1": np.array([])}, r"rates\['lif1'\] is empty"),
    ],
)
def test_rates_bad_input(rates, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        viz.plot_firing_rates(rates, tmp_path / "r.png")


def test_histograms_need_per_neuron_arrays(tmp_path):
    with pytest.raises(ValueError, match=r"rates\['out'\].*per-neuron"):
        viz.plot_firing_rate_histograms({"lif": np.ones(5) * 0.1, "out": 0.2}, tmp_path / "h.png")


# --- raster ----------------------------------------------------------------------------------

@pytest.mark.parametrize("n, limit", [(784, 200), (201, 200), (200, 200), (7, 200), (1000, 3), (5, 1)])
def test_subsampling_keeps_at_most_the_limit(n, limit):
    idx = viz.subsample_neurons(n, limit)
    assert len(idx) == min(n, limit)
    assert len(set(idx.tolist())) == len(idx)
    assert np.all(np.diff(idx) > 0) and idx[0] == 0 and idx.min() >= 0 and idx.max() < n
    if n > 1 and limit > 1:
        assert idx[-1] == n - 1  # evenly spread over the whole layer


def test_raster_events_map_to_shown_neurons():
    from spikesmith.viz.raster import raster_events

    s = torch.zeros(6, 784)
    s[3, 783] = 1  # last neuron: always shown
    s[1, 0] = 1
    s[2, 1] = 1  # neuron 1 is not among 200 of 784 evenly spaced neurons
    t, row, shown = raster_events(s, max_neurons=200)
    assert len(shown) == 200
    assert sorted(zip(t.tolist(), row.tolist())) == [(1, 0), (3, 199)]
    assert shown[199] == 783


@pytest.mark.parametrize(
    "spikes, match",
    [
        (torch.zeros(5, 2, 3), r"spikes must be T x N_neurons.*spikes\[:, b\]"),
        (torch.zeros(5), "spikes must be T x N_neurons"),
        ({"lif1": torch.zeros(4, 3), "lif2": torch.zeros(4, 2, 2)}, r"spikes\['lif2'\]"),
        ({}, "non-empty dict"),
        (torch.zeros(0, 3), "at least one step"),
    ],
)
def test_raster_bad_input(spikes, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        viz.plot_spike_raster(spikes, tmp_path / "r.png")


def test_raster_bad_limit(tmp_path):
    with pytest.raises(ValueError, match="max_neurons"):
        viz.plot_spike_raster(torch.zeros(4, 3), tmp_path / "r.png", max_neurons=0)


# --- membrane traces -------------------------------------------------------------------------

@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(v=torch.zeros(5, 2, 3)), "v must be 1-D or 2-D"),
        (dict(v=torch.zeros(5, 3), spikes=torch.zeros(5, 2)), "spikes must have the shape of v"),
        (dict(v=torch.zeros(5, 3), neurons=[0, 3]), r"neurons must be indices in \[0, 3\)"),
        (dict(v=torch.zeros(5, 3), neurons=0), "neurons must be >= 1"),
        (dict(v=torch.zeros(5, 40), neurons=list(range(20))), "neurons selects 20"),
        (dict(v=torch.zeros(5, 3), threshold="high"), "threshold"),
        (dict(v=torch.full((5, 3), float("nan"))), "v contains NaN"),
    ],
)
def test_traces_bad_input(kwargs, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        viz.plot_membrane_traces(path=tmp_path / "v.png", **kwargs)
