"""Hand-computed membrane traces (float64) for every neuron and both reset modes."""

import pytest
import torch

from spikesmith import neuron

D = torch.float64


def run(node, xs):
    node.step_mode = "m"
    node.store_v_seq = True
    x = torch.tensor(xs, dtype=D).reshape(-1, 1)
    s = node(x)
    return s.flatten().tolist(), node.v_seq.flatten().tolist()


def close(a, b):
    return a == pytest.approx(b, abs=1e-12)


def test_if_hard_reset():
    s, v = run(neuron.IFNode(), [0.6, 0.6, 0.6, 0.3, 1.2])
    assert s == [0, 1, 0, 0, 1]
    assert close(v, [0.6, 0.0, 0.6, 0.9, 0.0])


def test_if_soft_reset():
    s, v = run(neuron.IFNode(v_reset=None), [0.6, 0.6, 0.6, 0.3, 1.2])
    assert s == [0, 1, 0, 1, 1]
    assert close(v, [0.6, 0.2, 0.8, 0.1, 0.3])


def test_lif_hard_reset_decay_input():
    # H1 = 0.75, H2 = 0.75 + (1.5 - 0.75)/2 = 1.125 -> spike, V = 0; repeat.
    s, v = run(neuron.LIFNode(tau=2.0), [1.5] * 5)
    assert s == [0, 1, 0, 1, 0]
    assert close(v, [0.75, 0.0, 0.75, 0.0, 0.75])


def test_lif_soft_reset():
    s, v = run(neuron.LIFNode(tau=2.0, v_reset=None), [1.5] * 5)
    assert s == [0, 1, 0, 1, 0]
    assert close(v, [0.75, 0.125, 0.8125, 0.15625, 0.828125])


def test_lif_no_decay_input():
    # H = V - V/2 + X with X = 0.6: 0.6, 0.9, 1.05 -> spike, 0.6, 0.9
    s, v = run(neuron.LIFNode(tau=2.0, decay_input=False), [0.6] * 5)
    assert s == [0, 0, 1, 0, 0]
    assert close(v, [0.6, 0.9, 0.0, 0.6, 0.9])


def test_lif_nonzero_reset_and_tie_fires():
    # V0 = V_reset = -0.5; H1 = -0.5 + (2 - 0)/2 = 0.5; H2 = 0.5 + (2 - 1)/2 = 1.0 == V_th -> spike.
    s, v = run(neuron.LIFNode(tau=2.0, v_reset=-0.5), [2.0] * 5)
    assert s == [0, 1, 0, 1, 0]
    assert close(v, [0.5, -0.5, 0.5, -0.5, 0.5])


def test_plif_initial_tau_matches_lif():
    s, v = run(neuron.ParametricLIFNode(init_tau=2.0).double(), [1.5] * 5)
    assert s == [0, 1, 0, 1, 0]
    assert close(v, [0.75, 0.0, 0.75, 0.0, 0.75])


def test_alif_hard_reset():
    # tau = tau_adapt = 2, beta = 0.5: thresholds 1, 1, 1.5, 1.25, 1.125
    node = neuron.AdaptiveLIFNode(tau=2.0, tau_adapt=2.0, beta=0.5)
    s, v = run(node, [1.5] * 5)
    assert s == [0, 1, 0, 0, 1]
    assert close(v, [0.75, 0.0, 0.75, 1.125, 0.0])
    assert close(node.a.flatten().tolist(), [1.125])


def test_alif_soft_reset_subtracts_effective_threshold():
    node = neuron.AdaptiveLIFNode(tau=2.0, tau_adapt=2.0, beta=0.5, v_reset=None)
    s, v = run(node, [1.5] * 5)
    assert s == [0, 1, 0, 0, 1]
    assert close(v, [0.75, 0.125, 0.8125, 1.15625, 1.328125 - 1.125])


def izhikevich_reference(xs, a=0.02, b=0.2, c=-65.0, d=8.0, dt=1.0, v_peak=30.0):
    v, u, spikes, vs = c, b * c, [], []
    for x in xs:
        h = v + dt * (0.04 * v * v + 5 * v + 140 - u + x)
        u = u + dt * a * (b * v - u)
        if h >= v_peak:
            spikes.append(1)
            v, u = c, u + d
        else:
            spikes.append(0)
            v = h
        vs.append(v)
    return spikes, vs, u


def test_izhikevich_by_hand():
    # Step 1: v = -65 + (169 - 325 + 140 + 13 + 100) = 32 >= 30 -> spike, v = c = -65, u = -13 + 8 = -5.
    # Step 2: v = -65 + (169 - 325 + 140 + 5 + 100) = 24, no spike; u = -5 + 0.02 (-13 + 5) = -5.16.
    # Step 3: v = 24 + (23.04 + 120 + 140 + 5.16 + 100) = 412.2 -> spike.
    node = neuron.IzhikevichNode(dt=1.0)
    xs = [100.0, 100.0, 100.0, 0.0, 0.0]
    s, v = run(node, xs)
    ref_s, ref_v, ref_u = izhikevich_reference(xs)
    assert s[:3] == [1, 0, 1] and s == ref_s
    assert close(v[:3], [-65.0, 24.0, -65.0])
    assert close(v, ref_v)
    assert float(node.u.flatten()[0]) == pytest.approx(ref_u, abs=1e-12)


def test_izhikevich_first_step_recovery_by_hand():
    node = neuron.IzhikevichNode(dt=1.0)
    run(node, [100.0, 100.0])
    assert float(node.u.flatten()[0]) == pytest.approx(-5.16, abs=1e-12)


def test_nonspiking_lif_outputs_membrane():
    node = neuron.NonSpikingLIFNode(tau=2.0, step_mode="m")
    out = node(torch.ones(5, 1, dtype=D)).flatten().tolist()
    assert close(out, [0.5, 0.75, 0.875, 0.9375, 0.96875])


def test_integrator_outputs_sum():
    node = neuron.IntegratorNode(step_mode="m")
    out = node(torch.tensor([1.0, 2.0, -1.0, 0.5, 0.0], dtype=D).reshape(5, 1)).flatten().tolist()
    assert close(out, [1.0, 3.0, 2.0, 2.5, 2.5])
