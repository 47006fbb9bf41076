"""write_report: every figure drawn once, README with the summary and links that exist."""

from __future__ import annotations

import re
import sys
import warnings

import numpy as np
import pytest
import torch

from spikesmith import viz

NAMES = ["zero", "one", "two", "three"]
CM = np.array([[9, 1, 0, 0], [0, 8, 2, 0], [0, 0, 10, 0], [1, 0, 0, 9]])  # 36 of 40 = 90.00 %
HISTORY = [
    {"epoch": 1, "train_loss": 1.0, "train_accuracy": 0.5, "test_loss": 0.9, "test_accuracy": 0.6},
    {"epoch": 2, "train_loss": 0.6, "train_accuracy": 0.8, "test_loss": 0.5, "test_accuracy": 0.875},
]
LINKS = re.compile(r"!\[[^\]]*\]\(([^)]+)\)")


def _lif_trace(steps=40, neurons=3, threshold=0.5):
    x = np.random.default_rng(0).random((steps, neurons))
    v, s, h = np.zeros((steps, neurons)), np.zeros((steps, neurons)), np.zeros(neurons)
    for t in range(steps):
        h = h + (x[t] - h) / 2  # LIF, tau = 2, hard reset to 0
        s[t] = h >= threshold
        h = np.where(s[t] > 0, 0.0, h)
        v[t] = h
    return v, s


@pytest.fixture(scope="module")
def full_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    v, s = _lif_trace()
    readme = viz.write_report(
        out,
        history=HISTORY,
        firing_rates={"lif1": torch.rand(300) * 0.2, "lif2": 0.04},
        confusion=CM,
        class_names=NAMES,
        raster={"lif1": torch.rand(20, 300) < 0.1, "out": torch.rand(20, 4) < 0.3},
        traces={"v": v, "spikes": s, "threshold": 0.5, "neurons": [0, 2]},
        patterns=torch.randn(4, 36),  # 6 x 6 inferred
        summary={"dataset": "digits | small", "model": "mlp", "test_accuracy": 0.875, "wall_time_s": 75.0,
                 "seed": 3},
    )
    return out, readme


def test_readme_is_in_report_folder(full_report):
    out, readme = full_report
    assert readme == out / "report" / "README.md"


def test_every_figure_is_drawn_and_linked(full_report, read_png):
    _, readme = full_report
    links = LINKS.findall(readme.read_text())
    assert sorted(links) == sorted([
        "training_curves.png", "firing_rates.png", "firing_rate_histograms.png", "confusion_matrix.png",
        "spike_raster.png", "membrane_traces.png", "class_patterns.png",
    ])
    for link in links:
        read_png(readme.parent / link)
    assert "## Skipped" not in readme.read_text()


def test_summary_table(full_report):
    text = full_report[1].read_text()
    assert "| Test accuracy | 87.50 % |" in text
    assert "| Wall time | 1 min 15 s |" in text
    assert "| Dataset | digits \\| small |" in text  # a '|' in a value must not split the cell
    assert "| Seed | 3 |" in text
    assert "| lif1 |" in text and "| lif2 | 0.04 |" in text  # mean firing rate per layer


def test_test_accuracy_and_epochs_fall_back(tmp_path):
    readme = viz.write_report(tmp_path, confusion=None, history=None, firing_rates=None, class_names=None,
                              summary={"dataset": "d"})
    assert "Test accuracy" not in readme.read_text()
    readme = viz.write_report(tmp_path / "a", history=[{"test_accuracy": 0.5}, {"test_accuracy": 0.625}],
                              firing_rates=None, confusion=None, class_names=None, summary={})
    text = readme.read_text()
    assert "| Test accuracy | 62.50 % |" in text and "| Epochs | 2 |" in text


def test_missing_pieces_are_skipped(tmp_path):
    readme = viz.write_report(tmp_path, history=None, firing_rates=None, confusion=None, class_names=None,
                              summary={"model": "m"})
    assert readme.is_file()
    assert LINKS.findall(readme.read_text()) == []
    assert [p.name for p in readme.parent.iterdir()] == ["README.md"]


def test_bad_piece_is_listed_not_fatal(tmp_path, read_png):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        readme = viz.write_report(
            tmp_path, history=None, firing_rates={"lif": 0.1}, confusion=np.zeros((2, 3)), class_names=None,
            patterns=np.zeros((3, 10)), traces={"spikes": np.zeros((3, 3))}, summary={},
        )
    assert [str(w.message).split(":")[0] for w in caught] == [
        "write_report skipped 'Confusion matrix'",
        "write_report skipped 'Membrane potential'",
        "write_report skipped 'Class patterns'",
    ]
    # RuntimeWarnings that point at the caller's line
    assert all(w.category is RuntimeWarning and w.filename == __file__ for w in caught)
    text = readme.read_text()
    assert LINKS.findall(text) == ["firing_rates.png"]
    read_png(readme.parent / "firing_rates.png")
    skipped = text.split("## Skipped", 1)[1]
    assert "Confusion matrix: ValueError: cm must be a square" in skipped
    assert "Membrane potential: ValueError: traces as a dict needs a 'v'" in skipped
    assert "Class patterns: ValueError: image_shape is needed: 10 pixels" in skipped


def test_without_matplotlib_the_readme_is_still_written(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.warns(RuntimeWarning, match="pip install spikesmith"):
        readme = viz.write_report(tmp_path, history=HISTORY, firing_rates={"lif": 0.1}, confusion=CM,
                                  class_names=NAMES, summary={"test_accuracy": 0.9})
    text = readme.read_text()
    assert "| Test accuracy | 90.00 % |" in text
    assert LINKS.findall(text) == []
    assert "Training curves: ImportError" in text


def test_summary_must_be_a_dict(tmp_path):
    with pytest.raises(ValueError, match="summary"):
        viz.write_report(tmp_path, history=None, firing_rates=None, confusion=None, class_names=None,
                         summary=[("dataset", "x")])


def test_test_accuracy_falls_back_on_the_confusion_matrix(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # no figures: only the README
    with pytest.warns(RuntimeWarning):
        readme = viz.write_report(tmp_path, history=[{"train_loss": 1.0}], firing_rates=None, confusion=CM,
                                  class_names=NAMES, summary={"dataset": "d"})
    assert "| Test accuracy | 90.00 % |" in readme.read_text()  # 36 / 40
