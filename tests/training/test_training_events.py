"""Event-camera datasets through the trainer: frames are integer counts, time moves first."""

import json

import numpy as np
import pytest

from spikesmith.cli.main import main
from spikesmith.data import write_idx


@pytest.fixture()
def tiny_fashion_mnist(tmp_path, monkeypatch):
    """A few made-up images in the Fashion-MNIST IDX layout; HOME in tmp so caches stay there."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SPIKESMITH_DATA", raising=False)
    rng = np.random.default_rng(0)
    root = tmp_path / "fmnist"
    for prefix, n in (("train", 24), ("t10k", 12)):
        images = np.zeros((n, 28, 28), np.uint8)
        labels = (np.arange(n) % 2).astype(np.uint8)
        for i in range(n):  # class 0: a bright square on the left, class 1 on the right
            x0 = 4 if labels[i] == 0 else 16
            images[i, 8:20, x0:x0 + 8] = 200 + rng.integers(0, 50)
        write_idx(root / f"{prefix}-images-idx3-ubyte", images)
        write_idx(root / f"{prefix}-labels-idx1-ubyte", labels)
    return root


def test_nfmnist_trains_on_event_frames(tiny_fashion_mnist, tmp_path):
    out = tmp_path / "run"
    code = main(["train", "--dataset", "nfmnist", "--data-dir", str(tiny_fashion_mnist), "--T", "4",
                 "--epochs", "1", "--channels", "4", "--batch-size", "8", "--report", "false", "--out", str(out)])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model"] == "csnn" and metrics["model_args"]["in_channels"] == 2
    assert metrics["config"]["encoder"] == "none"
    assert 0.0 <= metrics["test_accuracy"] <= 1.0 and metrics["history"][0]["mean_firing_rate"] is not None


def test_nmnist_without_data_dir_says_where_to_put_it(tmp_path, capsys):
    code = main(["train", "--dataset", "nmnist", "--epochs", "1", "--out", str(tmp_path / "r")])
    assert code == 2
    assert "--data-dir" in capsys.readouterr().err


def test_nfmnist_flash_frames_are_28_by_28_and_augment(tiny_fashion_mnist, tmp_path):
    out = tmp_path / "flash"
    code = main(["train", "--dataset", "nfmnist", "--event-method", "flash", "--data-dir", str(tiny_fashion_mnist),
                 "--T", "4", "--epochs", "1", "--channels", "4", "--batch-size", "8", "--random-flip", "true",
                 "--random-shift", "1", "--report", "false", "--out", str(out)])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["event_method"] == "flash"
    from spikesmith.data.event_frames import load_event_frames
    x, y, info = load_event_frames("nfmnist", "test", 4, tiny_fashion_mnist, method="flash")
    assert tuple(x.shape) == (12, 4, 2, 28, 28) and info.input_shape == (4, 2, 28, 28)
    # light on: ON events in the first bin where the image is bright, nothing where it is dark
    assert int(x[:, 0, 1].sum()) > 0 and int(x[:, :, :, :8].sum()) == 0


def test_event_method_is_checked(tmp_path, capsys):
    assert main(["train", "--dataset", "nfmnist", "--event-method", "blink", "--out", str(tmp_path / "r")]) == 2
    assert "event_method must be saccade, flash or poisson, got 'blink'" in capsys.readouterr().err
    from spikesmith.data.event_frames import event_info
    with pytest.raises(ValueError, match="is a recording"):
        event_info("nmnist", 8, "flash")
    from spikesmith.data.event_frames import load_event_frames
    with pytest.raises(ValueError, match="event_threshold sets"):
        load_event_frames("nmnist", "train", 8, tmp_path, threshold=0.1)
    with pytest.raises(ValueError, match="event_threshold must be > 0"):
        load_event_frames("nfmnist", "train", 8, tmp_path, threshold=0.0)


def test_lower_event_threshold_gives_more_events(tiny_fashion_mnist):
    from spikesmith.data.event_frames import load_event_frames
    coarse, _, _ = load_event_frames("nfmnist", "test", 4, tiny_fashion_mnist, method="flash")
    fine, _, _ = load_event_frames("nfmnist", "test", 4, tiny_fashion_mnist, method="flash", threshold=0.1)
    assert int(fine.sum()) > 1.8 * int(coarse.sum())
