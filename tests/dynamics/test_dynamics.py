"""The pure functions equal the modules built on them; scan stacks outputs in time order."""

import pytest
import torch

from spikesmith import dynamics, neuron, surrogate


def test_scan_collects_outputs_and_final_state():
    def step(x, state):
        total = state + x
        return (total, -total), total

    (a, b), final = dynamics.scan(step, torch.arange(1.0, 5.0).view(4, 1), torch.zeros(1))
    assert a.flatten().tolist() == [1, 3, 6, 10] and b.flatten().tolist() == [-1, -3, -6, -10]
    assert final.tolist() == [10.0]
    with pytest.raises(ValueError, match="at least one time step"):
        dynamics.scan(step, torch.zeros(0, 1), torch.zeros(1))


def test_pure_lif_step_equals_module():
    torch.manual_seed(0)
    x_seq = torch.rand(6, 3, 4, dtype=torch.float64) * 2
    sg = surrogate.Sigmoid()

    def step(x, v):
        h = dynamics.leaky_charge(x, v, 1 / 2.0, 0.0, True)
        s = dynamics.fire(h, 1.0, sg)
        return s, dynamics.reset(h, s, 1.0, 0.0)

    s_pure, _ = dynamics.scan(step, x_seq, torch.zeros(3, 4, dtype=torch.float64))
    node = neuron.LIFNode(step_mode="m")
    assert torch.equal(node(x_seq), s_pure)


def test_reset_variants():
    h = torch.tensor([0.5, 1.5])
    s = torch.tensor([0.0, 1.0])
    assert dynamics.reset(h, s, 1.0, 0.0).tolist() == [0.5, 0.0]
    assert dynamics.reset(h, s, 1.0, -0.2).tolist() == pytest.approx([0.5, -0.2])
    assert dynamics.reset(h, s, 1.0, None).tolist() == [0.5, 0.5]


def test_detach_reset_cuts_gradient_through_reset():
    h = torch.tensor([1.5], requires_grad=True)
    s = surrogate.Sigmoid()(h - 1.0)
    v = dynamics.reset(h, s, 1.0, None, detach_reset=True)
    (g,) = torch.autograd.grad(v.sum(), h)
    assert g.item() == 1.0  # only the identity path
    s = surrogate.Sigmoid()(h - 1.0)
    (g2,) = torch.autograd.grad(dynamics.reset(h, s, 1.0, None).sum(), h)
    assert g2.item() == pytest.approx(1.0 - surrogate.Sigmoid().derivative(torch.tensor(0.5)).item())


def test_charge_equations():
    x, v = torch.tensor([1.0]), torch.tensor([0.4])
    assert dynamics.if_charge(x, v).item() == pytest.approx(1.4)
    assert dynamics.leaky_charge(x, v, 0.5, 0.0, True).item() == pytest.approx(0.4 + (1.0 - 0.4) / 2)
    assert dynamics.leaky_charge(x, v, 0.5, 0.2, False).item() == pytest.approx(0.4 - 0.2 / 2 + 1.0)
    h, u = dynamics.izhikevich_charge(torch.tensor([0.0]), torch.tensor([-70.0]), torch.tensor([-14.0]), 0.02, 0.2, 1.0)
    assert h.item() == pytest.approx(-70 + 0.04 * 4900 - 350 + 140 + 14)
    assert u.item() == pytest.approx(-14 + 0.02 * (0.2 * -70 + 14))
