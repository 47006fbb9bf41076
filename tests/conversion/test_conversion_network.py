"""Converted networks: agreement with the ANN, residual blocks, max pooling rule, errors, T, spikes."""

import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from spikesmith import conversion
from spikesmith.models import build_model
from spikesmith.monitor import SpikeMonitor



def test_converted_cnn_matches_ann_predictions_at_T64(cnn):
    ann, x, y = cnn
    with torch.no_grad():
        ann_pred = ann(x[256:]).argmax(1)
        assert (ann_pred == y[256:]).float().mean() > 0.8          # the ANN learned something
        for method in ("robust", "light"):
            snn = conversion.convert(ann, x[:128], T=64, method=method)
            out = snn(x[256:])
            assert out.shape == ann(x[256:]).shape
            agree = (out.argmax(1) == ann_pred).float().mean().item()
            assert agree >= 0.9, (method, agree)


def test_drop_in_and_multistep_internals(cnn):
    ann, x, _ = cnn
    snn = conversion.convert(ann, x[:64], T=16, method="max")
    with torch.no_grad():
        seq = snn.forward_seq(x[:8])
        assert seq.shape == (16, 8, 4)
        torch.testing.assert_close(seq[-1], snn(x[:8]))
        # an explicit sequence equal at every step gives the same output
        seq2 = snn.forward_seq(x_seq=x[:8].unsqueeze(0).expand(16, *x[:8].shape))
        torch.testing.assert_close(seq2, seq, rtol=1e-5, atol=1e-6)
    neurons = snn.neurons()
    assert list(neurons) == ["2", "6", "10"]
    mon = SpikeMonitor(snn)
    with torch.no_grad():
        snn(x[:8])
    rates = mon.firing_rates()
    assert set(rates) == {"net.2.neuron", "net.6.neuron", "net.10.neuron"}
    assert all(0 < r < 1 for r in rates.values())
    mon.remove_hooks()


def test_set_T_warns_for_calibrated_methods_and_recalibrates(cnn):
    ann, x, _ = cnn
    snn = conversion.convert(ann, x[:64], T=8, method="light")
    with pytest.warns(UserWarning, match="calibrated for T=8"):
        snn.set_T(16)
    assert snn(x[:4]).shape == (4, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        snn.set_T(32, calibration_data=x[:64])
        free = conversion.convert(ann, x[:64], T=8, method="robust")
        free.set_T(16)                                   # thresholds independent of T: no warning
    assert snn.T == 32 and snn.calibrated_T == 32


def test_resnet_with_residual_add_converts():
    torch.manual_seed(1)
    ann = build_model("resnet", layers=(1, 1), in_channels=1, width=4, num_classes=5, ann=True).eval()
    x = torch.rand(48, 1, 10, 10)
    snn = conversion.convert(ann, x[:32], T=64, method="light", per_channel=True)
    with torch.no_grad():
        ref = ann(x)
        out = snn(x)
    assert len(snn.spiking_layers()) == 5
    assert (out - ref).abs().mean() < 0.1 * ref.abs().mean()


class _Odd(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 6)
        self.norm = nn.LayerNorm(6)
        self.gate = nn.Sigmoid()

    def forward(self, x):
        h = self.gate(self.norm(self.fc(x)))
        return F.gelu(h) * x


def test_unsupported_operations_are_named():
    with pytest.raises(ValueError) as err:
        conversion.convert(_Odd(), torch.rand(8, 6), T=4, method="max")
    msg = str(err.value)
    for name in ("'norm' (LayerNorm)", "'gate' (Sigmoid)", "gelu", "operator.mul of two tensors"):
        assert name in msg, name


def test_untraceable_model_is_explained():
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, x):
            return self.fc(x) if x.sum() > 0 else x

    with pytest.raises(ValueError, match="torch.fx cannot trace Branchy"):
        conversion.convert(Branchy(), torch.rand(4, 3), method="max")


def test_max_pool_rule():
    ann = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 3)).eval()
    x = torch.rand(32, 1, 8, 8)
    with pytest.raises(ValueError, match="average pooling.*max_pool='gate'"):
        conversion.convert(ann, x, method="max")
    snn = conversion.convert(ann, x, T=64, method="robust", max_pool="gate")
    assert isinstance(snn.net.get_submodule("2"), conversion.GatedMaxPool)
    with torch.no_grad():
        gated = (snn(x) - ann(x)).abs().mean()
        snn.net.set_submodule("2", nn.MaxPool2d(2))          # the naive per-step max of spikes
        naive = (snn(x) - ann(x)).abs().mean()
    assert gated < 0.5 * naive
    # max pooling of the input itself (before any neuron) is exact and stays a plain max pool
    first = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(16, 2)).eval()
    snn = conversion.convert(first, x, T=8, method="max")
    assert not any(isinstance(m, conversion.GatedMaxPool) for m in snn.modules())


