"""Checkpoints: atomic writes, safe loading (weights_only), clear mismatch errors, contents."""

from __future__ import annotations

import pickle

import pytest
import torch

import spikesmith
from spikesmith.models import CSNN, FCSNN, build_model
from spikesmith.training import atomic_save, evaluate, load_checkpoint, load_weights, make_checkpoint
from spikesmith.training.checkpoint import FORMAT
from spikesmith.training.config import TrainConfig
from spikesmith.training.setup import load_split


class NotATensor:
    """A pickled class: ``weights_only=True`` must refuse to build it."""

    def __init__(self):
        self.x = 1


def _ckpt(model=None, **extra):
    model = model or FCSNN(in_shape=(1, 8, 8), hidden=4)
    return make_checkpoint(model, "fcsnn", {"in_shape": (1, 8, 8), "hidden": 4}, {"dataset": "digits"}, **extra)


# ------------------------------------------------------------------------------------- atomic_save
def test_atomic_save_leaves_only_the_file(tmp_path):
    path = tmp_path / "sub" / "ckpt.pt"
    assert atomic_save({"a": torch.arange(3)}, path) == path
    atomic_save({"a": torch.arange(4)}, path)                        # overwrite in place
    assert sorted(p.name for p in path.parent.iterdir()) == ["ckpt.pt"]
    assert torch.equal(torch.load(path, weights_only=True)["a"], torch.arange(4))


def test_failing_save_keeps_the_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    atomic_save({"a": torch.arange(3)}, path)
    before = path.read_bytes()

    def broken_save(obj, f, *args, **kwargs):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        atomic_save({"a": torch.arange(5)}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt"]


def test_interrupted_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    atomic_save({"a": 1}, path)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_save({"a": 2}, path)
    monkeypatch.undo()
    assert torch.load(path, weights_only=True) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]


# --------------------------------------------------------------------------------- load_checkpoint
def test_round_trip(tmp_path):
    model = FCSNN(in_shape=(1, 8, 8), hidden=4)
    atomic_save(_ckpt(model, epoch=3, history=[{"epoch": 1, "test_accuracy": 0.5, "mean_firing_rate": None}]),
                tmp_path / "c.pt")
    ckpt = load_checkpoint(tmp_path / "c.pt")
    assert ckpt["format"] == FORMAT and ckpt["epoch"] == 3 and ckpt["history"][0]["mean_firing_rate"] is None
    assert ckpt["model_args"]["in_shape"] == (1, 8, 8)
    for key, value in model.state_dict().items():
        assert torch.equal(ckpt["state_dict"][key], value)


def test_garbage_file_is_a_value_error(tmp_path):
    path = tmp_path / "garbage.pt"
    path.write_bytes(b"\x00\x01 this is not a checkpoint" * 10)
    with pytest.raises(ValueError, match="garbage.pt cannot be read"):
        load_checkpoint(path)


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": FORMAT, "payload": NotATensor()}, path, pickle_module=pickle)
    with pytest.raises(ValueError, match="cannot be read"):
        load_checkpoint(path)


