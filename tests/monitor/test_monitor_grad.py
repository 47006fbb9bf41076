"""GradOutputMonitor: dL/d(output) of each neuron layer, in forward order, in both step modes."""

from __future__ import annotations

import torch

from spikesmith import functional
from spikesmith.monitor import GradOutputMonitor, OutputMonitor

from monitor_net import T, build_net, run

LOSS_WEIGHTS = torch.tensor([1.0, -2.0, 3.0, 0.5, 1.5], dtype=torch.float64).view(T, 1, 1)


def test_grad_matches_autograd_multi_step(x_seq):
    net = build_net("m")
    mon = GradOutputMonitor(net)
    s1 = net[1](net[0](x_seq))
    s1.retain_grad()
    out = net[3](net[2](s1))
    (out * LOSS_WEIGHTS).sum().backward()
    assert len(mon["1"]) == len(mon["3"]) == 1
    assert mon["1"][0].shape == s1.shape == (T, 2, 2)
    assert torch.equal(mon["1"][0], s1.grad)
    assert s1.grad.abs().sum() > 0  # the surrogate lets something through
    assert torch.equal(mon["3"][0], LOSS_WEIGHTS.expand(T, 2, 1))


def test_single_step_grads_in_forward_order_equal_multi_step(x_seq):
    grads = {}
    for mode in ("m", "s"):
        net = build_net(mode)
        mon = GradOutputMonitor(net)
        (run(net, x_seq, mode) * LOSS_WEIGHTS).sum().backward()
        assert len(mon["1"]) == (1 if mode == "m" else T)
        grads[mode] = {n: mon.sequence(n) for n in ("1", "3")}
    for name in ("1", "3"):
        assert grads["s"][name].shape == grads["m"][name].shape
        assert torch.allclose(grads["s"][name], grads["m"][name], rtol=1e-12, atol=1e-12), name
    # the last layer's gradient is the loss weight of each step: forward order, not backward order
    assert torch.equal(grads["s"]["3"][:, 0, 0], LOSS_WEIGHTS.flatten())


def test_no_records_without_grad_or_when_disabled(net, x_seq, step_mode):
    mon = GradOutputMonitor(net)
    with torch.no_grad():
        run(net, x_seq, step_mode)
    assert mon.records == []
    functional.reset_net(net)
    out = run(net, x_seq, step_mode)
    mon.disable()
    out.sum().backward()  # graph built while enabled, backward after disable: nothing
    assert mon.records == []


def test_function_on_grad_output_and_to_cpu(x_seq):
    net = build_net("m")
    mon = GradOutputMonitor(net, function_on_grad_output=lambda g: g.abs().sum(), to_cpu=True)
    (net(x_seq) * LOSS_WEIGHTS).sum().backward()
    assert mon["3"][0].dim() == 0 and mon["3"][0].item() == 2 * LOSS_WEIGHTS.abs().sum().item()


def test_monitor_changes_neither_outputs_nor_parameter_grads(x_seq, step_mode):
    results = []
    for monitored in (False, True):
        net = build_net(step_mode)
        mon = GradOutputMonitor(net) if monitored else None
        out = run(net, x_seq, step_mode)
        (out * LOSS_WEIGHTS).sum().backward()
        results.append((out.detach(), net[0].weight.grad.clone(), net[2].weight.grad.clone()))
        if mon is not None:
            assert len(mon.records) > 0
    for plain, watched in zip(*results):
        assert torch.equal(plain, watched)


def test_in_place_ops_downstream_are_fine(x_seq):
    net = torch.nn.Sequential(build_net("m")[:2], torch.nn.ReLU(inplace=True), torch.nn.Linear(2, 1).double())
    mon, spikes = GradOutputMonitor(net), OutputMonitor(net)
    net(x_seq).sum().backward()  # ReLU writes into the IF output in place
    (grad,) = mon["0.1"]
    (s,) = spikes["0.1"]
    # d sum(w . relu(s)) / ds = w where s > 0 (ReLU's gradient at 0 is 0)
    assert torch.equal(grad, (s > 0) * net[2].weight.detach().view(1, 1, 2))
    assert s.sum() == 7
