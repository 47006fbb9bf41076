"""from_spikingjelly reproduces SpikingJelly networks (skipped where SpikingJelly is not installed)."""

from __future__ import annotations

import sys
import types

import pytest
import torch
from torch import nn

from spikesmith import functional, layer, neuron, surrogate
from spikesmith.compat import from_spikingjelly

sj = pytest.importorskip("spikingjelly.activation_based")
from spikingjelly.activation_based import functional as sjf  # noqa: E402
from spikingjelly.activation_based import layer as sjl  # noqa: E402
from spikingjelly.activation_based import neuron as sjn  # noqa: E402
from spikingjelly.activation_based import surrogate as sjs  # noqa: E402


def _check_same(sj_net, x):
    sj_net = sj_net.double().eval()
    ours = from_spikingjelly(sj_net)
    sjf.reset_net(sj_net)
    want = sj_net(x)
    got = ours(x)
    assert got.shape == want.shape
    torch.testing.assert_close(got, want, rtol=0, atol=1e-12)
    functional.reset_net(ours)
    torch.testing.assert_close(ours(x), want, rtol=0, atol=1e-12)   # after a reset: the same again
    return ours, want


def test_mlp_multi_step():
    torch.manual_seed(0)
    net = nn.Sequential(
        sjl.Flatten(), sjl.Linear(16, 24), sjn.LIFNode(tau=2.5, surrogate_function=sjs.ATan(alpha=3.0)),
        sjl.Dropout(0.3),
        sjl.Linear(24, 12), sjn.ParametricLIFNode(init_tau=3.0, v_reset=None, decay_input=False,
                                                  surrogate_function=sjs.PiecewiseQuadratic(alpha=2.0)),
        sjl.Linear(12, 5, bias=False), sjn.IFNode(v_threshold=0.5, v_reset=-0.2, surrogate_function=sjs.Rect()),
    )
    sjf.set_step_mode(net, "m")
    with torch.no_grad():
        net[1].weight.uniform_(-0.1, 0.3)
        net[4].weight.uniform_(-0.2, 0.6)
        net[6].weight.uniform_(-0.2, 0.8)
        net[5].w.fill_(0.3)                       # a trained-looking PLIF time constant
    x = torch.rand(8, 4, 1, 4, 4, dtype=torch.float64) * 2
    ours, want = _check_same(net, x)
    assert want.sum() > 0 and want.mean() < 1          # spikes, but not everywhere
    assert isinstance(ours[2], neuron.LIFNode) and ours[2].tau == 2.5 and ours[2].step_mode == "m"
    assert isinstance(ours[2].surrogate_function, surrogate.ATan) and ours[2].surrogate_function.alpha == 3.0
    assert ours[5].v_reset is None and ours[5].decay_input is False
    assert isinstance(ours[7].surrogate_function, surrogate.Rectangle)
    assert ours[7].surrogate_function.width == 1.0 and ours[7].v_reset == -0.2
    assert set(ours.state_dict()) == set(net.state_dict())


def test_conv_net_multi_step():
    torch.manual_seed(1)
    net = nn.Sequential(
        sjl.SeqToANNContainer(nn.Conv2d(2, 6, 3, padding=1, bias=False), nn.BatchNorm2d(6)),
        sjn.IFNode(surrogate_function=sjs.Sigmoid(alpha=5.0), detach_reset=True),
        sjl.MaxPool2d(2),
        sjl.Conv2d(6, 6, 3, padding=1), sjl.BatchNorm2d(6), sjn.LIFNode(tau=2.0, surrogate_function=sjs.PiecewiseExp()),
        sjl.AvgPool2d(2), sjl.Flatten(), sjl.Linear(6 * 2 * 2, 3), sjn.LIFNode(v_reset=None),
    )
    sjf.set_step_mode(net, "m")
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(1.0, 2.0)
                m.bias.uniform_(0.0, 0.5)
        net[3].weight.uniform_(-0.05, 0.15)
        net[8].weight.uniform_(-0.2, 0.3)
    x = torch.rand(6, 3, 2, 8, 8, dtype=torch.float64) * 2
    ours, want = _check_same(net, x)
    assert 0 < want.mean() < 1
    assert isinstance(ours[0], layer.SeqToANNContainer) and isinstance(ours[4], layer.BatchNorm2d)
    assert torch.equal(ours[4].running_var, net[4].running_var) and ours[1].detach_reset
    assert isinstance(ours[5].surrogate_function, surrogate.Exponential)


