"""torch.compile(fullgraph=True) over networks of fused neurons (issue 20): no graph break in the
CSNN's forward (``torch._dynamo.explain``), and compiled training steps and inference equal to eager.

Most tests compile with ``backend='aot_eager'`` (Dynamo + AOTAutograd, the joint forward/backward
graph, no C++ code generation); one compiles with inductor on a tiny network, which builds C++ with
the machine's compiler (``inductor`` in its name: about 20 s on a quiet core)."""

import copy

import pytest
import torch

from spikesmith import functional, layer, neuron, reset_check
from spikesmith.models.csnn import CSNN
from spikesmith.neuron import NEURONS

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(autouse=True)
def fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def _csnn(neuron_name="lif", channels=3, seed=0, scale_bn=1.0):
    torch.manual_seed(seed)
    net = CSNN(channels=channels, neuron=neuron_name)
    with torch.no_grad():           # strong enough weights that every spiking layer fires
        for m in net.modules():
            if isinstance(m, (torch.nn.Linear, torch.nn.BatchNorm2d)):
                m.weight.mul_(12 if isinstance(m, torch.nn.Linear) else scale_bn)
    return net


def _input(T=3, N=3, seed=1):
    g = torch.Generator().manual_seed(seed)
    return 4 * torch.rand(T, N, 1, 28, 28, generator=g), torch.arange(N) % 10


def loss_of(model, x, y):
    """A training step's forward and loss, reset included (what ``spikesmith train`` runs per batch)."""
    functional.reset_net(model)
    return torch.nn.functional.cross_entropy(model(x).mean(0), y)


def infer(model, x):
    functional.reset_net(model)
    return model(x)


def _spike_counts(net, x):
    counts = []
    hooks = [m.register_forward_hook(lambda m, i, o: counts.append(float(o.sum())))
             for m in net.modules() if isinstance(m, neuron.BaseNode)]
    with torch.no_grad():
        infer(net, x)
    for h in hooks:
        h.remove()
    return counts


def _explain(model, *args):
    return torch._dynamo.explain(model)(*args)


@pytest.mark.parametrize("neuron_name", list(NEURONS))
def test_the_csnn_forward_has_no_graph_break(neuron_name):
    net = _csnn(neuron_name, channels=2)
    x, _ = _input(T=2, N=2)
    net(x)                          # lazy parameters (adLIF) take their shape
    functional.reset_net(net)
    report = _explain(net, x)
    assert report.graph_break_count == 0, [r.reason for r in report.break_reasons]
    assert report.graph_count == 1
    ops = [str(op) for graph in report.ops_per_graph for op in graph]
    fused = sum("spikesmith.neuron_forward" in op for op in ops)
    assert fused == (3 if getattr(net[2], "_ran_backend", None) == "cpu" else 0)   # the PSN family has no kernel
    # a state carried on (no reset, detached) is traced too
    functional.detach_net(net)
    assert _explain(net, x).graph_break_count == 0


def test_a_whole_training_step_with_the_reset_has_no_graph_break():
    net = _csnn()
    x, y = _input()
    report = _explain(lambda x, y: loss_of(net, x, y), x, y)
    assert report.graph_break_count == 0, [r.reason for r in report.break_reasons]


@pytest.mark.parametrize("neuron_name", ["lif", "plif", "alif", "adlif"])
def test_a_compiled_training_step_equals_eager(neuron_name):
    eager = _csnn(neuron_name, scale_bn=6.0 if neuron_name == "adlif" else 1.0)   # adLIF takes (1 - alpha) X
    x, y = _input()
    infer(eager, x)                 # lazy parameters (adLIF) take their values before the copy
    assert all(c > 0 for c in _spike_counts(eager, x)), "every spiking layer must fire for the test to mean much"
    compiled = copy.deepcopy(eager)
    step = torch.compile(loss_of, fullgraph=True, backend="aot_eager")
    for _ in range(2):              # two steps: the second one reuses the compiled graph
        for net in (eager, compiled):
            net.zero_grad()
        loss_e = loss_of(eager, x, y)
        loss_e.backward()
        loss_c = step(compiled, x, y)
        loss_c.backward()
        torch.testing.assert_close(loss_c, loss_e, rtol=1e-6, atol=1e-7)
        for (name, p_e), p_c in zip(eager.named_parameters(), compiled.parameters()):
            torch.testing.assert_close(p_c.grad, p_e.grad, rtol=1e-5, atol=1e-7, msg=name)
        for (name, b_e), b_c in zip(eager.named_buffers(), compiled.buffers()):
            torch.testing.assert_close(b_c, b_e, msg=name)       # BatchNorm's running statistics
        assert any(p.grad.abs().sum() > 0 for p in compiled.parameters())


def test_compiled_inference_equals_eager_and_keeps_the_state():
    eager = _csnn(scale_bn=4.0)
    x, _ = _input()
    with torch.no_grad():
        for _ in range(20):         # BatchNorm's running statistics near the data's
            infer(eager, x)
    compiled = copy.deepcopy(eager)
    eager.eval()
    compiled.eval()
    run = torch.compile(infer, fullgraph=True, backend="aot_eager")
    with torch.no_grad():
        out_e, out_c = infer(eager, x), run(compiled, x)
    assert all(c > 0 for c in _spike_counts(eager, x))
    torch.testing.assert_close(out_c, out_e, rtol=1e-6, atol=1e-6)
    # the neurons' final state is set on the modules as in eager
    for m_e, m_c in zip(eager.modules(), compiled.modules()):
        if isinstance(m_e, neuron.BaseNode):
            torch.testing.assert_close(m_c.v, m_e.v)


def test_the_reset_check_still_watches_eager_calls():
    net = _csnn()
    x, _ = _input(T=2, N=2)
    torch.compile(infer, fullgraph=True, backend="aot_eager")(net, x)     # compiled: no check, no trail
    net(x)
    with pytest.warns(reset_check.ForgottenResetWarning, match="reset_net"):
        net(x)                      # eager, carried graph: the check still fires


def test_inductor_compiles_a_training_step_equal_to_eager():
    torch.manual_seed(0)
    eager = torch.nn.Sequential(layer.Linear(6, 8, step_mode="m"), neuron.LIFNode(step_mode="m"),
                                layer.Linear(8, 3, step_mode="m"))
    with torch.no_grad():
        eager[0].weight.mul_(4)
    compiled = copy.deepcopy(eager)
    x = torch.rand(3, 4, 6, generator=torch.Generator().manual_seed(2)) * 2
    y = torch.tensor([0, 1, 2, 1])
    loss_e = loss_of(eager, x, y)
    loss_e.backward()
    loss_c = torch.compile(loss_of, fullgraph=True)(compiled, x, y)
    loss_c.backward()
    assert eager[1]._ran_backend == "cpu"
    torch.testing.assert_close(loss_c, loss_e, rtol=1e-5, atol=1e-6)
    for p_e, p_c in zip(eager.parameters(), compiled.parameters()):
        torch.testing.assert_close(p_c.grad, p_e.grad, rtol=1e-4, atol=1e-6)
    assert eager[0].weight.grad.abs().sum() > 0
