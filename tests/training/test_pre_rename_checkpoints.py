"""Checkpoints written before the rename (by spikeforge 0.1.0) keep loading and give the same results.

The files in ``tests/fixtures/pre_rename`` were written by the last spikeforge commit (e7bff23):
``spikeforge train --dataset digits --epochs 1`` (and ``--ann``), ``spikeforge convert --method max --T 4
--calib-samples 64`` on that ANN, and ``spikeforge stdp --dataset digits --n-neurons 10 --train-subset 100
--time 20``. The expected figures are what ``spikeforge eval`` (and the STDP run) printed for them then.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from spikesmith.cli.main import main
from spikesmith.training import load_checkpoint

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pre_rename"
ONE_SAMPLE = 1 / 360 + 1e-9        # the digits test split has 360 images: allow one flip on another CPU

# file, format tag, accuracy and loss printed by spikeforge eval before the rename
EVALUATED = [
    ("trained_fcsnn_digits.pt", "spikeforge-checkpoint-1", 0.5305555555555556, 2.261749776204427),
    ("ann_fcsnn_digits.pt", "spikeforge-checkpoint-1", 0.7583333333333333, 1.303730516963535),
    ("converted_max_digits.pt", "spikeforge-converted-1", 0.7694444444444445, None),
]


@pytest.mark.parametrize("name, tag, accuracy, loss", EVALUATED)
def test_old_checkpoint_evaluates_as_before(name, tag, accuracy, loss, capsys):
    path = FIXTURES / name
    raw = torch.load(path, map_location="cpu", weights_only=True)
    assert raw["format"] == tag and raw["spikeforge_version"] == "0.1.0"      # really an old file
    assert main(["eval", "--checkpoint", str(path)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["count"] == 360
    assert abs(result["test_accuracy"] - accuracy) <= ONE_SAMPLE
    if loss is not None:
        assert result["test_loss"] == pytest.approx(loss, rel=1e-4)


def test_old_training_checkpoint_passes_the_format_check():
    ckpt = load_checkpoint(FIXTURES / "trained_fcsnn_digits.pt")
    assert ckpt["model_name"] == "fcsnn" and len(ckpt["history"]) == 1          # one epoch, counted from 0
    assert ckpt["test_accuracy"] == pytest.approx(0.5306, abs=1e-4)


def test_old_stdp_checkpoint_resumes_and_tests_as_before(tmp_path, capsys):
    """A finished STDP run resumed: it relabels the neurons and tests again, giving the same accuracy."""
    before = json.loads((FIXTURES / "stdp_metrics.json").read_text())["test_accuracy"]
    out = tmp_path / "stdp"
    assert main(["stdp", "--resume", str(FIXTURES / "stdp_diehl_cook_digits.pt"), "--out", str(out)]) == 0
    after = json.loads((out / "metrics.json").read_text())["test_accuracy"]
    assert abs(after - before) <= ONE_SAMPLE


def test_old_flat_config_moves_into_model_options_and_resumes(tmp_path, capsys):
    """Before 0.2 every model option was a flat config key, stored whichever model trained."""
    ckpt = load_checkpoint(FIXTURES / "trained_fcsnn_digits.pt")
    config = ckpt["config"]
    assert "hidden" not in config and "channels" not in config
    assert config["model_options"]["hidden"] == ckpt["model_args"]["hidden"]
    assert set(config["model_options"]) <= {"hidden", "readout", "neuron", "tau", "surrogate", "detach_reset"}
    out = tmp_path / "resumed"       # a finished one-epoch run: resuming it only evaluates again
    assert main(["train", "--resume", str(FIXTURES / "trained_fcsnn_digits.pt"), "--out", str(out),
                 "--report", "false"]) == 0
    after = json.loads((out / "metrics.json").read_text())
    assert abs(after["test_accuracy"] - EVALUATED[0][2]) <= ONE_SAMPLE
