"""What folding and export do with the normalisations in time and the parallel neurons: tdBN folds
(the folded network equals the unfolded one in eval), TEBN, BNTT and the PSN family are refused by
name, with the reason."""

import pytest
import torch
from torch import nn

from spikesmith import functional, layer, neuron
from spikesmith.conversion.graph import normalize, trace
from spikesmith.export import check, export_model, layer_list, ops_network
from spikesmith.layer.eval_affine import NotFoldableError, eval_affine, fold_refusal

M = dict(step_mode="m")
T = 3


def _trained(norm):
    """conv -> norm -> IF -> flatten -> linear, with running statistics from one training batch, in eval."""
    torch.manual_seed(0)
    net = nn.Sequential(layer.Conv2d(2, 3, 3, padding=1, **M), norm, neuron.IFNode(**M), layer.Flatten(**M),
                        layer.Linear(3 * 5 * 5, 4, **M))
    with torch.no_grad():
        net[1].weight.copy_(torch.tensor([0.5, 1.5, -0.75]).expand_as(net[1].weight))
        if getattr(net[1], "bias", None) is not None:
            net[1].bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
        net(torch.randn(T, 8, 2, 5, 5) * 2 + 1)
    functional.reset_net(net)
    return net.eval()


def test_tdbn_eval_affine_has_the_threshold_factor():
    bn = _trained(layer.ThresholdDependentBatchNorm2d(3, alpha=2 ** -0.5, v_threshold=0.5))[1]
    scale, shift = eval_affine(bn)
    factor = 2 ** -0.5 * 0.5
    expected = factor * bn.weight.detach().double() / torch.sqrt(bn.running_var.double() + bn.eps)
    assert torch.allclose(scale, expected) and torch.allclose(shift, bn.bias.double() - bn.running_mean.double() * expected)
    x = torch.randn(T, 2, 3, 4, 4)
    with torch.no_grad():
        assert torch.allclose(bn(x), (x.double() * scale.view(3, 1, 1) + shift.view(3, 1, 1)).float(), atol=1e-5)


def test_tdbn_is_folded_on_export_and_the_folded_network_equals_the_unfolded():
    net = _trained(layer.ThresholdDependentBatchNorm2d(3, v_threshold=0.5))
    ops = layer_list(net, (2, 5, 5))
    assert [op.kind for op in ops] == ["conv", "neuron", "flatten", "linear"]
    assert ops[0].notes == ["BatchNorm '1' folded"]
    x = (torch.rand(T, 4, 2, 5, 5) * 3).round()                     # spike counts in, away from ties
    with torch.no_grad():
        functional.reset_net(net)
        pre_bn = net[1](net[0](x))
        folded = ops_network(ops[:1])(x)
    assert torch.allclose(folded, pre_bn, atol=1e-5)
    with torch.no_grad():
        functional.reset_net(net)
        ref = net(x)
        net2 = ops_network(ops)
        functional.reset_net(net2)
        assert torch.allclose(net2(x), ref, atol=1e-4)
    assert check(net, "nir", (2, 5, 5)) == []


def test_tdbn_exports_to_nir():
    pytest.importorskip("nir")
    net = _trained(layer.ThresholdDependentBatchNorm2d(3, v_threshold=0.5))
    result = export_model(net, "nir", torch.zeros(T, 1, 2, 5, 5))
    assert result.changes == []


@pytest.mark.parametrize("make, reason", [
    (lambda: layer.TemporalEffectiveBatchNorm2d(3, T=T), "its scale p\\[t\\] differs per time step"),
    (lambda: layer.BNTT(3, T=T), "its statistics and gamma differ per time step"),
])
def test_tebn_and_bntt_are_refused_by_name(make, reason):
    net = _trained(make())
    name = type(net[1]).__name__
    assert fold_refusal(net[1]).startswith(f"{name}: ")
    with pytest.raises(NotFoldableError, match=f"{name} cannot be folded into the layer before it: {reason}"):
        eval_affine(net[1])
    ops = layer_list(net, (2, 5, 5))
    assert [op.kind for op in ops][:2] == ["conv", "other"] and ops[0].notes == []       # never folded
    for target in ("nir", "loihi2"):
        named = [i for i in check(net, target, (2, 5, 5)) if i.layer == f"{name} '1'"]
        assert len(named) == 1 and named[0].severity == "error"
        assert f"{name} has no {target} equivalent ({reason.replace(chr(92), '')}" in named[0].problem
    with pytest.raises(ValueError, match=f"{name}"):
        export_model(net, "nir", (2, 5, 5))


@pytest.mark.parametrize("cls", [neuron.PSN, neuron.MaskedPSN, neuron.SlidingPSN])
def test_parallel_neurons_are_refused_by_name(cls):
    net = nn.Sequential(layer.Linear(4, 3, **M), cls(T=T) if cls is not neuron.SlidingPSN else cls())
    issues = check(net, "nir", (4,))
    assert len(issues) == 1
    text = str(issues[0])
    assert f"{cls.__name__} has no nir equivalent (it has no membrane recurrence" in text


# ----------------------------------------------------------------------------- conversion (ANN -> SNN)
def _ann(norm):
    torch.manual_seed(1)
    ann = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), norm, nn.ReLU(), nn.Flatten(), nn.Linear(3 * 5 * 5, 4))
    with torch.no_grad():
        ann(torch.randn(16, 2, 5, 5))
    return ann.eval()


def test_conversion_folds_tdbn_into_the_conv():
    ann = _ann(layer.ThresholdDependentBatchNorm2d(3, v_threshold=0.5, step_mode="s"))
    gm = normalize(trace(ann))
    assert not any(isinstance(m, nn.BatchNorm2d) for m in gm.modules())
    x = torch.randn(5, 2, 5, 5)
    with torch.no_grad():
        assert torch.allclose(gm(x), ann(x), atol=1e-5)


@pytest.mark.parametrize("make, name", [
    (lambda: layer.TemporalEffectiveBatchNorm2d(3, T=4, step_mode="s"), "TemporalEffectiveBatchNorm2d"),
    (lambda: layer.BNTT(3, T=4, step_mode="s"), "BNTT"),
])
def test_conversion_refuses_tebn_and_bntt_by_name(make, name):
    ann = nn.Sequential(nn.Conv2d(2, 3, 3), make(), nn.ReLU())
    with pytest.raises(ValueError, match=f"module '1' \\({name}: its .* differ"):
        trace(ann)
