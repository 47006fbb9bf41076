"""Threshold balancing and layer-wise calibration reduce the error they measure."""

import pytest
import torch
from torch import nn

from spikesmith import conversion
from spikesmith.conversion import balance, layer_error


def _errors(snn, x):
    errs = [layer_error(snn, name, x) for name in snn.spiking_layers()]
    return [float(e["mean"].abs().mean()) for e in errs], sum(e["mse"] for e in errs)


def test_bias_then_potential_correction_reduce_layer_errors(cnn):
    ann, x, _ = cnn
    xc = x[:128]
    plain = conversion.convert(ann, xc, T=4, method="mse")
    bias = conversion.convert(ann, xc, T=4, method="mse", calibration=("bias",))
    both = conversion.convert(ann, xc, T=4, method="mse", calibration=("bias", "potential"))
    mean0, mse0 = _errors(plain, xc)
    mean1, mse1 = _errors(bias, xc)
    mean2, mse2 = _errors(both, xc)
    # per-neuron mean error a - r: bias correction removes its per-channel part, potential correction the rest
    assert mean1[-1] < 0.5 * mean0[-1]
    assert all(b <= a * 1.05 for a, b in zip(mean0, mean1))
    assert mean2[1] < 0.8 * mean1[1]                  # the conv layer: spatial structure left for V(0)
    assert mse1 < mse0 and mse2 < mse1
    # the potential correction lives in the initial potentials, per neuron
    layer = both.spiking_layers()["6"]
    assert layer.v_init.shape == (8, 6, 6) and float(layer.v_init.abs().max()) > 0


def test_weight_calibration_runs_and_changes_only_the_snn(cnn):
    ann, x, _ = cnn
    before = ann[4].weight.detach().clone()
    snn = conversion.convert(ann, x[:64], T=4, method="advanced", calibration=("bias", "potential", "weights"),
                             weight_iters=5)
    assert torch.equal(ann[4].weight, before)
    assert not torch.allclose(snn.net.get_submodule("4").weight, snn.ann.get_submodule("4").weight)


def test_threshold_methods_by_hand():
    values = torch.tensor([0.0, 0.0, 0.5, 1.0, 2.0, 4.0]).view(6, 1)
    assert float(balance(values, "max")) == 4.0
    assert float(balance(values, "fraction", fraction=0.5)) == 2.0
    # percentile of the positive values only: 50% of {0.5, 1, 2, 4} is the 2nd smallest
    assert float(balance(values, "percentile", percentile=50)) == 1.0
    assert float(balance(values, "activation", clip=3.0)) == 3.0
    per = balance(torch.tensor([[1.0, 0.0], [3.0, 0.0]]), "max", per_channel=True)
    assert per.tolist() == [3.0, 3.0]                  # a dead channel gets the layer's value, never 0


def test_mse_threshold_beats_max_on_heavy_tail():
    torch.manual_seed(0)
    a = torch.relu(torch.randn(20000, 1)) ** 3
    T = 8
    th_max = balance(a, "max")
    th_mse = balance(a, "mse", T=T)
    err = lambda th: float((conversion.quantize(a, th, T) - a).pow(2).mean())
    assert th_mse < th_max and err(th_mse) < 0.5 * err(th_max)


def test_qcfs_preset_uses_lambda_and_half_potential():
    from spikesmith.models.activations import QCFS

    net = nn.Sequential(nn.Linear(5, 8), QCFS(levels=4, threshold=1.5), nn.Linear(8, 2)).eval()
    x = torch.randn(64, 5)
    snn = conversion.convert(net, x, T=4, method="qcfs", calibration=())  # Bu et al.'s plain QCFS
    assert not snn.t_dependent
    layer = snn.spiking_layers()["1"]
    assert float(layer.threshold) == 1.5 and float(layer.v_init) == 0.75
    # the first layer sees a constant input: with T = L its rate is exactly the QCFS output
    assert layer_error(snn, "1", x)["mse"] < 1e-10
    with torch.no_grad():
        torch.testing.assert_close(snn(x), net(x), rtol=1e-5, atol=1e-5)
    # the preset calibrates on top (bias and potential): nothing to correct in an exact layer
    calibrated = conversion.convert(net, x, T=4, method="qcfs")
    assert calibrated.t_dependent
    with torch.no_grad():
        torch.testing.assert_close(calibrated(x), net(x), rtol=1e-4, atol=1e-4)


def test_calibration_option_spellings():
    from spikesmith.conversion import resolve_options

    assert resolve_options("qcfs", {"calibration": "none"})["calibration"] == ()
    assert resolve_options("qcfs", {"calibration": ""})["calibration"] == ()
    assert resolve_options("max", {"calibration": ("potential", "bias")})["calibration"] == ("bias", "potential")
    with pytest.raises(ValueError, match="calibration steps must be among"):
        resolve_options("max", {"calibration": "bias+weights"})
