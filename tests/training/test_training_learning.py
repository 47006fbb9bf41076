"""The digits recipe learns: a few epochs of the default digits preset pass 85 % test accuracy."""

from __future__ import annotations

from spikesmith.run import train as run
from spikesmith.training import make_config


def test_digits_preset_learns(tmp_path):
    # the preset (FCSNN 64-256-10, LIF, direct input, T=4, Adam 5e-3, batch 64) with 4 epochs
    # instead of 20; about 93 % on the 360 test images
    cfg = make_config(overrides={"dataset": "digits", "epochs": 4, "report": False, "out": str(tmp_path)})
    assert (cfg.model, cfg.model_options["hidden"], cfg.encoder, cfg.T) == ("fcsnn", 256, "direct", 4)
    metrics = run(cfg)
    assert metrics["history"][-1]["test_accuracy"] == metrics["test_accuracy"]
    assert metrics["test_accuracy"] > 0.85, metrics["history"]
    assert metrics["history"][-1]["train_loss"] < 0.5 * metrics["history"][0]["train_loss"]
    assert 0.0 < metrics["firing_rates"]["2"] < 0.6
