"""load_spikingjelly_state_dict: old and new SpikingJelly names onto spikesmith modules."""

from __future__ import annotations

import argparse

import pytest
import torch
from torch import nn

from spikesmith import layer, neuron
from spikesmith.compat import load_spikingjelly_state_dict


def _net():
    return nn.Sequential(
        layer.SeqToANNContainer(nn.Conv2d(1, 2, 3, bias=False), nn.BatchNorm2d(2)),
        neuron.ParametricLIFNode(step_mode="m"),
        layer.SeqToANNContainer(nn.Flatten(), nn.Linear(8, 3)),
        layer.SeqToANNContainer(nn.Linear(3, 3)),
    )


def _old_names(state):
    """The keys as an old clock_driven model trained under DataParallel saved them."""
    out = {}
    for key, value in state.items():
        parts = key.split(".")
        if parts[0] == "3":                               # one layer: SeqToANNContainer.module = layer
            parts = [parts[0], "module"] + parts[2:]
        elif parts[0] in ("0", "2"):                      # several: SeqToANNContainer.module = Sequential
            parts = [parts[0], "module"] + parts[1:]
        out["module." + ".".join(parts)] = value.clone()
    return out


def test_old_clock_driven_dataparallel_checkpoint_loads(tmp_path):
    torch.manual_seed(0)
    trained = _net()
    with torch.no_grad():
        trained[1].w.fill_(0.7)
        trained[0][1].running_mean.uniform_()
    old = _old_names(trained.state_dict())
    assert "module.0.module.1.running_mean" in old and "module.3.module.weight" in old and "module.1.w" in old
    path = tmp_path / "ckpt.pth"
    torch.save({"net": old, "epoch": 7, "max_test_acc": 0.5}, path)
    fresh = _net()
    report = load_spikingjelly_state_dict(fresh, path)
    assert report.matched["module.1.w"] == "1.w" and report.matched["module.3.module.weight"] == "3.0.weight"
    assert not report.unexpected_keys and not report.missing_keys
    for key, value in trained.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], value), key


def test_new_spikingjelly_checkpoint_loads_strict():
    sjl = pytest.importorskip("spikingjelly.activation_based.layer")
    sjn = pytest.importorskip("spikingjelly.activation_based.neuron")
    sj_net = nn.Sequential(sjl.SeqToANNContainer(nn.Conv2d(1, 2, 3, bias=False), nn.BatchNorm2d(2)),
                           sjn.ParametricLIFNode(init_tau=3.0, step_mode="m"),
                           sjl.SeqToANNContainer(nn.Flatten(), nn.Linear(8, 3)),
                           sjl.SeqToANNContainer(nn.Linear(3, 3)))
    ours = _net()
    load_spikingjelly_state_dict(ours, sj_net.state_dict())
    assert torch.equal(ours[1].w, sj_net[1].w) and torch.equal(ours[3][0].weight, sj_net[3][0].weight)


def test_unmatched_keys_are_listed(tmp_path):
    state = _old_names(_net().state_dict())
    state["module.head.weight"] = torch.zeros(2)
    del state["module.1.w"]
    with pytest.raises(ValueError) as err:
        load_spikingjelly_state_dict(_net(), state)
    msg = str(err.value)
    assert "1 checkpoint key(s) match nothing in the model: module.head.weight" in msg
    assert "1 model key(s) are not in the checkpoint: 1.w" in msg and "strict=False" in msg
    report = load_spikingjelly_state_dict(_net(), state, strict=False)
    assert report.unexpected_keys == ["module.head.weight"] and report.missing_keys == ["1.w"]
    state = _old_names(_net().state_dict())
    state["module.3.module.weight"] = torch.zeros(4, 3)
    with pytest.raises(ValueError, match=r"has shape \[4, 3\] but model key '3.0.weight' has \[3, 3\]"):
        load_spikingjelly_state_dict(_net(), state)


def test_checkpoint_files_that_need_care(tmp_path):
    path = tmp_path / "with_args.pth"
    torch.save({"net": _net().state_dict(), "args": argparse.Namespace(lr=0.1)}, path)
    with pytest.raises(OSError, match="weights_only=False"):
        load_spikingjelly_state_dict(_net(), path)
    load_spikingjelly_state_dict(_net(), path, weights_only=False)
    with pytest.raises(OSError, match="no checkpoint file"):
        load_spikingjelly_state_dict(_net(), tmp_path / "missing.pth")
    (tmp_path / "cut.pth").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(OSError, match="cannot read|not a torch checkpoint"):
        load_spikingjelly_state_dict(_net(), tmp_path / "cut.pth")
    with pytest.raises(ValueError, match="top-level keys are \\['epoch'\\]"):
        load_spikingjelly_state_dict(_net(), {"epoch": 3})


def test_damaged_or_foreign_checkpoints_are_clean_errors(tmp_path):
    path = tmp_path / "ok.pth"
    torch.save(_net().state_dict(), path)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 3] ^= 0xFF
    bad = tmp_path / "flipped.pth"
    bad.write_bytes(bytes(raw))
    try:
        load_spikingjelly_state_dict(_net(), bad)
    except (OSError, ValueError):
        pass                                   # a flip in tensor bytes may load: torch files have no checksum
    torch.save([1, 2], tmp_path / "list.pth")
    with pytest.raises(ValueError, match="the checkpoint is a list"):
        load_spikingjelly_state_dict(_net(), tmp_path / "list.pth")
    with pytest.raises(TypeError, match="give a state dict or a checkpoint path"):
        load_spikingjelly_state_dict(_net(), [1, 2])
