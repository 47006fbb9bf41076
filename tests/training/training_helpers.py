"""Helpers for the training tests: tiny runs on scikit-learn's digits (bundled: no files, no network)."""

from __future__ import annotations

from pathlib import Path

import torch

from spikesmith.run import train as run
from spikesmith.training import load_checkpoint, make_config

#: 256 training images in batches of 64: 4 steps per epoch; T = 2; a high learning rate so that
#: neurons fire within a few steps and every part of the state changes.
TINY = {"dataset": "digits", "train_subset": 256, "test_subset": 100, "hidden": 32, "T": 2, "epochs": 2,
        "lr": 0.05, "report": False, "device": "cpu"}


def tiny_run(out: Path, resume: str | None = None, **overrides):
    """Train as the CLI would: ``make_config`` (with the digits preset) then ``run``."""
    tiny = dict(TINY)
    if overrides.get("model", "fcsnn") != "fcsnn":
        del tiny["hidden"]                         # an FCSNN option: another model refuses it
    cfg = make_config(overrides={**tiny, "out": str(out), **overrides})
    return run(cfg, resume=resume)


def resume_run(checkpoint: Path, **overrides):
    """What ``spikesmith train --resume`` does: the checkpoint's config plus the overrides."""
    saved = load_checkpoint(checkpoint)["config"]
    return run(make_config(overrides={**saved, **overrides}), resume=str(checkpoint))


def weights(out: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(out / "checkpoint.pt")["state_dict"]


def assert_same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
