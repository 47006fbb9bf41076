"""The training loop: what it writes (metrics.json, log.csv, checkpoint.pt) and its variants."""

from __future__ import annotations

import csv
import json

import pytest
import torch
from training_helpers import assert_same_weights, tiny_run, weights

from spikesmith.run import train as run
from spikesmith.training import make_config


def _read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_metrics_json(tiny_two_epochs):
    out, metrics = tiny_two_epochs
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk["test_accuracy"] == metrics["test_accuracy"]
    acc = on_disk["test_accuracy"]
    assert 0.0 <= acc <= 1.0
    assert acc * 100 == pytest.approx(round(acc * 100))              # a fraction of the 100 test images
    assert on_disk["epochs_run"] == 2
    assert [row["epoch"] for row in on_disk["history"]] == [1, 2]
    for row in on_disk["history"]:
        assert set(row) >= {"epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "lr",
                            "epoch_time_s", "mean_firing_rate"}
        assert 0.0 <= row["train_accuracy"] <= 1.0 and 0.0 <= row["test_accuracy"] <= 1.0
    # the final evaluation is of the model after the last epoch, with a seeded encoder
    assert on_disk["test_accuracy"] == on_disk["history"][-1]["test_accuracy"]
    assert on_disk["best_test_accuracy"] == max(r["test_accuracy"] for r in on_disk["history"])
    assert set(on_disk["firing_rates"]) == {"2"}                     # FCSNN's hidden neurons (membrane readout)
    assert 0.0 < on_disk["firing_rates"]["2"] < 1.0
    assert on_disk["history"][-1]["mean_firing_rate"] == pytest.approx(on_disk["firing_rates"]["2"])
    assert 0.0 < on_disk["train_time_s"] <= on_disk["wall_time_s"]
    assert on_disk["dataset"] == "digits" and on_disk["model"] == "fcsnn"
    assert on_disk["config"]["model"] == "fcsnn" and on_disk["config"]["encoder"] == "direct"
    assert on_disk["config"]["out"] == str(out)
    assert on_disk["world_size"] == 1


def test_training_changes_the_loss(tiny_two_epochs):
    _, metrics = tiny_two_epochs
    first, last = metrics["history"][0], metrics["history"][-1]
    assert last["train_loss"] < first["train_loss"] < 2.31          # starts near ln(10), then learns
    assert metrics["test_accuracy"] > 0.2                           # chance is 0.1


def test_log_csv(tiny_two_epochs):
    out, metrics = tiny_two_epochs
    rows = _read_csv(out / "log.csv")
    assert len(rows) == 2
    assert list(rows[0]) == list(metrics["history"][0])
    for row, hist in zip(rows, metrics["history"]):
        assert int(row["epoch"]) == hist["epoch"]
        assert float(row["test_accuracy"]) == hist["test_accuracy"]
        assert float(row["train_loss"]) == hist["train_loss"]


def test_the_same_config_gives_the_same_weights(tmp_path, tiny_two_epochs):
    out, metrics = tiny_two_epochs
    again = tiny_run(tmp_path)
    assert_same_weights(weights(tmp_path), weights(out))
    assert again["test_accuracy"] == metrics["test_accuracy"]


def test_a_different_seed_gives_different_weights(tmp_path, tiny_two_epochs):
    out, _ = tiny_two_epochs
    tiny_run(tmp_path, seed=1)
    assert not torch.equal(weights(tmp_path)["1.weight"], weights(out)["1.weight"])


def test_poisson_encoder_run(tmp_path):
    metrics = tiny_run(tmp_path, encoder="poisson", epochs=1)
    assert metrics["config"]["encoder"] == "poisson"
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    # evaluation draws its spikes from a fixed seed: the final evaluation repeats the epoch's
    assert metrics["test_accuracy"] == metrics["history"][-1]["test_accuracy"]
    assert metrics["firing_rates"]["2"] > 0


def test_ann_twin_run(tmp_path):
    metrics = tiny_run(tmp_path, ann=True, epochs=2)
    assert metrics["config"]["ann"] is True
    assert metrics["firing_rates"] == {}
    assert all(row["mean_firing_rate"] is None for row in metrics["history"])
    assert metrics["test_accuracy"] > 0.3
    rows = _read_csv(tmp_path / "log.csv")
    assert [r["mean_firing_rate"] for r in rows] == ["", ""]
    assert set(weights(tmp_path)) == {"1.weight", "3.weight"}


