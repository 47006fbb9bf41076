"""Lava-dl netx export: the documented keys, shapes and dtypes; the fixed-point reference against the
float model; pooling folded into the next layer; atomic writes."""

import math

import numpy as np
import pytest
import torch
from torch import nn

h5py = pytest.importorskip("h5py")

from spikesmith import functional, layer, neuron  # noqa: E402
from spikesmith.export import check, compare_lava, read_lava, simulate_lava, to_lava  # noqa: E402
from spikesmith.export.lava import quantize_weight  # noqa: E402
from spikesmith.models import build_model  # noqa: E402


def _drive(net, gain=1.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                fan_in = m.weight[0].numel()
                m.weight.copy_((torch.rand(m.weight.shape, generator=g) - 0.3) * gain * 3 / math.sqrt(fan_in))
    return net


def _csnn():
    torch.manual_seed(0)
    m = build_model("csnn", channels=4, pool="avg", neuron="lif", readout="spike").eval()
    _drive(m, 1.8)
    return m


def test_file_has_the_netx_keys_shapes_and_dtypes(tmp_path):
    m = _csnn()
    x = (torch.rand(6, 2, 1, 28, 28) < 0.3).float()
    info = to_lava(m, tmp_path / "c.net", x)
    with h5py.File(info.path, "r") as f:
        assert sorted(f["layer"], key=int) == ["0", "1", "2", "3", "4", "5"]
        types = [f["layer"][str(i)]["type"][0].decode() for i in range(6)]
        assert types == ["input", "conv", "conv", "flatten", "dense", "dense"]
        assert f["layer/0/type"].dtype == np.dtype("S10") and f["layer/0/type"].shape == (1,)
        assert list(f["layer/0/shape"][()]) == [1, 28, 28]
        c1 = f["layer/1"]
        assert list(c1["shape"][()]) == [4, 28, 28]
        assert c1["weight"].shape == (4, 1, 3, 3) and c1["weight"].dtype == np.float32
        for key in ("kernelSize", "stride", "padding", "dilation"):
            assert c1[key].shape == (2,)
        assert int(c1["inChannels"][()]) == 1 and int(c1["outChannels"][()]) == 4 and int(c1["groups"][()]) == 1
        assert c1["bias"].shape == (4,)                                     # BatchNorm folded into a bias
        # the average pool before the second conv is folded: 3x3 kernel -> 6x6, stride 2, padding 2
        c2 = f["layer/2"]
        assert c2["weight"].shape == (4, 4, 6, 6) and list(c2["stride"][()]) == [2, 2]
        assert list(c2["padding"][()]) == [2, 2] and list(c2["shape"][()]) == [4, 14, 14]
        assert list(f["layer/3/shape"][()]) == [4 * 14 * 14, 1, 1]
        d = f["layer/4"]
        assert d["weight"].shape == (64, 4 * 14 * 14)                       # the last pool folded into the dense
        assert int(d["inFeatures"][()]) == 784 and int(d["outFeatures"][()]) == 64
        for i in (1, 2, 4, 5):
            n = f[f"layer/{i}/neuron"]
            assert n["type"][0] == b"CUBA"
            assert int(n["iDecay"][()]) == 4096 and int(n["vDecay"][()]) == 2048     # LIF tau = 2
            assert 0 < int(n["vThMant"][()]) < 2 ** 17
            w = f[f"layer/{i}/weight"][()]
            assert np.all(w == np.round(w)) and np.all(w % 2 == 0) and w.min() >= -256 and w.max() <= 254
    assert info.size_bytes == (tmp_path / "c.net").stat().st_size
    assert not list(tmp_path.glob(".*.tmp"))


def test_reference_simulation_within_quantisation_error(tmp_path):
    m = _csnn()
    x = (torch.rand(12, 8, 1, 28, 28) < 0.3).float()
    to_lava(m, tmp_path / "c.net", x)
    out, per_layer = simulate_lava(tmp_path / "c.net", x, record=True)
    assert out.shape == (12, 8, 10) and len(per_layer) == 6
    rate = [float(p.mean()) for p in per_layer[1:] if p.dim() > 2]
    assert all(r > 0.01 for r in rate), rate
    report = compare_lava(m, tmp_path / "c.net", x)
    assert report["spike_mismatch"] < 0.1                        # 8-bit weights: a few spikes move
    assert report["layout_loihi"] == [8, 10, 12]                 # N x C x T


def test_exact_weights_give_exact_spikes(tmp_path):
    # weights on the 8-bit grid, thresholds off the ties: the fixed point equals the float model
    M = dict(step_mode="m")
    net = nn.Sequential(layer.Linear(20, 16, bias=False, **M), neuron.IFNode(v_threshold=1.01, **M),
                        layer.Linear(16, 5, bias=False, **M), neuron.LIFNode(tau=2.0, decay_input=False,
                                                                             v_threshold=0.99, **M))
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for lin in (net[0], net[2]):
            lin.weight.copy_(torch.randint(-20, 60, lin.weight.shape, generator=g).float() * 2 / 128)
    x = (torch.rand(20, 6, 20, generator=g) < 0.4).float()
    assert [i.severity for i in check(net, "loihi2", (20,))] == []
    to_lava(net, tmp_path / "e.net", x)
    layers = read_lava(tmp_path / "e.net")
    assert [l.type for l in layers] == ["input", "dense", "dense"]
    assert layers[2].neuron["vDecay"] == 2048 and layers[1].neuron["vDecay"] == 0
    ref = simulate_lava(tmp_path / "e.net", x)
    with torch.no_grad():
        y = net(x)
    assert y.mean() > 0.05
    assert torch.equal(ref, y)


def test_cuba_decays_and_readout(tmp_path):
    M = dict(step_mode="m")
    net = _drive(nn.Sequential(layer.Linear(10, 12, bias=False, **M), neuron.CubaLIFNode(tau_syn=4.0, tau_mem=8.0, **M),
                               layer.Linear(12, 3, **M), neuron.IntegratorNode(**M)), gain=1.5)
    x = (torch.rand(16, 4, 10) < 0.5).float()
    to_lava(net, tmp_path / "r.net", x)
    layers = read_lava(tmp_path / "r.net")
    assert layers[1].neuron["iDecay"] == 1024 and layers[1].neuron["vDecay"] == 512
    assert layers[2].readout and layers[2].neuron["vDecay"] == 0
    report = compare_lava(net, tmp_path / "r.net", x)
    with torch.no_grad():
        functional.reset_net(net)
        scale = float(net(x).abs().max())
    assert report["output_error"] < 0.05 * scale


def test_quantisation_is_8_bit_with_power_of_two_scale():
    w = torch.tensor([[0.5, -0.25, 0.126, 0.0]])
    q, k = quantize_weight(w)
    assert k == 8 and q.max() <= 254 and q.min() >= -256
    assert np.allclose(q / 2 ** k, [[0.5, -0.25, 0.125, 0.0]])


def test_lava_refuses_what_netx_cannot_read(tmp_path):
    M = dict(step_mode="m")
    net = nn.Sequential(layer.Linear(4, 6, **M), neuron.LIFNode(tau=torch.linspace(2, 3, 6), **M),
                        layer.Linear(6, 3, **M), neuron.CubaLIFNode(tau_syn=3.0, **M))
    with pytest.raises(ValueError) as err:
        to_lava(net, tmp_path / "bad.net", (4,))
    assert "per-neuron tau" in str(err.value) and "bias into a synaptic current" in str(err.value)
    assert not (tmp_path / "bad.net").exists()
    with pytest.raises(ValueError, match="not a Lava netx file"):
        (tmp_path / "junk.net").write_bytes(b"junk")
        read_lava(tmp_path / "junk.net")


def test_silent_channels_with_near_zero_thresholds_do_not_break_the_scale(tmp_path):
    """Conversion gives channels the calibration never drove a ~0 threshold (1e-12); folding 1/theta
    into the weights must not push the shared weight scale to 2^-30 (every weight would become 0)."""
    M = dict(step_mode="m")
    vth = torch.tensor([1.0, 1e-12, 1.5, 0.8])
    net = nn.Sequential(layer.Linear(10, 4, bias=False, **M), neuron.IFNode(v_threshold=vth, **M),
                        layer.Linear(4, 3, bias=False, **M), neuron.IFNode(**M))
    _drive(net, 1.5)
    with torch.no_grad():
        net[0].weight[1] = -net[0].weight[1].abs()  # the silent channel: never driven above 0
    x = (torch.rand(16, 5, 10, generator=torch.Generator().manual_seed(3)) < 0.5).float()
    to_lava(net, tmp_path / "s.net", x)
    layers = read_lava(tmp_path / "s.net")
    assert layers[1].scale >= 2.0 ** 0 and layers[1].neuron["vThMant"] > 1
    assert np.all(layers[1].weight[1] == 0)                  # the silent channel is cut
    report = compare_lava(net, tmp_path / "s.net", x)
    assert report["spike_mismatch"] < 0.1