def test_single_step_mode_matches_too():
    torch.manual_seed(2)
    net = nn.Sequential(sjl.Linear(5, 7), sjn.LIFNode(), sjl.Linear(7, 2), sjn.IFNode()).double().eval()
    with torch.no_grad():
        net[0].weight.uniform_(-0.2, 0.8)
        net[2].weight.uniform_(-0.2, 0.8)
    ours = from_spikingjelly(net)
    assert ours[1].step_mode == "s"
    total = 0.0
    for x in torch.rand(5, 3, 5, dtype=torch.float64) * 2:
        want = net(x)
        torch.testing.assert_close(ours(x), want, rtol=0, atol=1e-12)
        total += float(want.detach().sum())
    assert total > 0


def test_weights_are_copied_not_shared():
    net = nn.Sequential(sjl.Linear(2, 2), sjn.IFNode())
    ours = from_spikingjelly(net)
    with torch.no_grad():
        ours[0].weight.zero_()
    assert net[0].weight.abs().sum() > 0


def test_unsupported_modules_are_named_with_the_fix():
    class MyLIF(sjn.LIFNode):                      # a subclass may change the dynamics: refused
        pass

    net = nn.Sequential(
        sjl.Linear(2, 2), sjn.IzhikevichNode(), sjn.LIFNode(surrogate_function=sjs.Erf()),
        sjn.NonSpikingIFNode(), MyLIF(),
        sjn.IFNode(surrogate_function=sjs.SuperSpike(alpha=2.0)), sjl.Delay(2),
    )
    with pytest.raises(TypeError) as err:
        from_spikingjelly(net)
    msg = str(err.value)
    assert "6 module(s)" in msg
    assert "module '1': spikingjelly IzhikevichNode" in msg and "spikesmith.neuron.IzhikevichNode" in msg
    assert "module '2' (LIFNode).surrogate_function: surrogate Erf" in msg and "ATan" in msg
    assert "NonSpikingIFNode" in msg and "spikesmith.neuron.IntegratorNode" in msg
    assert "module '4': MyLIF subclasses spikingjelly LIFNode" in msg
    assert "SuperSpike with alpha=2" in msg
    assert "module '6': spikingjelly Delay has no spikesmith counterpart; use torch ops" in msg
    assert "use rebuild" not in msg
    with pytest.raises(TypeError, match="nn.Module"):
        from_spikingjelly("net")


