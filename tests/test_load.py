"""``spikesmith.load``: every checkpoint the project writes (trained, STDP, hybrid, converted, and those
written before the rename) gives its network ready to run, read with ``weights_only=True``."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

import spikesmith
from spikesmith import conversion
from spikesmith.conversion import ConvertedSNN
from spikesmith.loading import open_checkpoint
from spikesmith.models import FCSNN, build_model
from spikesmith.models.diehl_cook import DiehlCook
from spikesmith.models.hybrid_stdp import HybridSTDPNet
from spikesmith.run import STDPConfig
from spikesmith.training import TrainConfig, atomic_save, make_checkpoint

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "pre_rename"


@pytest.mark.parametrize("name, net_type, config_type, kind", [
    ("trained_fcsnn_digits.pt", FCSNN, TrainConfig, "trained"),
    ("ann_fcsnn_digits.pt", FCSNN, TrainConfig, "trained"),
    ("converted_max_digits.pt", ConvertedSNN, TrainConfig, "converted"),
    ("stdp_diehl_cook_digits.pt", DiehlCook, STDPConfig, "stdp"),
])
def test_checkpoints_from_before_the_rename_load(name, net_type, config_type, kind):
    path = FIXTURES / name
    raw = torch.load(path, map_location="cpu", weights_only=True)
    assert raw["format"].startswith("spikeforge-") and raw["spikeforge_version"] == "0.1.0"
    net, cfg = spikesmith.load(path, config=True)
    assert isinstance(net, net_type) and not net.training
    assert isinstance(cfg, config_type) and cfg.dataset == "digits"
    assert open_checkpoint(path).kind == kind
    own = net.state_dict()
    for key, value in raw["state_dict"].items():
        assert torch.equal(own[key], value), key
    assert isinstance(spikesmith.load(path), net_type)          # config=False: the network alone


def test_old_trained_network_runs_as_saved():
    net, cfg = spikesmith.load(FIXTURES / "trained_fcsnn_digits.pt", config=True)
    raw = torch.load(FIXTURES / "trained_fcsnn_digits.pt", weights_only=True)
    fresh = build_model(raw["model_name"], **raw["model_args"])
    fresh.load_state_dict(raw["state_dict"])
    fresh.eval()
    x = torch.rand(cfg.T, 3, 1, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(net(x), fresh(x))
    # its flat model options (before 0.2) come back under model_options, as the model took them
    assert cfg.model == "fcsnn"
    assert cfg.model_options["hidden"] == raw["config"]["hidden"] == raw["model_args"]["hidden"]
    assert cfg.model_options["neuron"] == raw["config"]["neuron"]


def test_trained_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    model = FCSNN(in_shape=(1, 8, 8), hidden=8)
    args = {"in_shape": (1, 8, 8), "hidden": 8}
    atomic_save(make_checkpoint(model, "fcsnn", args, {"dataset": "digits", "T": 3, "no_such_key": 1}, epoch=0),
                tmp_path / "c.pt")
    net, cfg = spikesmith.load(tmp_path / "c.pt", config=True)
    assert cfg.T == 3 and not hasattr(cfg, "no_such_key")        # keys the config no longer has are left out
    x = torch.rand(3, 2, 1, 8, 8)
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(net(x), model(x))
    assert open_checkpoint(tmp_path / "c.pt").ann_twin() is not None


def test_stdp_checkpoints_load_with_their_labels(tmp_path):
    torch.manual_seed(0)
    dc = DiehlCook(n_inputs=64, n_neurons=5, num_classes=3, time=5.0)
    dc.assignments.copy_(torch.tensor([0, 1, 2, 1, -1]))
    args = {"n_inputs": 64, "n_neurons": 5, "num_classes": 3, "time": 5.0}
    atomic_save(make_checkpoint(dc, "diehl_cook", args, {"dataset": "digits", "n_neurons": 5}), tmp_path / "dc.pt")
    net, cfg = spikesmith.load(tmp_path / "dc.pt", config=True)
    assert isinstance(net, DiehlCook) and net.assignments.tolist() == [0, 1, 2, 1, -1]
    assert isinstance(cfg, STDPConfig) and cfg.n_neurons == 5

    hy = HybridSTDPNet(image_size=(8, 8), num_classes=3, channels=2, kernel=3)
    args = {"image_size": (8, 8), "num_classes": 3, "channels": 2, "kernel": 3}
    atomic_save(make_checkpoint(hy, "hybrid_stdp", args, {"model": "hybrid"}), tmp_path / "hy.pt")
    net = spikesmith.load(tmp_path / "hy.pt")
    assert isinstance(net, HybridSTDPNet) and not net.training
    for key, value in hy.state_dict().items():
        assert torch.equal(net.state_dict()[key], value)


def test_converted_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    ann = FCSNN(in_shape=(1, 8, 8), hidden=8, ann=True).eval()
    x = torch.rand(32, 1, 8, 8)
    snn = conversion.convert(ann, x, T=4, method="light",
                             source={"model_name": "fcsnn", "model_args": {"in_shape": (1, 8, 8), "hidden": 8,
                                                                           "ann": True}})
    conversion.save_converted(snn, tmp_path / "s.pt", config={"dataset": "digits", "T": 4})
    net, cfg = spikesmith.load(tmp_path / "s.pt", config=True)
    assert isinstance(net, ConvertedSNN) and net.T == 4 and cfg.T == 4 and cfg.dataset == "digits"
    with torch.no_grad():
        torch.testing.assert_close(net(x), snn(x))


class _Code:
    pass


def test_what_is_not_a_checkpoint_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pt does not exist"):
        spikesmith.load(tmp_path / "nope.pt")
    torch.save({"format": "spikesmith-checkpoint-1", "x": _Code()}, tmp_path / "code.pt", pickle_module=pickle)
    with pytest.raises(ValueError, match="code.pt cannot be read"):             # weights_only refuses code
        spikesmith.load(tmp_path / "code.pt")
    torch.save({"format": "other-1"}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match=r"not a spikesmith checkpoint \(format 'other-1'; known formats: "
                                         r"spikesmith-checkpoint-1 \(aliases: spikeforge-checkpoint-1\)"):
        spikesmith.load(tmp_path / "other.pt")