def test_other_torch_files_are_not_checkpoints(tmp_path):
    torch.save({"state_dict": {"w": torch.zeros(2)}}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="other.pt is not a spikesmith checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    torch.save([torch.zeros(2)], tmp_path / "list.pt")
    with pytest.raises(ValueError, match="not a spikesmith checkpoint"):
        load_checkpoint(tmp_path / "list.pt")
    torch.save({**_ckpt(), "format": "spikesmith-checkpoint-0"}, tmp_path / "old.pt")
    with pytest.raises(ValueError, match="spikesmith-checkpoint-1"):
        load_checkpoint(tmp_path / "old.pt")


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pt does not exist"):
        load_checkpoint(tmp_path / "nope.pt")


def test_a_folder_or_device_in_place_of_the_file_says_what_it_is(tmp_path):
    # /dev/null and a run's folder used to be reported as "does not exist"
    with pytest.raises(FileNotFoundError, match="is a folder, not a file; give the checkpoint file in it"):
        load_checkpoint(tmp_path)
    with pytest.raises(FileNotFoundError, match="/dev/null is not a regular file"):
        load_checkpoint("/dev/null")


# ------------------------------------------------------------------------------------ load_weights
def test_load_weights_names_shape_mismatches():
    small, big = FCSNN(in_shape=(1, 8, 8), hidden=4), FCSNN(in_shape=(1, 8, 8), hidden=6)
    with pytest.raises(ValueError) as err:
        load_weights(big, small.state_dict(), source="small.pt")
    message = str(err.value)
    assert "checkpoint small.pt does not match the model" in message
    assert "1.weight: checkpoint [4, 64] vs model [6, 64]" in message
    assert "3.weight: checkpoint [10, 4] vs model [10, 6]" in message


def test_load_weights_names_missing_and_unexpected_keys():
    with pytest.raises(ValueError) as err:
        load_weights(CSNN(channels=2), FCSNN(in_shape=(1, 8, 8), hidden=4).state_dict())
    message = str(err.value)
    assert "missing keys ['0.weight', '1.bias'" in message
    assert "unexpected keys ['3.weight']" in message
    assert "shape mismatch 1.weight: checkpoint [4, 64] vs model [2]" in message
    with pytest.raises(ValueError, match=r"unexpected keys \['2\.w', '4\.w'\]"):
        load_weights(FCSNN(in_shape=(1, 8, 8), hidden=4),
                     FCSNN(in_shape=(1, 8, 8), hidden=4, neuron="plif", readout="spike").state_dict())


def test_load_weights_loads_a_match():
    src, dst = FCSNN(in_shape=(1, 8, 8), hidden=4), FCSNN(in_shape=(1, 8, 8), hidden=4)
    load_weights(dst, src.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(src.state_dict().values(), dst.state_dict().values()))


# --------------------------------------------------------------------------- a trainer's checkpoint
def test_checkpoint_written_by_training(tiny_two_epochs):
    out, metrics = tiny_two_epochs
    ckpt = load_checkpoint(out / "checkpoint.pt")
    for key in ("model_name", "model_args", "config", "state_dict", "optimizer", "scheduler", "epoch", "history",
                "spikesmith_version", "train_time_s", "test_accuracy"):
        assert key in ckpt, key
    assert ckpt["spikesmith_version"] == spikesmith.__version__
    assert ckpt["model_name"] == "fcsnn" == metrics["model"]
    assert ckpt["model_args"] == metrics["model_args"]
    assert ckpt["model_args"]["hidden"] == 32 and ckpt["model_args"]["in_shape"] == (1, 8, 8)
    assert ckpt["config"] == metrics["config"]
    assert ckpt["config"]["dataset"] == "digits" and ckpt["config"]["epochs"] == 2
    assert ckpt["epoch"] == 1                                       # 0-based index of the last epoch
    assert [h["epoch"] for h in ckpt["history"]] == [1, 2]
    assert ckpt["test_accuracy"] == ckpt["history"][-1]["test_accuracy"]
    assert ckpt["optimizer"]["state"], "Adam state is saved for --resume"
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.pt", "log.csv", "metrics.json"]


def test_checkpoint_rebuilds_the_trained_model(tiny_two_epochs):
    out, metrics = tiny_two_epochs
    ckpt = load_checkpoint(out / "checkpoint.pt")
    model = build_model(ckpt["model_name"], **ckpt["model_args"])
    load_weights(model, ckpt["state_dict"])
    cfg = TrainConfig(**ckpt["config"])
    x, y, info = load_split(cfg, "test")
    result = evaluate(model, x, y, cfg, info.temporal, torch.device("cpu"), info.num_classes)
    assert result["count"] == 100
    assert result["accuracy"] == metrics["test_accuracy"]
    assert result["firing_rates"] == pytest.approx(metrics["firing_rates"])
