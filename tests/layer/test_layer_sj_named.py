"""SpikingJelly's SynapseFilter, recurrent containers and MaxUnpool in spikesmith.layer, checked by hand."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from spikesmith import functional, layer, neuron

pytestmark = pytest.mark.usefixtures("one_thread")


def test_synapse_filter_adds_a_spike_and_decays_without_one():
    syn = layer.SynapseFilter(tau=4.0, step_mode="m")
    s = torch.tensor([1.0, 0.0, 0.0, 1.0]).view(4, 1)
    # I: 1, 1 - 1/4 = 0.75, 0.5625, 0.5625 + 1
    torch.testing.assert_close(syn(s)[:, 0], torch.tensor([1.0, 0.75, 0.5625, 1.5625]))
    single = layer.SynapseFilter(tau=4.0)
    torch.testing.assert_close(torch.stack([single(t) for t in s]), syn.out_i.new_tensor([1.0, 0.75, 0.5625,
                                                                                        1.5625]).view(4, 1))
    functional.reset_net(syn)
    assert syn.out_i is None
    with pytest.raises(ValueError, match="differs from the current's shape.*reset_net"):
        single(torch.zeros(2))
    with pytest.raises(ValueError, match="tau must be a number > 1"):
        layer.SynapseFilter(tau=1.0)


def test_learnable_synapse_filter_learns_its_decay():
    syn = layer.SynapseFilter(tau=3.0, learnable=True, step_mode="m")
    assert math.isclose(float(syn.w.detach().sigmoid()), 1 / 3, rel_tol=1e-6)
    syn(torch.tensor([[1.0], [0.0]])).sum().backward()
    assert syn.w.grad is not None and syn.w.grad != 0
    assert "tau=3.0, learnable=True" in repr(syn)


def test_linear_recurrent_container_feeds_back_the_previous_output():
    rc = layer.LinearRecurrentContainer(nn.Identity(), in_features=1, out_features=1, bias=False, step_mode="m")
    with torch.no_grad():
        rc.rc.weight.copy_(torch.tensor([[1.0, 0.5]]))          # i[t] = x[t] + 0.5 y[t-1]
    y = rc(torch.ones(3, 1, 1))
    torch.testing.assert_close(y[:, 0, 0], torch.tensor([1.0, 1.5, 1.75]))
    with pytest.raises(ValueError, match="reset_net"):
        rc(torch.ones(3, 2, 1))
    functional.reset_net(rc)
    assert rc(torch.ones(3, 2, 1)).shape == (3, 2, 1)


def test_element_wise_recurrent_container_drives_its_neuron_step_by_step():
    net = layer.ElementWiseRecurrentContainer(neuron.IFNode(step_mode="m"), lambda y, x: x + y, step_mode="m")
    s = net(torch.full((3, 1), 0.6))                         # IF input: 0.6, 0.6 (+0) -> spike, 0.6 + 1
    torch.testing.assert_close(s[:, 0], torch.tensor([0.0, 1.0, 1.0]))
    assert net.sub_module.step_mode == "s"
    one = layer.ElementWiseRecurrentContainer(neuron.IFNode(), lambda y, x: x + y)
    torch.testing.assert_close(torch.stack([one(x) for x in torch.full((3, 1), 0.6)]), s)
    with pytest.raises(TypeError, match="element_wise_function must be callable"):
        layer.ElementWiseRecurrentContainer(neuron.IFNode(), None)


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_max_unpool_inverts_max_pool_in_both_step_modes(dims):
    pool = getattr(layer, f"MaxPool{dims}d")(2, return_indices=True, step_mode="m")
    unpool = getattr(layer, f"MaxUnpool{dims}d")(2, step_mode="m")
    x = torch.rand(3, 2, 1, *([4] * dims))
    y, index = pool(x)
    back = unpool(y, index)
    assert back.shape == x.shape
    torch.testing.assert_close(back.amax(), x.amax())
    single = getattr(layer, f"MaxUnpool{dims}d")(2)
    torch.testing.assert_close(single(y[1], index[1]), back[1])
    with pytest.raises(ValueError, match="expects indices of the input's shape"):
        unpool(y, index[:, :1])
