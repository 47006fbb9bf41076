"""spikesmith.compat.spikingjelly runs SpikingJelly 2.0 code with SpikingJelly's outputs.

Each program below is a small equivalent, in our own words, of a SpikingJelly example or tutorial
block. It is written once against a namespace of modules and run three times: on the real SpikingJelly,
through the import switch (``spikesmith.compat.spikingjelly.``) and through the alias
(``install_spikingjelly_alias()`` and plain ``spikingjelly`` imports), with the same weights (copied with
``state_dict``) and the same inputs and random numbers. Skipped where SpikingJelly is not installed.
"""

from __future__ import annotations

import importlib
import sys
import types
import warnings

import pytest
import torch
from torch import nn

pytest.importorskip("spikingjelly.activation_based")

import spikesmith.compat as compat  # noqa: E402
from spikesmith.compat.spikingjelly import SpikingJellyBackendNotice, _backend  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")

SUBMODULES = ("neuron", "layer", "functional", "surrogate", "monitor", "encoding", "base")


def _namespace(root: str) -> types.SimpleNamespace:
    return types.SimpleNamespace(**{m: importlib.import_module(f"{root}.activation_based.{m}") for m in SUBMODULES})


REAL = _namespace("spikingjelly")


def _run_everywhere(program, *args):
    """``program(ns, *args)`` on SpikingJelly, through the import switch and through the alias."""
    real = program(REAL, *args)
    switched = program(_namespace("spikesmith.compat.spikingjelly"), *args)
    compat.install_spikingjelly_alias()
    try:
        aliased_ns = _namespace("spikingjelly")
        assert aliased_ns.neuron.__name__ == "spikesmith.compat.spikingjelly.activation_based.neuron"
        aliased = program(aliased_ns, *args)
    finally:
        compat.uninstall_spikingjelly_alias()
    return real, switched, aliased


def _assert_all_close(results, atol=1e-6):
    real, *ours = results
    for got in ours:
        assert type(got) is type(real)
        pairs = zip(got, real) if isinstance(real, (tuple, list)) else [(got, real)]
        for g, r in pairs:
            torch.testing.assert_close(g, r, rtol=0, atol=atol)


