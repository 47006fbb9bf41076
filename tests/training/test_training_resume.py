"""``--resume``: a run stopped after an epoch and resumed ends with the uninterrupted run's weights."""

from __future__ import annotations

import csv

import pytest
from training_helpers import assert_same_weights, resume_run, tiny_run, weights

from spikesmith.training import load_checkpoint


def _history_without_times(metrics):
    return [{k: v for k, v in row.items() if k != "epoch_time_s"} for row in metrics["history"]]


def test_stopped_and_resumed_equals_uninterrupted(tmp_path, tiny_two_epochs):
    full_dir, full = tiny_two_epochs
    # the same 2-epoch run (same schedule), stopped after its first epoch as a killed run would be
    first = tiny_run(tmp_path, time_limit=1e-7)
    assert first["epochs_run"] == 1
    assert load_checkpoint(tmp_path / "checkpoint.pt")["epoch"] == 0
    resumed = resume_run(tmp_path / "checkpoint.pt", time_limit=None)
    assert_same_weights(weights(tmp_path), weights(full_dir))
    assert resumed["test_accuracy"] == full["test_accuracy"]
    assert resumed["firing_rates"] == full["firing_rates"]
    assert _history_without_times(resumed) == _history_without_times(full)
    assert resumed["history"][0] == first["history"][0]               # carried over, not re-run
    with open(tmp_path / "log.csv", newline="") as f:
        assert [int(r["epoch"]) for r in csv.DictReader(f)] == [1, 2]
    ckpt = load_checkpoint(tmp_path / "checkpoint.pt")
    assert ckpt["epoch"] == 1 and ckpt["train_time_s"] >= first["train_time_s"]


def test_poisson_stopped_and_resumed_equals_uninterrupted(tmp_path):
    tiny_run(tmp_path / "full", encoder="poisson")
    tiny_run(tmp_path / "part", encoder="poisson", time_limit=1e-7)
    resume_run(tmp_path / "part" / "checkpoint.pt", time_limit=None)
    assert_same_weights(weights(tmp_path / "part"), weights(tmp_path / "full"))


def test_extend_a_run_with_constant_lr(tmp_path):
    full = tiny_run(tmp_path / "full", schedule="none")
    one = tiny_run(tmp_path / "one", schedule="none", epochs=1)
    assert one["epochs_run"] == 1
    extended = resume_run(tmp_path / "one" / "checkpoint.pt", epochs=2)
    assert_same_weights(weights(tmp_path / "one"), weights(tmp_path / "full"))
    assert extended["test_accuracy"] == full["test_accuracy"]
    assert extended["epochs_run"] == 2


def test_extending_a_onecycle_run_is_a_clear_error(tmp_path):
    tiny_run(tmp_path, epochs=1)
    before = (tmp_path / "checkpoint.pt").read_bytes()
    with pytest.raises(ValueError, match=r"schedule 'onecycle' was made for 4 steps.*schedule=none"):
        resume_run(tmp_path / "checkpoint.pt", epochs=2)
    assert (tmp_path / "checkpoint.pt").read_bytes() == before


def test_resume_into_another_architecture_names_the_option(tmp_path):
    # refused before any weight is loaded (the shapes' error is load_weights', tested with checkpoints)
    tiny_run(tmp_path, epochs=1)
    with pytest.raises(ValueError, match=r"options differ from the run it continues \(--hidden 16 here, 32 in the "
                                         r"checkpoint\).*drop --hidden"):
        resume_run(tmp_path / "checkpoint.pt", hidden=16)


def test_resume_after_the_last_epoch_only_evaluates(tmp_path, tiny_two_epochs):
    full_dir, full = tiny_two_epochs
    again = resume_run(full_dir / "checkpoint.pt", out=str(tmp_path))
    assert again["history"] == full["history"]
    assert again["test_accuracy"] == full["test_accuracy"]
    assert_same_weights(load_checkpoint(full_dir / "checkpoint.pt")["state_dict"], weights(full_dir))
    assert not (tmp_path / "checkpoint.pt").exists()                  # no epoch ran, nothing to save
