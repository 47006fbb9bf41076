"""``--model ttfs``: the time-to-first-spike network as a ``spikesmith train`` family: registration,
run defaults, the class as the first output spike, a run's checkpoint through ``spikesmith eval``
and ``spikesmith.load``, and its errors."""

from __future__ import annotations

import json

import pytest
import torch

import spikesmith
from spikesmith.cli.main import main
from spikesmith.models import ModelInput, TTFSConfig, TTFSNet, build_model, config_class, model_names
from spikesmith.run import train as run
from spikesmith.training import make_config

DIGITS = ModelInput((1, 8, 8), 10)
QUICK = {"dataset": "digits", "model": "ttfs", "hidden": "32", "epochs": 3, "lr": 1e-2, "schedule": "none",
         "batch_size": 32, "train_subset": 512,
         "test_subset": 100, "device": "cpu", "threads": 1, "report": False}


def test_ttfs_is_registered_with_its_run_defaults():
    assert "ttfs" in model_names() and config_class("ttfs") is TTFSConfig
    net = build_model("ttfs", **TTFSConfig().arguments(DIGITS))
    assert isinstance(net, TTFSNet) and net.widths == [64, 340, 10]
    cfg = make_config(overrides={"dataset": "fashion_mnist", "model": "ttfs"})
    assert (cfg.T, cfg.encoder, cfg.loss) == (1, "direct", "ce")


def test_the_class_score_is_minus_the_first_output_spike_time():
    net = TTFSNet(in_features=4, num_classes=3, hidden=(5,))
    x = torch.rand(6, 4) + 0.1
    t, fired, _ = net.spike_times(x)
    scores = net(x.unsqueeze(0))[0]
    assert fired.any()
    assert torch.allclose(scores[fired], -net.sharpness * t[fired])
    # a silent output neuron scores below every output that fired in the window
    assert (scores[~fired] < -net.sharpness * (net.window + 1)).all()


def test_a_digits_run_learns_saves_and_evaluates(tmp_path, capsys):
    metrics = run(make_config(overrides={**QUICK, "out": str(tmp_path)}))
    assert metrics["model"] == "ttfs" and metrics["test_accuracy"] > 0.5       # chance is 0.1
    assert main(["eval", "--checkpoint", str(tmp_path / "checkpoint.pt")]) == 0
    assert json.loads(capsys.readouterr().out)["test_accuracy"] == metrics["test_accuracy"]
    net = spikesmith.load(tmp_path / "checkpoint.pt")
    assert isinstance(net, TTFSNet) and net.widths == [64, 32, 10]


@pytest.mark.parametrize("options, message", [
    ({"hidden": "0"}, "TTFS: hidden must list positive layer widths"),
    ({"levels": 1}, "TTFS: levels must be an int >= 2, got 1"),
    ({"window": -1.0}, "TTFS: window must be a number > 0, got -1.0"),
    ({"sharpness": 0}, "TTFS: sharpness must be a number > 0, got 0"),
])
def test_bad_options_name_the_fix(options, message):
    with pytest.raises(ValueError, match=message):
        TTFSConfig(**options)


def test_bad_inputs_name_the_fix():
    with pytest.raises(ValueError, match="needs a static dataset"):
        TTFSConfig().arguments(ModelInput((5, 7), 3, temporal=True))
    net = TTFSNet(in_features=4, num_classes=2, hidden=(3,))
    with pytest.raises(ValueError, match="train it with T=1 and encoder=direct"):
        net(torch.rand(3, 2, 4))
    with pytest.raises(ValueError, match="has 5 values per sample but the network takes 4"):
        net(torch.rand(1, 2, 5))