class _VotingNet(nn.Module):
    """A model class of one's own, the way SpikingJelly's examples write them: own forward, own attributes."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(sjl.Conv2d(1, 4, 3, padding=1, bias=False), sjl.GroupNorm(2, 4),
                                  sjn.ParametricLIFNode(surrogate_function=sjs.ATan()), sjl.MaxPool2d(2))
        self.fc = nn.Sequential(sjl.Flatten(), sjl.Linear(4 * 4 * 4, 20), sjn.LIFNode())
        self.vote = sjl.VotingLayer(10)
        self.blocks = [self.conv, self.fc]             # a plain list of submodules, used by forward
        self.gain = nn.Parameter(torch.tensor(1.5))
        sjf.set_step_mode(self, "m")

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.vote(x).mean(0) * self.gain


def test_own_module_class_converts_in_place_and_keeps_its_forward():
    torch.manual_seed(4)
    net = _VotingNet().double().eval()
    with torch.no_grad():
        net.conv[0].weight.uniform_(0.0, 0.6)
        net.conv[1].weight.uniform_(0.5, 1.5)
        net.conv[1].bias.uniform_(0.0, 0.5)
        net.fc[1].weight.uniform_(-0.1, 0.3)
    x = torch.rand(4, 3, 1, 8, 8, dtype=torch.float64) * 2
    ours, want = _check_same(net, x)
    assert type(ours) is _VotingNet and want.abs().sum() > 0
    assert isinstance(ours.conv[1], layer.GroupNorm) and isinstance(ours.vote, layer.VotingLayer)
    assert isinstance(ours.conv[2], neuron.ParametricLIFNode)
    assert ours.blocks[0] is ours.conv and ours.blocks[1] is ours.fc     # the list follows the conversion
    assert ours.gain is not net.gain and set(ours.state_dict()) == set(net.state_dict())
    assert isinstance(net.conv[2], sjn.ParametricLIFNode)                # the original is untouched


def _stand_in_for_data_tools(monkeypatch):
    """The zoo and the examples import torchvision / tensorboard for data, downloads and logs only."""
    for name in ("torchvision", "torchvision.models", "torchvision.datasets", "torchvision.transforms",
                 "torch.utils.tensorboard"):
        try:
            __import__(name)
        except ImportError:
            monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    try:
        import torchvision._internally_replaced_utils  # noqa: F401
    except ImportError:
        fake = types.ModuleType("torchvision._internally_replaced_utils")
        fake.load_state_dict_from_url = None
        monkeypatch.setitem(sys.modules, "torchvision._internally_replaced_utils", fake)
    sys.modules["torch.utils.tensorboard"].SummaryWriter = getattr(sys.modules["torch.utils.tensorboard"],
                                                                   "SummaryWriter", object)


@pytest.mark.parametrize("which", ["sew_resnet18", "spiking_basic_block", "sew_bottleneck"])
def test_model_zoo_resnets_convert(which, monkeypatch):
    _stand_in_for_data_tools(monkeypatch)
    sew_resnet = pytest.importorskip("spikingjelly.activation_based.model.sew_resnet")
    spiking_resnet = pytest.importorskip("spikingjelly.activation_based.model.spiking_resnet")
    torch.manual_seed(5)
    kw = dict(spiking_neuron=sjn.IFNode, surrogate_function=sjs.ATan(), detach_reset=True, num_classes=5)
    if which == "sew_bottleneck":             # sew_resnet50's block, on its own (the whole net is slow here)
        kw.pop("num_classes")
        down = nn.Sequential(sjl.Conv2d(3, 16, 1, bias=False), sjl.BatchNorm2d(16))
        net = sew_resnet.Bottleneck(3, 4, downsample=down, cnf="IAND", **kw)
    elif which.startswith("sew"):
        net = sew_resnet.sew_resnet18(cnf="ADD", **kw)
    else:                                     # spiking_resnet18's block (the whole net is slow here)
        kw.pop("num_classes")
        down = nn.Sequential(sjl.Conv2d(3, 8, 1, stride=2, bias=False), sjl.BatchNorm2d(8))
        net = spiking_resnet.BasicBlock(3, 8, stride=2, downsample=down, **kw)
    sjf.set_step_mode(net, "m")
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.weight.uniform_(0.8, 1.6)
                m.bias.uniform_(0.1, 0.6)
    x = torch.rand(2, 1, 3, 16, 16, dtype=torch.float64)
    ours, want = _check_same(net, x)
    assert type(ours) is type(net) and want.abs().sum() > 0
    assert not any(type(m).__module__.startswith("spikingjelly.activation_based.neuron") for m in ours.modules())


@pytest.mark.skipif(not hasattr(layer, "SynapseFilter"), reason="this spikesmith has no layer.SynapseFilter")
def test_feedback_layers_of_the_rsnn_example_convert():
    torch.manual_seed(6)
    net = nn.Sequential(
        sjl.Linear(6, 8),
        sjl.LinearRecurrentContainer(sjn.IFNode(surrogate_function=sjs.ATan(), detach_reset=True), 8, 8),
        sjl.SynapseFilter(tau=2.0, learnable=True),
        sjl.ElementWiseRecurrentContainer(sjn.LIFNode(), element_wise_function=lambda y, x: x + 0.5 * y),
        sjl.SynapseFilter(tau=3.0),
        sjl.Linear(8, 3),
    )
    sjf.set_step_mode(net, "m")
    for m in (net[1].sub_module, net[3].sub_module):
        m.step_mode = "s"                               # SJ's containers drive their sub-module step by step
    with torch.no_grad():
        net[0].weight.uniform_(0.0, 0.5)
        net[2].w.fill_(0.4)
    x = torch.rand(6, 2, 6, dtype=torch.float64) * 2
    ours, want = _check_same(net, x)
    assert isinstance(ours[1], layer.LinearRecurrentContainer) and isinstance(ours[2], layer.SynapseFilter)
    assert set(ours.state_dict()) == set(net.state_dict())


def test_the_examples_own_net_classes_convert(monkeypatch):
    _stand_in_for_data_tools(monkeypatch)
    pytest.importorskip("matplotlib")
    conv_fmnist = pytest.importorskip("spikingjelly.activation_based.examples.conv_fashion_mnist")
    rsnn = pytest.importorskip("spikingjelly.activation_based.examples.rsnn_sequential_fmnist")
    torch.manual_seed(7)
    net = conv_fmnist.CSNN(T=3, channels=4)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.fill_(3.0)
                m.bias.fill_(0.5)
            if isinstance(m, nn.Linear):
                m.weight.abs_().mul_(6.0)
    ours, want = _check_same(net, torch.rand(2, 1, 28, 28, dtype=torch.float64))
    assert type(ours) is conv_fmnist.CSNN and ours.T == 3 and want.abs().sum() > 0
    plain = rsnn.PlainNet()
    sjf.set_step_mode(plain, "m")
    ours, want = _check_same(plain, torch.rand(12, 2, 28, dtype=torch.float64) * 3)
    assert type(ours) is rsnn.PlainNet and want.abs().sum() > 0
