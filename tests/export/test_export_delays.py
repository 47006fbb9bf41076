"""NIR export of delays: a per-channel Delay is one nir.Delay; synapses with a delay each are decomposed into
one Linear per distinct delay followed by a Delay, summed; both read back by from_nir with equal outputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from spikesmith import functional, layer, neuron
from spikesmith.export import check
from spikesmith.models import build_model, model_options, ModelInput

nir = pytest.importorskip("nir")
from spikesmith.export.nirgraph import from_nir, to_nir, write_nir  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")
DT = 1e-3


def run(net, x):
    functional.reset_net(net)
    with torch.no_grad():
        y = net(x)
    functional.reset_net(net)
    return y


def delayed_net(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    syn = layer.LearnableDelay(5, 6, max_delay=4, step_mode="m")
    with torch.no_grad():
        syn.weight.mul_(4.0)                        # strong enough that the neurons fire
    return nn.Sequential(syn, neuron.LIFNode(step_mode="m"), layer.Delay(torch.tensor([0, 1, 2, 3, 1, 0]), step_mode="m"),
                         layer.Linear(6, 3, step_mode="m"), neuron.IntegratorNode(step_mode="m")).eval()


def test_per_channel_delay_is_one_elementwise_nir_delay():
    net = nn.Sequential(layer.Linear(3, 4, step_mode="m"), layer.Delay(torch.tensor([0, 2, 1, 3]), step_mode="m"),
                        neuron.LIFNode(step_mode="m"))
    graph = to_nir(net, torch.zeros(6, 1, 3), dt=DT)
    node = graph.nodes["layer_1"]
    assert isinstance(node, nir.Delay)
    assert np.allclose(node.delay, np.array([0, 2, 1, 3]) * DT)


def test_per_synapse_delays_are_decomposed_into_one_linear_per_distinct_delay():
    net = delayed_net()
    syn = net[0]
    delays = syn.integer_delays()
    graph = to_nir(net, torch.zeros(8, 1, 5), dt=DT)
    sub = graph.nodes["layer_0"]
    assert isinstance(sub, nir.NIRGraph)
    for d in torch.unique(delays).tolist():
        w = sub.nodes[f"w{d}"].weight
        assert np.allclose(w, (syn.weight * (delays == d)).detach().numpy())
        if d:
            assert np.allclose(sub.nodes[f"delay{d}"].delay, d * DT)
            assert (f"w{d}", f"delay{d}") in sub.edges and (f"delay{d}", "output") in sub.edges
        else:
            assert (f"w{d}", "output") in sub.edges
    biased = [k for k, n in sub.nodes.items() if isinstance(n, nir.Affine)]
    assert biased == ["w0"]                          # the bias rides on the undelayed branch only


def test_nir_round_trip_of_a_delayed_network_gives_equal_outputs(tmp_path):
    net = delayed_net()
    x = (torch.rand(12, 3, 5, generator=torch.Generator().manual_seed(1)) < 0.4).float()
    expected = run(net, x)
    assert expected.abs().sum() > 0
    path = write_nir(to_nir(net, x, dt=DT), tmp_path / "delayed.nir")
    back = from_nir(path)
    kinds = [type(m) for m in back]
    assert kinds[0] is layer.DelayedLinear and layer.Delay in kinds
    assert torch.equal(back[0].delays, net[0].integer_delays())
    assert torch.equal(run(back, x), expected)
    hidden = nn.Sequential(*list(net)[:3])           # the spikes after both delays, exactly
    assert torch.equal(run(nn.Sequential(*list(back)[:3]), x), run(hidden, x))


def test_fcsnn_with_learnable_delays_exports_and_reads_back():
    data = ModelInput((30, 6), 4, temporal=True)
    net = build_model("fcsnn", **model_options("fcsnn", {"hidden": 7, "delays": "learnable",
                                                         "max_delay": 6}).arguments(data)).eval()
    with torch.no_grad():
        net[1].weight.mul_(6.0)                      # strong enough that the hidden neurons fire
    x = (torch.rand(30, 2, 6, generator=torch.Generator().manual_seed(2)) < 0.5).float()
    expected = run(net, x)
    assert expected.abs().sum() > 0
    back = from_nir(to_nir(net, x, dt=DT))
    assert torch.allclose(run(back, x), expected, atol=1e-6)


def test_loihi_refuses_delays_by_name():
    issues = check(delayed_net(), "loihi2", (5,))
    named = [i for i in issues if "delays" in i.problem]
    assert {i.layer.split(" ")[0] for i in named} == {"LearnableDelay", "Delay"}
    assert all("export to NIR" in i.fix for i in named)


def test_from_nir_refuses_delays_that_are_not_whole_steps():
    graph = nir.NIRGraph(nodes={"input": nir.Input(input_type={"input": np.array([2])}),
                                "d": nir.Delay(delay=np.array([1.5e-3, 0.0])),
                                "output": nir.Output(output_type={"output": np.array([2])})},
                         edges=[("input", "d"), ("d", "output")])
    with pytest.raises(ValueError, match=r"NIR node 'd': a Delay of 0.5 steps off a whole number of steps"):
        from_nir(graph, dt=DT)
    graph.nodes["d"] = nir.Delay(delay=np.array([2e-3, 0.0]))
    net = from_nir(graph, dt=DT)
    assert torch.equal(net[0].delays, torch.tensor([2, 0]))


def test_from_nir_refuses_a_synapse_in_two_delayed_branches():
    w = np.ones((2, 2), dtype=np.float32)
    sub = nir.NIRGraph(nodes={"input": nir.Input(input_type={"input": np.array([2])}), "a": nir.Linear(weight=w),
                              "b": nir.Linear(weight=w), "db": nir.Delay(delay=np.full(2, 2e-3)),
                              "output": nir.Output(output_type={"output": np.array([2])})},
                       edges=[("input", "a"), ("a", "output"), ("input", "b"), ("b", "db"), ("db", "output")],
                       type_check=False)
    graph = nir.NIRGraph(nodes={"input": nir.Input(input_type={"input": np.array([2])}), "syn": sub,
                                "output": nir.Output(output_type={"output": np.array([2])})},
                         edges=[("input", "syn"), ("syn", "output")], type_check=False)
    with pytest.raises(ValueError, match=r"NIR node 'syn': a synapse carries weights in two delayed branches"):
        from_nir(graph, dt=DT)
