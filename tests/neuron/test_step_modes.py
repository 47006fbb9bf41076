"""Single-step loop == multi-step call, exactly, on the torch backend (outputs, state, grads)."""

import torch

from spikesmith import functional, reset_check


def drive(node, x_seq, mode):
    node.step_mode = mode
    if mode == "m":
        out = node(x_seq)
    else:
        out = torch.stack([node(x) for x in x_seq.unbind(0)])
    return out


def scale_for(node):
    return 40.0 if type(node).__name__ == "IzhikevichNode" else 1.5


def test_single_step_loop_equals_multi_step(make_node):
    torch.manual_seed(0)
    x = torch.rand(6, 3, 4, dtype=torch.float64)
    results = []
    for mode in ("s", "m"):
        node = make_node().double()
        xin = (x * scale_for(node)).requires_grad_(True)
        out = drive(node, xin, mode)
        (out * torch.linspace(0.5, 1.5, out.numel(), dtype=out.dtype).view_as(out)).sum().backward()
        params = [p.grad.clone() for p in node.parameters() if p.grad is not None]
        state = [getattr(node, n).clone() for n in node.memory_names()]
        results.append((out.detach(), xin.grad, params, state))
    (o1, g1, p1, s1), (o2, g2, p2, s2) = results
    assert torch.equal(o1, o2)
    assert torch.equal(g1, g2)
    assert len(p1) == len(p2) and all(torch.equal(a, b) for a, b in zip(p1, p2))
    assert all(torch.equal(a, b) for a, b in zip(s1, s2))


def test_multi_step_in_chunks_equals_whole_sequence(make_node):
    torch.manual_seed(1)
    node = make_node().double()
    x = torch.rand(8, 2, 5, dtype=torch.float64) * scale_for(node)
    node.step_mode = "m"
    whole = node(x)
    functional.reset_net(node)
    with reset_check.continuing():      # the second chunk continues the sequence on purpose
        parts = torch.cat([node(x[:3]), node(x[3:])])
    assert torch.equal(whole, parts)
