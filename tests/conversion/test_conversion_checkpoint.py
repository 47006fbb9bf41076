"""Converted checkpoints round-trip with weights_only=True; QCFS and ClipReLU by hand."""

import pytest
import torch
from torch import nn

from spikesmith import conversion
from spikesmith.models import ACTIVATIONS, build_model, make_activation
from spikesmith.models.activations import QCFS, ClipReLU

VGG = {"config": "vgg5", "in_channels": 1, "width": 0.125, "pool": "avg", "num_classes": 3, "ann": True}


def test_registry_model_round_trip(tmp_path):
    ann = build_model("vgg", **VGG).eval()
    x = torch.rand(32, 1, 12, 12)
    snn = conversion.convert(ann, x, T=8, method="advanced", per_channel=True,
                             source={"model_name": "vgg", "model_args": VGG})
    path = conversion.save_converted(snn, tmp_path / "snn.pt")
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == conversion.FORMAT and raw["method"] == "advanced" and raw["T"] == 8
    assert any(k.endswith("neuron.v_threshold") and v.dim() == 3 for k, v in raw["state_dict"].items())
    assert any(k.endswith("neuron.v_init") and v.dim() == 3 for k, v in raw["state_dict"].items())
    loaded = conversion.load_converted(path)
    assert isinstance(loaded, conversion.ConvertedSNN) and loaded.T == 8 and loaded.method == "advanced"
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), snn(x), rtol=0, atol=0)
    assert not list(tmp_path.glob(".*.tmp"))        # the atomic write left no temp file


def test_custom_model_needs_its_architecture(tmp_path):
    def make():
        return nn.Sequential(nn.Linear(6, 10), nn.BatchNorm1d(10), nn.ReLU(), nn.Linear(10, 3))

    ann = make().eval()
    ann[1].running_mean.uniform_(-1, 1)
    x = torch.randn(64, 6)
    snn = conversion.convert(ann, x, T=16, method="light", shift="bias", bias=False)
    path = conversion.save_converted(snn, tmp_path / "c.pt")
    with pytest.raises(ValueError, match="pass ann="):
        conversion.load_converted(path)
    loaded = conversion.load_converted(path, ann=make())
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), snn(x), rtol=0, atol=0)
    assert loaded.options["bias"] is False
    with pytest.raises(ValueError, match="not a converted spikesmith checkpoint"):
        conversion.load_converted({"format": "other"})


def test_qcfs_forward_by_hand():
    act = QCFS(levels=4, threshold=2.0)
    x = torch.tensor([-1.0, 0.2, 0.3, 1.3, 1.9, 5.0])
    # lambda * clamp(floor(x L / lambda + 1/2) / L, 0, 1): x L / lambda + 1/2 = -1.5, 0.9, 1.1, 3.1, 4.3, 10.5
    torch.testing.assert_close(act(x), torch.tensor([0.0, 0.0, 0.5, 1.5, 2.0, 2.0]))


def test_qcfs_gradients_straight_through_and_lambda():
    act = QCFS(levels=4, threshold=2.0)
    x = torch.tensor([-1.0, 0.3, 1.3, 5.0], requires_grad=True)
    act(x).sum().backward()
    torch.testing.assert_close(x.grad, torch.tensor([0.0, 1.0, 1.0, 0.0]))
    # y = lambda * q(x / lambda): dy/dlambda = q - x/lambda * (straight-through) = q - x/lambda inside, 1 above
    expected = (0.0) + (0.25 - 0.15) + (0.75 - 0.65) + 1.0
    assert float(act.threshold.grad) == pytest.approx(expected, abs=1e-6)


def test_clip_relu_and_registry():
    act = ClipReLU(threshold=1.5)
    x = torch.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    y = act(x)
    torch.testing.assert_close(y, torch.tensor([0.0, 0.5, 1.5]))
    y.sum().backward()
    assert float(act.threshold.grad) == 1.0
    assert {"relu", "clip", "tcl", "qcfs", "qcfs8"} <= set(ACTIVATIONS)
    assert isinstance(make_activation("tcl"), ClipReLU)
    assert isinstance(make_activation("qcfs"), QCFS) and make_activation("qcfs8").levels == 8
    # models trained with clip (Hardtanh(0, 1)) or tcl convert with the clip point as their threshold
    for name in ("clip", "tcl"):
        net = build_model("vgg", **{**VGG, "activation": name}).eval()
        snn = conversion.convert(net, torch.rand(8, 1, 12, 12), T=4, method="qcfs")
        assert all(float(layer.threshold) == 1.0 for layer in snn.spiking_layers().values())