def test_gated_max_pool_follows_accumulated_input():
    pool = conversion.GatedMaxPool(nn.MaxPool2d(2))
    pool.T = 3
    # one 2x2 window; unit a spikes at t=0 only, unit b at t=1 and t=2
    a = torch.tensor([1.0, 0.0, 0.0])
    b = torch.tensor([0.0, 1.0, 1.0])
    x = torch.zeros(3, 1, 1, 2, 2)
    x[:, 0, 0, 0, 0], x[:, 0, 0, 0, 1] = a, b
    out = pool(x.flatten(0, 1)).view(3)
    # t=0: a leads (1 vs 0) -> 1; t=1: tie 1 vs 1, first index (a) -> a's 0; t=2: b leads -> 1
    torch.testing.assert_close(out, torch.tensor([1.0, 0.0, 1.0]))


def test_no_bias_option_removes_every_bias(cnn):
    """Structure only on the CNN. Its agreement with the ANN is not a property of bias=False: moving
    a bias B into V(0) += T B front-loads the charge, so a neuron with B > 0 and a negative input fires
    early and cannot take the spikes back (the cost remove_biases documents). Measured over training
    seeds 0-7 at T=64, agreement was 0.82, 0.74, 0.23, 0.45, 0.46, 0.25, 0.72, 0.66: seed 0 alone passed
    the old "> 0.8", and an EPYC gave 0.793. The accuracy check lives in the next test, where theory
    says the counts are kept."""
    ann, x, _ = cnn
    with torch.no_grad():
        snn = conversion.convert(ann, x[:128], T=64, method="light", bias=False)
    assert not [n for n, _ in snn.net.named_parameters() if n.endswith("bias")]
    assert all(float(layer.bias.abs().max()) == 0 for layer in snn.spiking_layers().values())
    assert snn.options["bias"] is False and snn.t_dependent


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_bias_keeps_the_spike_counts_where_every_charge_only_grows(seed):
    """Non-negative weights and inputs with negative biases: every neuron's cumulative charge only
    grows, so its count after T steps is floor(total charge / threshold) wherever the charge sits in
    time, and bias=False (the whole bias in V(0)) keeps the decision. Only a neuron whose bias-free
    input passes the threshold per step can lose spikes (one spike per step at most). Checked once
    over seeds 0-15: agreement 0.992 at the lowest (256 samples), against the 0.95 asserted."""
    g = torch.Generator().manual_seed(seed)
    net = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 3))
    with torch.no_grad():
        for m in net:
            if isinstance(m, nn.Linear):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) * 0.5)
                m.bias.copy_(-torch.rand(m.bias.shape, generator=g) * 0.3)
    x = torch.rand(256, 5, generator=g)
    with torch.no_grad():
        with_bias = conversion.convert(net, x, T=32, method="max")
        without = conversion.convert(net, x, T=32, method="max", bias=False)
        agree = (with_bias(x).argmax(1) == without(x).argmax(1)).float().mean()
    assert not [n for n, _ in without.net.named_parameters() if n.endswith("bias")]
    assert agree >= 0.95


def test_bad_method_and_option():
    ann = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 2))
    with pytest.raises(ValueError, match="unknown method 'fancy'"):
        conversion.convert(ann, torch.rand(4, 3), method="fancy")
    with pytest.raises(ValueError, match="unknown option"):
        conversion.convert(ann, torch.rand(4, 3), method="max", thresholds="max")


class _SharedRelu(nn.Module):
    """torchvision style: one ReLU module called at two places."""

    def __init__(self):
        super().__init__()
        self.a, self.b, self.c = nn.Linear(6, 8), nn.Linear(8, 8), nn.Linear(8, 3)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.c(self.relu(self.b(self.relu(self.a(x)))))


def test_a_module_used_twice_becomes_two_spiking_layers():
    net = _SharedRelu().eval()
    x = torch.randn(64, 6)
    snn = conversion.convert(net, x, T=32, method="light")
    layers = snn.spiking_layers()
    assert len(layers) == 2 and len({id(m) for m in layers.values()}) == 2
    with torch.no_grad():
        assert (snn(x) - net(x)).abs().mean() < 0.1 * net(x).abs().mean()


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_calibration_data_is_an_error(bad):
    """NaN calibration data took the agreement with the ANN from 87.5% to 75% and nothing was said."""
    ann = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).eval()
    x = torch.rand(16, 3)
    x[5, 1] = bad
    x[9, 0] = bad
    with pytest.raises(ValueError, match=r"2 of 16 calibration samples hold NaN or Inf \(the first is sample 5\)"):
        conversion.convert(ann, x, T=8, method="max")
    loader = [(x[:8], torch.zeros(8)), (x[8:], torch.zeros(8))]
    with pytest.raises(ValueError, match="calibration samples hold NaN or Inf"):
        conversion.convert(ann, loader, T=8, method="max")
