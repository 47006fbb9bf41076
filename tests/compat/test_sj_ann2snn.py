"""SpikingJelly-semantics ann2snn.Converter: calibration by hand, accuracy at large T, and the same SNN as
SpikingJelly's own converter on the same ANN and data (that check skips where SpikingJelly is missing)."""

from __future__ import annotations

import sys
import types

import pytest
import torch
from torch import nn

from spikesmith import functional, neuron
from spikesmith.compat import Converter, RateCodingRecipe

pytestmark = pytest.mark.usefixtures("one_thread")


def _rate(snn, x, T):
    functional.reset_net(snn)
    with torch.no_grad():
        out = sum(snn(x) for _ in range(T)) / T
    functional.reset_net(snn)
    return out


def test_scales_follow_the_calibration_batches():
    ann = nn.Sequential(nn.Linear(1, 1, bias=False), nn.ReLU())
    with torch.no_grad():
        ann[0].weight.fill_(1.0)
    batches = [torch.tensor([[1.0], [4.0]]), torch.tensor([[2.0], [0.0]])]
    snn = Converter(batches, mode="max", momentum=0.25)(ann)
    scale = 0.75 * 4.0 + 0.25 * 2.0                      # first batch's max, then the moving average
    assert snn.spiking_0.scaler1.scale.item() == pytest.approx(scale)
    assert snn.spiking_0.scaler0.scale.item() == pytest.approx(1 / scale)
    assert isinstance(snn.spiking_0.if_node, neuron.IFNode) and snn.spiking_0.if_node.v_reset is None
    q = Converter([(torch.arange(101.0).reshape(101, 1), "label")], mode="90%")(ann)
    assert q.spiking_0.scaler1.scale.item() == pytest.approx(90.0)
    f = Converter([{"image": torch.tensor([[10.0]])}], mode=0.5)(ann)
    assert f.spiking_0.scaler1.scale.item() == pytest.approx(5.0)
    # the rate code: input 0.3 * scale gives 0.3 of the spikes, times scale
    out = _rate(snn, torch.tensor([[0.3 * scale]]), 100)
    assert out.item() == pytest.approx(0.3 * scale, abs=scale / 100)


def test_batchnorm_is_fused_and_the_ann_is_untouched():
    torch.manual_seed(0)
    ann = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten())
    with torch.no_grad():
        ann[0].weight.abs_()
        ann[1].running_mean.uniform_(-0.2, 0.2)
    ann.train()
    snn = Converter([torch.rand(4, 1, 5, 5)])(ann)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in snn.modules())
    assert ann.training and isinstance(ann[2], nn.ReLU)
    kept = Converter([torch.rand(4, 1, 5, 5)], fuse_flag=False)(ann)
    assert any(isinstance(m, nn.BatchNorm2d) for m in kept.modules())


def test_accuracy_close_to_the_ann_at_large_T():
    torch.manual_seed(1)
    n = 400
    y = torch.randint(0, 3, (n,))
    centers = torch.tensor([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    x = centers[y] + 0.7 * torch.randn(n, 2)
    # a nearest-centroid classifier written as a ReLU net: h = [x+, x-], z_j = relu(c_j . x - |c_j|^2 / 2 + 6)
    ann = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 3))
    with torch.no_grad():
        ann[0].weight.copy_(torch.cat([torch.eye(2), -torch.eye(2)]))
        ann[0].bias.zero_()
        ann[2].weight.copy_(torch.cat([centers, -centers], 1))
        ann[2].bias.copy_(6.0 - 0.5 * (centers ** 2).sum(1))
        ann[4].weight.copy_(torch.eye(3))
        ann[4].bias.zero_()
    ann_acc = (ann(x).argmax(1) == y).float().mean().item()
    loader = [(x[i:i + 100], y[i:i + 100]) for i in range(0, n, 100)]
    snn = Converter(loader, mode="99.9%")(ann)
    snn_acc = (_rate(snn, x, 256).argmax(1) == y).float().mean().item()
    assert ann_acc > 0.9 and abs(snn_acc - ann_acc) <= 0.02, (ann_acc, snn_acc)


def test_bad_input_is_named_with_the_fix():
    ann = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    with pytest.raises(ValueError, match="'99.9' is not a scaling method; use mode='max'"):
        Converter([torch.rand(2, 2)], mode="99.9")
    with pytest.raises(ValueError, match="number in \\(0, 1\\]"):
        Converter([torch.rand(2, 2)], mode=1.5)
    with pytest.raises(ValueError, match="momentum"):
        Converter([torch.rand(2, 2)], momentum=2)
    with pytest.raises(TypeError, match="dataloader must be an iterable"):
        Converter(None)
    with pytest.raises(ValueError, match="no nn.ReLU module"):
        Converter([torch.rand(2, 2)])(nn.Sequential(nn.Linear(2, 2), nn.Sigmoid()))
    with pytest.raises(ValueError, match="gave no batch"):
        Converter([])(ann)
    with pytest.raises(ValueError, match="never fired"):
        Converter([-torch.ones(2, 2)])(nn.Sequential(nn.ReLU()))
    with pytest.raises(ValueError, match="cannot find the input"):
        Converter([{"a": 1, "b": 2}])(ann)


