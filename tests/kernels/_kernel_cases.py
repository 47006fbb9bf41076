"""Shared helpers of the kernel tests: neuron cases, surrogates, and running a node both ways."""

import torch

from spikesmith import neuron, reset_check, surrogate

SURROGATES = {
    "sigmoid": lambda: surrogate.Sigmoid(alpha=4.0),
    "atan": lambda: surrogate.ATan(alpha=2.0),
    "rectangle": lambda: surrogate.Rectangle(width=1.0),
    "triangle": lambda: surrogate.Triangle(width=1.5),
    "pwquadratic": lambda: surrogate.PiecewiseQuadratic(alpha=1.0),
    "exponential": lambda: surrogate.Exponential(alpha=2.0),
    "fastsigmoid": lambda: surrogate.FastSigmoid(slope=5.0),
    "dspike": lambda: surrogate.Dspike(b=3.0),
}

NEURONS = {
    "if_hard": lambda **kw: neuron.IFNode(**kw),
    "if_soft": lambda **kw: neuron.IFNode(v_reset=None, **kw),
    "lif_hard": lambda **kw: neuron.LIFNode(tau=2.0, **kw),
    "lif_hard_vr_ndi": lambda **kw: neuron.LIFNode(tau=1.5, v_reset=-0.2, decay_input=False, **kw),
    "lif_soft": lambda **kw: neuron.LIFNode(tau=3.0, v_reset=None, **kw),
    "lif_soft_ndi": lambda **kw: neuron.LIFNode(tau=3.0, v_reset=None, decay_input=False, **kw),
    "plif_hard": lambda **kw: neuron.ParametricLIFNode(init_tau=2.5, **kw),
    "plif_soft_ndi": lambda **kw: neuron.ParametricLIFNode(init_tau=2.0, v_reset=None, decay_input=False, **kw),
    "alif_hard": lambda **kw: neuron.AdaptiveLIFNode(tau=2.0, tau_adapt=5.0, beta=0.3, **kw),
    "alif_soft": lambda **kw: neuron.AdaptiveLIFNode(tau=2.0, tau_adapt=5.0, beta=0.3, v_reset=None, **kw),
    "adlif_soft": lambda **kw: neuron.AdLIFNode(alpha=0.82, beta=0.97, a=-0.5, b=0.3, **kw),
    "adlif_hard": lambda **kw: neuron.AdLIFNode(alpha=0.85, beta=0.97, a=-0.3, b=0.5, v_reset=0.0, **kw),
}

RTOL, ATOL = 1e-5, 1e-6


def make_input(shape, seed, scale=2.6, shift=-0.3):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=g) * scale + shift


def away_from_threshold(factory, x, margin=1e-3, tries=30):
    """Nudge ``x`` until the scan's charged potential stays ``margin`` away from V_th at every step.

    Checked with a step hook on the reference scan; ALIF's moving threshold is not visible to the
    hook, so ALIF inputs are returned as they are (its forward is the scan's bit for bit anyway).
    """
    node = factory()
    if isinstance(node, neuron.AdaptiveLIFNode):
        return x
    node.step_mode = "m"
    node.backend = "torch"
    close = []
    node.register_step_hook(lambda n, h, s: close.append((h - n.v_threshold).abs() < margin))
    x = x.clone()
    for _ in range(tries):
        close.clear()
        node.reset()
        with torch.no_grad():
            node(x)
        mask = torch.stack(close)
        if not mask.any():
            return x
        x = x + 4 * margin * mask
    raise AssertionError("could not move the input away from the threshold")


def run(node, x, backend, weights, steps=None):
    """Multi-step run (in pieces of ``steps`` steps, without reset, when given); a loss on the spikes
    and the final state; returns spikes, final state, input gradient, parameter gradients."""
    node.backend = backend
    node.step_mode = "m"
    xin = x.detach().clone().requires_grad_(True)
    pieces = [xin] if steps is None else list(xin.split(steps))
    with reset_check.continuing():       # the pieces are one sequence, carried on purpose
        spikes = torch.cat([node(p) for p in pieces])
    state = [getattr(node, n) for n in node.memory_names()]
    loss = (spikes * weights).sum() + sum((st * (0.3 + i)).sum() for i, st in enumerate(state))
    loss.backward()
    grads = {name: p.grad.detach().clone() for name, p in node.named_parameters() if p.grad is not None}
    return spikes.detach(), [st.detach() for st in state], xin.grad.detach(), grads


def assert_same(ref, got):
    s1, st1, gx1, gp1 = ref
    s2, st2, gx2, gp2 = got
    assert torch.equal(s1, s2), "spikes differ"
    assert len(st1) == len(st2)
    for a, b in zip(st1, st2):
        torch.testing.assert_close(b, a, rtol=RTOL, atol=ATOL)
    torch.testing.assert_close(gx2, gx1, rtol=RTOL, atol=ATOL)
    assert sorted(gp1) == sorted(gp2)
    for name in gp1:
        torch.testing.assert_close(gp2[name], gp1[name], rtol=RTOL, atol=ATOL)