def test_csnn_run(tmp_path):
    metrics = tiny_run(tmp_path, model="csnn", channels=4, epochs=1)
    assert metrics["model"] == "csnn" and metrics["model_args"]["channels"] == 4
    assert set(metrics["firing_rates"]) == {"2", "6", "11"}
    assert any(k.endswith("running_mean") for k in weights(tmp_path))


def test_channels_last_trains_the_same_network(tmp_path):
    """channels_last changes the memory layout only: the same weights (to float rounding) as NCHW."""
    nhwc = tiny_run(tmp_path / "nhwc", model="csnn", channels=4, epochs=1, channels_last=True)
    nchw = tiny_run(tmp_path / "nchw", model="csnn", channels=4, epochs=1, channels_last=False)
    w_nhwc, w_nchw = weights(tmp_path / "nhwc"), weights(tmp_path / "nchw")
    conv = next(k for k, v in w_nhwc.items() if v.dim() == 4 and v.shape[1] > 1)  # 1 input channel: both
    assert w_nhwc[conv].is_contiguous(memory_format=torch.channels_last)
    assert not w_nchw[conv].is_contiguous(memory_format=torch.channels_last)
    for k in w_nchw:
        torch.testing.assert_close(w_nhwc[k], w_nchw[k], rtol=1e-3, atol=1e-4)
    assert abs(nhwc["test_accuracy"] - nchw["test_accuracy"]) <= 0.02


@pytest.mark.parametrize("loss, readout", [("mse", "spike"), ("tet", "membrane")])
def test_other_losses_run(tmp_path, loss, readout):
    metrics = tiny_run(tmp_path, loss=loss, readout=readout, epochs=1)
    assert metrics["config"]["loss"] == loss
    assert all(torch.isfinite(torch.tensor(r["train_loss"])) for r in metrics["history"])
    if readout == "spike":
        assert set(metrics["firing_rates"]) == {"2", "4"}


def test_rate_regularizer_changes_training(tmp_path):
    plain = tiny_run(tmp_path / "plain", epochs=1)
    reg = tiny_run(tmp_path / "reg", epochs=1, rate_reg=1.0)
    assert not torch.equal(weights(tmp_path / "plain")["1.weight"], weights(tmp_path / "reg")["1.weight"])
    assert reg["history"][0]["train_loss"] != plain["history"][0]["train_loss"]


def test_sgd_cosine_run(tmp_path):
    metrics = tiny_run(tmp_path, optimizer="sgd", schedule="cosine", epochs=1)
    # cosine annealing over the 4 steps of the run ends at the minimum
    assert metrics["history"][-1]["lr"] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("steps", [1, 2, 3, 4, 5, 8])
def test_onecycle_any_number_of_steps(tmp_path, steps):
    # 64 images per batch: `steps` batches in a 1-epoch run
    metrics = tiny_run(tmp_path, train_subset=64 * steps, test_subset=20, epochs=1)
    assert metrics["epochs_run"] == 1


def test_time_limit_stops_early(tmp_path):
    metrics = tiny_run(tmp_path, epochs=3, time_limit=1e-7)
    assert metrics["epochs_run"] == 1 and len(_read_csv(tmp_path / "log.csv")) == 1


def test_default_model_and_encoder_are_resolved(tmp_path):
    cfg = make_config(overrides={"dataset": "digits", "train_subset": 64, "test_subset": 20, "epochs": 1,
                                 "hidden": 8, "T": 2, "report": False, "out": str(tmp_path)}, preset=False)
    assert cfg.model is None and cfg.encoder is None
    metrics = run(cfg)
    assert metrics["model"] == "fcsnn" and metrics["config"]["encoder"] == "poisson"


def test_report_activity_of_a_recurrent_network():
    """The RSNN's neurons are stepped by layer.Recurrent one step at a time (N x hidden per call):
    the raster and the membrane traces still come out T x neurons."""
    from spikesmith.models.rsnn import RSNN
    from spikesmith.training.config import TrainConfig
    from spikesmith.training.report import one_sample_activity

    torch.manual_seed(0)
    model = RSNN(in_features=5, n_lif=3, n_alif=4)
    x = torch.rand(2, 7, 5) * 3                                # N x T x features (a temporal dataset)
    cfg = TrainConfig(dataset="sfmnist", model="rsnn", encoder="none")
    raster, traces = one_sample_activity(model, x, cfg, temporal=True)
    (name, spikes), = [(k, v) for k, v in raster.items() if "AdaptiveLIF" in k]
    assert spikes.shape == (7, 7) and set(spikes.ravel().tolist()) <= {0.0, 1.0}
    assert traces["v"].shape == (7, 7) and traces["spikes"].shape == (7, 7)