def test_same_snn_as_spikingjelly(monkeypatch):
    pytest.importorskip("tqdm")
    pytest.importorskip("spikingjelly.activation_based")
    try:
        import requests  # noqa: F401
    except ImportError:      # SpikingJelly's ann2snn imports requests only to download pretrained models
        monkeypatch.setitem(sys.modules, "requests", types.ModuleType("requests"))
    ann2snn = pytest.importorskip("spikingjelly.activation_based.ann2snn")
    torch.manual_seed(2)
    ann = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AvgPool2d(2),
                        nn.Flatten(), nn.Linear(64, 10), nn.ReLU(), nn.Linear(10, 3))
    with torch.no_grad():
        ann[1].running_mean.uniform_(-0.1, 0.1)
        ann[1].running_var.uniform_(0.5, 1.5)
    data = [(torch.rand(8, 1, 8, 8), torch.zeros(8)) for _ in range(3)]
    x = torch.rand(5, 1, 8, 8)
    for mode in ("max", "99.9%", 0.8):
        theirs = ann2snn.Converter(ann2snn.RateCodingRecipe(data, mode=mode)).convert(ann)
        ours = Converter(data, mode=mode)(ann) if mode != 0.8 else \
            Converter(recipe=RateCodingRecipe(dataloader=data, mode=mode), device="cpu").convert(ann)
        want, got = theirs.state_dict(), ours.state_dict()
        assert sorted(want) == sorted(got)
        for key in want:
            torch.testing.assert_close(got[key], want[key], rtol=0, atol=0)
        with torch.no_grad():
            theirs_out = sum(theirs(x) for _ in range(20))
            ours_out = sum(ours(x) for _ in range(20))
        torch.testing.assert_close(ours_out, theirs_out, rtol=1e-6, atol=1e-6)


def test_calibration_failures_are_named():
    ann = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    with pytest.raises(ValueError, match=r"failed on calibration batch 0 \(input \[2, 3\]\)"):
        Converter([torch.rand(2, 3)])(ann)
    no_stats = nn.Sequential(nn.Conv2d(1, 1, 1), nn.BatchNorm2d(1, track_running_stats=False), nn.ReLU())
    with pytest.raises(ValueError, match="fuse_flag=False"):
        Converter([torch.rand(2, 1, 2, 2)])(no_stats)


def test_the_spikingjelly_2_recipe_form():
    ann = nn.Sequential(nn.Linear(1, 1, bias=False), nn.ReLU())
    with torch.no_grad():
        ann[0].weight.fill_(1.0)
    data = [torch.tensor([[2.0]])]
    snn = Converter(RateCodingRecipe(data, mode="max", neuron_factory=lambda s: neuron.IFNode(v_threshold=0.5,
                                                                                           v_reset=None)))(ann)
    assert snn.spiking_0.scaler0.scale.item() == pytest.approx(0.5 / 2.0)     # v_th / scale
    assert snn.spiking_0.if_node.v_threshold == 0.5
    with pytest.raises(ValueError, match="channel_wise=True has no spikesmith counterpart"):
        RateCodingRecipe(data, channel_wise=True)
    with pytest.raises(TypeError, match="recipe must be a RateCodingRecipe"):
        Converter(recipe="transformer_td_equivalent")
    with pytest.raises(TypeError, match="not both"):
        Converter(data, recipe=RateCodingRecipe(data))


def test_multi_step_mode_equals_the_step_loop():
    torch.manual_seed(3)
    ann = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AvgPool2d(2),
                        nn.Flatten(), nn.Linear(64, 10), nn.ReLU(), nn.Linear(10, 3))
    with torch.no_grad():
        ann[0].weight.abs_()
    snn = Converter([torch.rand(8, 1, 8, 8)])(ann)
    x = torch.rand(5, 1, 8, 8)
    with torch.no_grad():
        want = torch.stack([snn(x) for _ in range(6)])
        functional.reset_net(snn)
        functional.set_step_mode(snn, "m")
        got = snn(x.expand(6, -1, -1, -1, -1))
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)
    assert want.abs().sum() > 0 and isinstance(ann[0], nn.Conv2d) and type(ann[0]) is nn.Conv2d
