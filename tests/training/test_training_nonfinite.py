"""NaN and Inf in training: refused hyper-parameters, and a non-finite loss that stops the run (or is
skipped and counted, when asked) instead of training on to a NaN model with exit code 0."""

from __future__ import annotations

import json

import pytest
import torch
from training_helpers import tiny_run

from spikesmith.training import make_config
from spikesmith.training import trainer
from spikesmith.training.trainer import NonFiniteLossError


@pytest.mark.parametrize("key", ["lr", "momentum", "tet_lambda", "weight_decay", "label_smoothing", "rate_reg",
                                 "time_limit", "dist_timeout"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", float("nan"), float("inf")])
def test_non_finite_hyper_parameters_are_refused(key, value):
    with pytest.raises(ValueError, match=f"config key '{key}' must be a finite number"):
        make_config(overrides={"dataset": "digits", key: value})


@pytest.mark.parametrize("overrides, fragment", [
    ({"momentum": 1.5, "optimizer": "sgd"}, "momentum must be in [0, 1)"),
    ({"label_smoothing": 2}, "label_smoothing must be in [0, 1)"),
    ({"threads": -1}, "threads must be >= 1"),
    ({"weight_decay": -1e-4}, "weight_decay must be >= 0"),
    ({"tet_lambda": -1, "loss": "tet"}, "tet_lambda must be >= 0"),
    ({"nonfinite_loss": "ignore"}, "nonfinite_loss must be error or skip"),
    ({"dist_timeout": 0}, "dist_timeout must be > 0"),
])
def test_out_of_range_hyper_parameters_are_refused(overrides, fragment):
    with pytest.raises(ValueError, match=fragment.replace("[", r"\[").replace(")", r"\)")):
        make_config(overrides={"dataset": "digits", **overrides})


def _nan_on_batches(monkeypatch, bad: set[int]):
    """The loss of the given (1-based) training batches becomes NaN; the others are untouched."""
    real = trainer.loss_fn
    calls = {"n": 0}

    def patched(cfg):
        base = real(cfg)

        def criterion(out, y):
            loss = base(out, y)
            if out.requires_grad:               # training batches only (evaluation runs under no_grad)
                calls["n"] += 1
                if calls["n"] in bad:
                    return loss * float("nan")
            return loss
        return criterion

    monkeypatch.setattr(trainer, "loss_fn", patched)


def test_a_nan_loss_stops_the_run_naming_epoch_and_batch(tmp_path, monkeypatch):
    _nan_on_batches(monkeypatch, {6})          # 4 batches per epoch: epoch 2, batch 2
    with pytest.raises(NonFiniteLossError, match=r"epoch 2, batch 2/4: the loss is nan .*lower lr .*nonfinite_loss=skip"):
        tiny_run(tmp_path / "run")
    # the finished epoch's checkpoint is intact: the run stopped before a NaN step reached the weights
    from spikesmith.training import load_checkpoint

    ckpt = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert ckpt["epoch"] == 0
    assert all(torch.isfinite(t).all() for t in ckpt["state_dict"].values() if t.is_floating_point())


def test_skip_mode_skips_and_counts_the_bad_batches(tmp_path, monkeypatch):
    _nan_on_batches(monkeypatch, {2, 7})
    metrics = tiny_run(tmp_path / "run", nonfinite_loss="skip")
    assert [row["skipped_batches"] for row in metrics["history"]] == [1, 1]
    on_disk = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert on_disk["skipped_batches"] == 2
    assert all(torch.isfinite(torch.tensor(row["train_loss"])) for row in on_disk["history"])


def test_skip_mode_still_stops_when_every_batch_is_bad(tmp_path, monkeypatch):
    _nan_on_batches(monkeypatch, set(range(1, 100)))
    with pytest.raises(NonFiniteLossError, match="every batch had a non-finite loss"):
        tiny_run(tmp_path / "run", nonfinite_loss="skip")


def test_the_cli_exits_non_zero_on_a_nan_loss(tmp_path, monkeypatch, capsys):
    from spikesmith.cli.main import main

    _nan_on_batches(monkeypatch, {1})
    code = main(["train", "--dataset", "digits", "--train-subset", "128", "--test-subset", "50", "--epochs", "1",
                 "--report", "false", "--out", str(tmp_path / "run")])
    assert code == 2
    assert "epoch 1, batch 1/" in capsys.readouterr().err
