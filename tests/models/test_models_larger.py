"""RSNN, spiking VGG and SEW ResNet: shapes, ANN twins, gradients, residual functions by hand."""

import pytest
import torch

from spikesmith import functional
from spikesmith.models import RSNN, NeuronSpec, SEWBasicBlock, SpikingResNet, SpikingVGG, build_model
from spikesmith.models.resnet import _Builder


def weight_keys(model):
    return {k for k in model.state_dict() if not k.endswith(("v_threshold", "v_reset", "v_init", "tau", "beta",
                                                             "tau_adapt"))}


def test_rsnn_shapes_gradients_and_adaptation():
    torch.manual_seed(0)
    m = RSNN(in_features=5, num_classes=3, n_lif=4, n_alif=6)
    x = torch.rand(7, 2, 5, requires_grad=True)
    y = m(x)
    assert y.shape == (7, 2, 3)
    y.sum().backward()
    assert m.recurrent.layer_rec.weight.grad is not None and x.grad.abs().sum() > 0
    beta = m.recurrent.neuron.beta
    assert beta[:4].eq(0).all() and beta[4:].gt(0).all()
    functional.reset_net(m)
    twin = RSNN(in_features=5, num_classes=3, n_lif=4, n_alif=6, ann=True)
    assert twin(torch.rand(7, 2, 5)).shape == (7, 2, 3)
    assert weight_keys(twin) <= weight_keys(m)


@pytest.mark.parametrize("pool", ["max", "avg"])
def test_vgg_any_input_size_and_twin(pool):
    snn = SpikingVGG("vgg11", in_channels=2, num_classes=4, width=0.125, pool=pool)
    ann = SpikingVGG("vgg11", in_channels=2, num_classes=4, width=0.125, pool=pool, ann=True)
    assert snn(torch.rand(3, 2, 2, 34, 34)).shape == (3, 2, 4)
    assert ann(torch.rand(2, 2, 17, 17)).shape == (2, 4)
    assert weight_keys(snn) == weight_keys(ann)
    with pytest.raises(ValueError, match="unknown VGG config 'vgg99'"):
        SpikingVGG("vgg99")


def test_vgg_custom_config_channels():
    m = SpikingVGG([8, "P", 16], in_channels=1, num_classes=2)
    convs = [mod for mod in m.modules() if isinstance(mod, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [8, 16]


def test_sew_connect_functions_by_hand():
    b = _Builder(False, NeuronSpec.of("if", surrogate="atan", detach_reset=True), "relu")
    block = SEWBasicBlock(b, 2, 2, 1, "add")
    for p in block.parameters():
        torch.nn.init.zeros_(p)  # body output 0 -> BN(0) = bias 0 -> no spikes
    x = (torch.rand(2, 1, 2, 4, 4) > 0.5).float()
    assert torch.equal(block(x), x)  # ADD: 0 + x
    functional.reset_net(block)
    block.connect = "and"
    assert torch.equal(block(x), torch.zeros_like(x))  # AND: 0 * x
    functional.reset_net(block)
    block.connect = "iand"
    assert torch.equal(block(x), x)  # IAND: (1 - 0) * x
    with pytest.raises(ValueError, match="connect must be one of"):
        SEWBasicBlock(b, 2, 2, 1, "or")


def test_resnet_shapes_twin_and_gradients():
    torch.manual_seed(0)
    snn = SpikingResNet((1, 1), in_channels=1, num_classes=5, width=4)
    ann = SpikingResNet((1, 1), in_channels=1, num_classes=5, width=4, ann=True)
    x = torch.rand(2, 3, 1, 16, 16)
    y = snn(x)
    assert y.shape == (2, 3, 5)
    y.sum().backward()
    assert all(p.grad is not None for p in snn.parameters())
    assert ann(torch.rand(3, 1, 16, 16)).shape == (3, 5)
    assert weight_keys(snn) == weight_keys(ann)
    big = SpikingResNet((1,), in_channels=3, num_classes=2, width=4, small_input=False)
    assert big(torch.rand(1, 1, 3, 64, 64)).shape == (1, 1, 2)


def test_registry_builds_the_new_models():
    assert isinstance(build_model("rsnn", in_features=3, n_lif=2, n_alif=2), RSNN)
    assert isinstance(build_model("vgg", config="vgg5", in_channels=1, width=0.1), SpikingVGG)
    assert isinstance(build_model("resnet", layers=(1,), in_channels=1, width=4), SpikingResNet)