def _copy_from(net: nn.Module, seed: int) -> None:
    """Deterministic weights: the same for every namespace's copy of a network."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.rand(p.shape, generator=gen, dtype=p.dtype) * 0.8 - 0.2)


# ----------------------------------------------------------------- the programs
def neuron_tutorial(ns):
    """Neurons of the 'neuron' tutorial: IF single step over a loop, LIF multi-step with v_seq, soft reset."""
    x = torch.rand(12, 3, 5, generator=torch.Generator().manual_seed(1)) * 1.5
    if_node = ns.neuron.IFNode()
    single = torch.stack([if_node(x_t) for x_t in x])
    v_after = if_node.v.clone()
    ns.functional.reset_net(if_node)
    lif = ns.neuron.LIFNode(tau=3.0, step_mode="m", store_v_seq=True)
    spikes = lif(x)
    soft = ns.neuron.LIFNode(tau=2.0, v_reset=None, decay_input=False, step_mode="m")
    recorded = ns.neuron.IFNode(v_threshold=0.8, store_v_seq=True)
    for x_t in x:
        recorded(x_t)                                   # 2.0 keeps v_seq in single-step mode too
    return single, v_after, spikes, lif.v_seq, soft(x), soft.v, recorded.v_seq


def csnn_training_step(ns):
    """conv_fashion_mnist: conv-BN-IF-pool twice, then linear-IF, multi-step, ATan; one SGD step."""
    torch.manual_seed(0)
    L, N, S = ns.layer, ns.neuron, ns.surrogate
    net = nn.Sequential(
        L.Conv2d(1, 4, 3, padding=1, bias=False), L.BatchNorm2d(4), N.IFNode(surrogate_function=S.ATan()),
        L.MaxPool2d(2),
        L.Conv2d(4, 4, 3, padding=1, bias=False), L.BatchNorm2d(4), N.IFNode(surrogate_function=S.ATan()),
        L.MaxPool2d(2), L.Flatten(), L.Linear(4 * 2 * 2, 10, bias=False), N.IFNode(surrogate_function=S.ATan()),
    )
    _copy_from(net, 3)
    ns.functional.set_step_mode(net, "m")
    img = torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(4))
    x_seq = img.unsqueeze(0).repeat(4, 1, 1, 1, 1)
    out = net(x_seq).mean(0)
    loss = nn.functional.mse_loss(out, torch.eye(10)[[3, 7]])
    loss.backward()
    grads = [p.grad.clone() for p in net.parameters()]
    with torch.no_grad():
        for p in net.parameters():
            p -= 0.5 * p.grad
    ns.functional.reset_net(net)
    return out.detach(), torch.stack([g.flatten()[:4] for g in grads if g.numel() >= 4]), net(x_seq).detach()


def lif_fc_mnist(ns):
    """lif_fc_mnist: Poisson-encoded input, Flatten-Linear-LIF stepped T times in single-step mode."""
    L, N, S = ns.layer, ns.neuron, ns.surrogate
    net = nn.Sequential(L.Flatten(), L.Linear(16, 6, bias=False), N.LIFNode(tau=2.0, surrogate_function=S.ATan()))
    _copy_from(net, 5)
    encoder = ns.encoding.PoissonEncoder()
    img = torch.rand(3, 1, 4, 4, generator=torch.Generator().manual_seed(6)) * 1.2 - 0.1   # some out of [0, 1]
    torch.manual_seed(7)
    encoded, outs = [], []
    for _ in range(8):
        s = encoder(img)
        encoded.append(s)
        outs.append(net(s))
    rate = torch.stack(outs).mean(0)
    rate.sum().backward()
    return torch.stack(encoded), rate.detach(), net[1].weight.grad.clone()


def custom_neurons(ns):
    """The custom-neuron tutorial: a SimpleBaseNode subclass with neuronal_charge(self, x), SimpleLIFNode."""

    class QuadraticIF(ns.neuron.SimpleBaseNode):
        def neuronal_charge(self, x):
            self.v = self.v + (x + 0.4 * self.v * (self.v - 0.6)) / 2.0

    class HalfLeak(ns.neuron.BaseNode):                  # SpikingJelly 2.0's functional form
        def single_step_functional_forward(self, inputs, states, **kwargs):
            h = states[0] * 0.5 + inputs[0]
            spike = self.surrogate_function(h - self.v_threshold)
            return (spike,), (h * (1.0 - spike),) + tuple(states[1:])

    x = torch.rand(10, 2, 4, generator=torch.Generator().manual_seed(8), requires_grad=True)
    qif = QuadraticIF(surrogate_function=ns.surrogate.Sigmoid(alpha=3.0), step_mode="m")
    s1 = qif(x)
    half = HalfLeak(step_mode="m")
    s1 = s1 + 2.0 * half(x * 1.5)
    lif = ns.neuron.SimpleLIFNode(2.5, False, v_reset=-0.1, step_mode="m")
    s2 = lif(x)
    (s1.sum() + s2.sum()).backward()
    return s1.detach(), qif.v.detach(), half.v.detach(), s2.detach(), x.grad.clone()


def forward_helpers(ns):
    """functional.multi_step_forward / seq_to_ann_forward with a module list; MaxPool + MaxUnpool."""
    F = ns.functional
    torch.manual_seed(9)
    lin = nn.Linear(5, 4)
    _copy_from(lin, 9)
    x = torch.rand(6, 2, 5, generator=torch.Generator().manual_seed(10)) * 2
    stepped = F.multi_step_forward(x, [lin, ns.neuron.IFNode()])
    folded = F.seq_to_ann_forward(x, [lin, nn.ReLU()])
    pool = ns.layer.MaxPool2d(2, return_indices=True, step_mode="m")
    unpool = ns.layer.MaxUnpool2d(2, step_mode="m")
    img = torch.rand(3, 2, 1, 4, 4, generator=torch.Generator().manual_seed(11))
    y, idx = pool(img)
    up = ns.layer.Upsample(scale_factor=2, step_mode="m")
    deconv = ns.layer.ConvTranspose2d(1, 2, 2, stride=2, step_mode="m")
    _copy_from(deconv, 28)
    return stepped, folded, unpool(y, idx), up(y), deconv(y).detach()


def recurrent_layers(ns):
    """The recurrent-connection tutorial: element-wise and linear recurrence, SynapseFilter."""
    L, N = ns.layer, ns.neuron
    x = torch.rand(8, 2, 3, generator=torch.Generator().manual_seed(12)) * 1.2
    ew = L.ElementWiseRecurrentContainer(N.IFNode(), element_wise_function=lambda y, x: x + 0.5 * y, step_mode="m")
    lin = L.LinearRecurrentContainer(N.IFNode(), in_features=3, out_features=3, step_mode="m")
    _copy_from(lin, 13)
    syn = L.SynapseFilter(tau=4.0, learnable=True, step_mode="m")
    spikes = (x > 0.6).float()
    currents = syn(spikes)
    currents.sum().backward()
    single = L.SynapseFilter(tau=3.0)
    stepped = torch.stack([single(s) for s in spikes])
    delay = L.Delay(3, step_mode="m")
    delayed = delay(x)
    single_delay = L.Delay(2)
    return (ew(x), lin(x).detach(), currents.detach(), syn.w.grad.clone(), stepped, delayed,
            torch.stack([single_delay(x_t) for x_t in x]), L.Delay(0, step_mode="m")(x))


def monitors(ns):
    """The monitor tutorial: outputs of IF neurons, the membrane before each call, input gradients."""
    L, N = ns.layer, ns.neuron
    net = nn.Sequential(L.Linear(4, 5), N.IFNode(), L.Linear(5, 3), N.IFNode())
    _copy_from(net, 14)
    ns.functional.set_step_mode(net, "m")
    outputs = ns.monitor.OutputMonitor(net, N.IFNode)
    v_before = ns.monitor.AttributeMonitor("v", True, net, N.IFNode)
    grads = ns.monitor.GradInputMonitor(net, N.IFNode)
    x = torch.rand(5, 2, 4, generator=torch.Generator().manual_seed(15)) * 2
    net(x).sum().backward()
    ns.functional.reset_net(net)
    net(x)
    assert outputs.monitored_layers == ["1", "3"]
    result = (outputs[0], outputs[1], outputs["3"][1], grads[0].detach(), torch.as_tensor(v_before[2]))
    for mon in (outputs, v_before, grads):
        mon.remove_hooks()
    return result


def surrogate_functions(ns):
    """surrogate.sigmoid.apply / atan.apply and the classes: spikes and gradients."""
    S = ns.surrogate
    x = torch.linspace(-1.0, 1.0, 21, dtype=torch.float64, requires_grad=True)
    out = S.sigmoid.apply(x, 4.0) * 1.0 + S.atan.apply(x, 2.0) * 2.0 + S.rect.apply(x, 1.5) * 3.0
    for k, sg in enumerate((S.PiecewiseQuadratic(), S.PiecewiseExp(alpha=2.0), S.SoftSign(), S.Erf(),
                            S.SuperSpike(alpha=1.5)), start=4):
        out = out + sg(x) * k
    out.sum().backward()
    primitive = S.Sigmoid(spiking=False)(x.detach()) + S.ATan(spiking=False)(x.detach())
    return out.detach(), x.grad.clone(), primitive


class _TriangleSpike(torch.autograd.Function):
    """A user's own spike function (Heaviside forward, triangle backward), as SpikingJelly users write one."""

    @staticmethod
    def forward(ctx, x, width):
        ctx.save_for_backward(x)
        ctx.width = width
        return (x >= 0).to(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (1.0 - x.abs() / ctx.width).clamp(min=0.0) / ctx.width, None


def user_surrogate(ns):
    """A surrogate written the SpikingJelly way: SurrogateFunctionBase with static spiking/primitive functions."""

    class Triangle(ns.surrogate.SurrogateFunctionBase):
        def __init__(self, width=0.5, spiking=True):
            super().__init__(spiking=spiking, width=width)

        @staticmethod
        def spiking_function(x, width):
            return _TriangleSpike.apply(x, width)

        @staticmethod
        def primitive_function(x, width):
            return (x / width + 0.5).clamp(0.0, 1.0)

    x = torch.rand(6, 2, 3, generator=torch.Generator().manual_seed(27), requires_grad=True)
    node = ns.neuron.LIFNode(surrogate_function=Triangle(width=0.8), step_mode="m")
    s = node(x * 2)
    s.sum().backward()
    return s.detach(), x.grad.clone(), Triangle(spiking=False)(x.detach() - 0.5)


def plif_checkpoint(ns):
    """parametric_lif_net: PLIF layers; a state_dict from SpikingJelly loads strict, same outputs."""
    L, N = ns.layer, ns.neuron
    net = nn.Sequential(L.Linear(6, 5), N.ParametricLIFNode(init_tau=2.0, detach_reset=True), L.Linear(5, 2),
                        N.ParametricLIFNode(init_tau=3.0, v_reset=None))
    net.load_state_dict(PLIF_STATE, strict=True)
    ns.functional.set_step_mode(net, "m")
    x = torch.rand(6, 2, 6, generator=torch.Generator().manual_seed(16)) * 8
    out = net(x)
    out.sum().backward()
    return out.detach(), net[1].w.grad.clone(), net[3].w.grad.clone()


def _plif_state():
    net = nn.Sequential(REAL.layer.Linear(6, 5), REAL.neuron.ParametricLIFNode(init_tau=2.0), REAL.layer.Linear(5, 2),
                        REAL.neuron.ParametricLIFNode(init_tau=3.0, v_reset=None))
    _copy_from(net, 17)
    with torch.no_grad():
        net[1].w.fill_(0.4)
        net[3].w.fill_(-0.7)
        net[2].weight.mul_(3.0)
    return net.state_dict()


PLIF_STATE = _plif_state()


def tutorial_v_reset_5(ns):
    """The neuron tutorial's IF with v_reset=5 (above the threshold): SpikingJelly accepts it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        node = ns.neuron.IFNode(v_reset=5.0, step_mode="m")
    x = torch.rand(6, 3, generator=torch.Generator().manual_seed(18))
    return node(x), node.v


def memory_modules(ns):
    """base.MemoryModule subclasses: register_memory with single_step_forward, and the functional form."""

    class Accumulate(ns.base.MemoryModule):
        def __init__(self):
            super().__init__()
            self.register_memory("total", 0.0)

        def single_step_forward(self, x):
            self.total = self.total + x
            return self.total

    class LeakyTrace(ns.base.MemoryModule):
        def __init__(self, step_mode="s"):
            super().__init__()
            self.step_mode = step_mode
            self.register_memory("trace", 0.0)

        def single_step_functional_forward(self, inputs, states, **kwargs):
            trace = states[0] * 0.5 + inputs[0]
            return (trace,), (trace,)

    x = torch.rand(5, 2, 3, generator=torch.Generator().manual_seed(24))
    acc = Accumulate()
    summed = torch.stack([acc(x_t) for x_t in x])
    trace = LeakyTrace(step_mode="m")
    traced = trace(x)
    last = trace.trace.clone()
    ns.functional.reset_net(nn.Sequential(acc, trace))
    return summed, traced, last, torch.tensor([float(acc.total), float(trace.trace)])


def spiking_dqn_readout(ns):
    """spiking_dqn_state / spiking_a2c: a SimpleLIFNode subclass whose single_step_forward returns V (the
    readout), fed T times by Linear-IF-Linear; Q-values = the readout's V; one backward."""

    class Readout(ns.neuron.SimpleLIFNode):
        def single_step_forward(self, x):
            self.neuronal_charge(x)
            return self.v

    net = nn.Sequential(ns.layer.Linear(4, 8), ns.neuron.IFNode(), ns.layer.Linear(8, 2),
                        Readout(tau=2.0, decay_input=True))
    _copy_from(net, 25)
    state = torch.rand(3, 4, generator=torch.Generator().manual_seed(26)) * 2
    for _ in range(6):
        net(state)
    q = net[-1].v
    q.max(1)[0].sum().backward()
    ns.functional.reset_net(net)
    return q.detach(), net[0].weight.grad.clone(), torch.tensor(float(net[-1].v))


@pytest.mark.parametrize("program", [user_surrogate, spiking_dqn_readout, memory_modules, neuron_tutorial, csnn_training_step, lif_fc_mnist, custom_neurons,
                                     forward_helpers, recurrent_layers, monitors, surrogate_functions,
                                     plif_checkpoint, tutorial_v_reset_5], ids=lambda p: p.__name__)
def test_program_matches_spikingjelly(program):
    results = _run_everywhere(program)
    _assert_all_close(results)
    real = results[0]
    first = real[0] if isinstance(real, tuple) else real
    assert first.abs().sum() > 0            # the programs do something (spikes, currents)


# ----------------------------------------------------------------- the old API
def test_clock_driven_spikformer_block_equals_activation_based():
    """Spikformer's MLP block on the old API (MultiStepLIFNode with backend='cupy', SeqToANNContainer of plain
    torch conv + BN) gives the outputs of its activation_based equivalent, on ours and on SpikingJelly."""
    from spikesmith.compat.spikingjelly.activation_based import functional, layer, neuron
    from spikesmith.compat.spikingjelly.clock_driven import functional as old_functional
    from spikesmith.compat.spikingjelly.clock_driven import layer as old_layer
    from spikesmith.compat.spikingjelly.clock_driven import neuron as old_neuron

    _backend._noticed.discard("cupy")
    with pytest.warns(SpikingJellyBackendNotice, match="backend='cupy' runs as spikesmith's backend='auto'"):
        old = nn.Sequential(
            old_layer.SeqToANNContainer(nn.Conv2d(3, 8, 1), nn.BatchNorm2d(8)),
            old_neuron.MultiStepLIFNode(tau=2.0, detach_reset=True, backend="cupy"),
            old_layer.SeqToANNContainer(nn.Conv2d(8, 3, 1), nn.BatchNorm2d(3)),
            old_neuron.MultiStepLIFNode(tau=2.0, detach_reset=True, backend="cupy"),
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error", SpikingJellyBackendNotice)          # the notice is shown once
        old_neuron.MultiStepLIFNode(backend="cupy")

    def new_block(L, N):
        net = nn.Sequential(L.Conv2d(3, 8, 1), L.BatchNorm2d(8), N.LIFNode(tau=2.0, detach_reset=True),
                            L.Conv2d(8, 3, 1), L.BatchNorm2d(3), N.LIFNode(tau=2.0, detach_reset=True))
        return net

    ours_new, real_new = new_block(layer, neuron), new_block(REAL.layer, REAL.neuron)
    _copy_from(old, 19)
    keys = {"0.0.weight": "0.weight", "0.0.bias": "0.bias", "0.1.weight": "1.weight", "0.1.bias": "1.bias",
            "0.1.running_mean": "1.running_mean", "0.1.running_var": "1.running_var",
            "0.1.num_batches_tracked": "1.num_batches_tracked", "2.0.weight": "3.weight", "2.0.bias": "3.bias",
            "2.1.weight": "4.weight", "2.1.bias": "4.bias", "2.1.running_mean": "4.running_mean",
            "2.1.running_var": "4.running_var", "2.1.num_batches_tracked": "4.num_batches_tracked"}
    state = {keys[k]: v for k, v in old.state_dict().items()}
    for net in (ours_new, real_new):
        net.load_state_dict(state, strict=True)
    functional.set_step_mode(ours_new, "m")
    REAL.functional.set_step_mode(real_new, "m")
    x = torch.rand(4, 2, 3, 5, 5, generator=torch.Generator().manual_seed(20)) * 3
    outs = []
    for net, reset in ((old, old_functional.reset_net), (ours_new, functional.reset_net),
                       (real_new, REAL.functional.reset_net)):
        net.train()
        y = net(x)                                 # training mode: batch statistics over T x N
        y.sum().backward()
        reset(net)
        outs.append((y.detach(), net[0][0].weight.grad if net is old else net[0].weight.grad))
    (old_y, old_g), (new_y, new_g), (real_y, real_g) = outs
    assert old_y.sum() > 0
    torch.testing.assert_close(old_y, new_y, rtol=0, atol=0)
    torch.testing.assert_close(old_y, real_y, rtol=0, atol=0)
    torch.testing.assert_close(old_g, new_g, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(old_g, real_g, rtol=1e-4, atol=1e-5)


def test_clock_driven_single_step_neurons_and_custom_base_node():
    """Old single-step neurons and an old-style custom neuron (BaseNode with neuronal_charge(self, x))."""
    from spikesmith.compat.spikingjelly.clock_driven import functional, neuron

    class HalfIF(neuron.BaseNode):
        def neuronal_charge(self, x):
            self.v = self.v + 0.5 * x

    class RealHalfIF(REAL.neuron.SimpleBaseNode):
        def neuronal_charge(self, x):
            self.v = self.v + 0.5 * x

    x = torch.rand(7, 2, 3, generator=torch.Generator().manual_seed(21)) * 3
    for ours, real in ((HalfIF(), RealHalfIF()), (neuron.LIFNode(tau=3.0), REAL.neuron.LIFNode(tau=3.0)),
                       (neuron.MultiStepIFNode(v_reset=None), REAL.neuron.IFNode(v_reset=None, step_mode="m"))):
        if ours.step_mode == "m":
            got, want = ours(x), real(x)
        else:
            got = torch.stack([ours(x_t) for x_t in x])
            want = torch.stack([real(x_t) for x_t in x])
        assert want.sum() > 0
        torch.testing.assert_close(got, want, rtol=0, atol=0)
        torch.testing.assert_close(ours.v, real.v, rtol=0, atol=1e-6)
        functional.reset_net(ours)
        assert not isinstance(ours.v, torch.Tensor)


# ----------------------------------------------------------------- the alias, notices, errors
def test_alias_replaces_spikingjelly_only_while_installed():
    import spikingjelly.activation_based.neuron as real_neuron

    assert not compat.spikingjelly.spikingjelly_alias_installed()
    compat.install_spikingjelly_alias()
    compat.install_spikingjelly_alias()                      # twice is harmless
    try:
        import spikingjelly.activation_based.neuron as aliased
        from spikingjelly.clock_driven import layer as old_layer
        from spikingjelly.clock_driven.neuron import MultiStepLIFNode

        assert aliased is importlib.import_module("spikesmith.compat.spikingjelly.activation_based.neuron")
        assert aliased.__spec__.name == "spikesmith.compat.spikingjelly.activation_based.neuron"
        assert old_layer.SeqToANNContainer is importlib.import_module("spikesmith.layer").SeqToANNContainer
        assert MultiStepLIFNode().step_mode == "m"
        with pytest.raises(ModuleNotFoundError, match="spikingjelly.datasets has no counterpart.*spikesmith.data"):
            importlib.import_module("spikingjelly.datasets")
    finally:
        compat.uninstall_spikingjelly_alias()
    assert importlib.import_module("spikingjelly.activation_based.neuron") is real_neuron
    assert sys.modules["spikingjelly.activation_based.neuron"] is real_neuron


def test_backend_mapped_neuron_equals_spikingjelly():
    from spikesmith.compat.spikingjelly.activation_based import neuron

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpikingJellyBackendNotice)
        node = neuron.LIFNode(step_mode="m", backend="cupy")
    x = torch.rand(5, 2, 3, generator=torch.Generator().manual_seed(23)) * 2
    torch.testing.assert_close(node(x), REAL.neuron.LIFNode(step_mode="m")(x), rtol=0, atol=0)


def test_visualizing_returns_spikingjelly_shaped_figures(tmp_path):
    """The visualizing tutorial: a spike raster with firing rates, a membrane heat map, one neuron's V and S."""
    pytest.importorskip("matplotlib")
    from spikesmith.compat.spikingjelly import visualizing

    node = REAL.neuron.IFNode(step_mode="m", store_v_seq=True)
    x = torch.rand(20, 6, generator=torch.Generator().manual_seed(22))
    s = node(x)
    fig, ax, ax_rate = visualizing.plot_1d_spikes(s.T, "IF spikes", "t", "neuron", figsize=(4, 3), dpi=50)
    assert len(ax.collections) == 6 and ax_rate.get_title() == "firing rate"
    fig.savefig(tmp_path / "spikes.png")
    fig, ax = visualizing.plot_2d_heatmap(node.v_seq.T, "v", "t", "neuron", figsize=(4, 3), dpi=50)
    assert ax.images[0].get_array().shape == (6, 20)
    fig, ax_v, ax_s = visualizing.plot_one_neuron_v_s(node.v_seq[:, 0], s[:, 0], figsize=(4, 3), dpi=50)
    assert len(ax_v.lines) == 3                               # V, the threshold and the reset
    fig.savefig(tmp_path / "v_s.png")
    assert (tmp_path / "spikes.png").stat().st_size > 0
    with pytest.raises(ImportError, match="plot_2d_bar_in_3d has no counterpart.*plot_2d_heatmap"):
        visualizing.plot_2d_bar_in_3d
