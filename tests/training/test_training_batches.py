"""Mini-batches from (seed, epoch), sharded by rank; the firing-rate meter; the single-process context."""

from __future__ import annotations

import torch
from torch import nn

from spikesmith import functional, layer
from spikesmith.neuron import IFNode, NonSpikingLIFNode
from spikesmith.training.batches import epoch_generator, iterate_batches, num_batches
from spikesmith.training.distributed import DistContext
from spikesmith.training.stats import FiringRateMeter

X = torch.arange(10, dtype=torch.float32).view(10, 1)
Y = torch.arange(10)


def _order(**kw):
    return torch.cat([y for _, y in iterate_batches(X, Y, 3, **kw)]).tolist()


def test_batches_cover_the_data_and_pair_inputs_with_targets():
    batches = list(iterate_batches(X, Y, 3, shuffle=True, seed=1, epoch=2))
    assert [len(y) for _, y in batches] == [3, 3, 3, 1] and num_batches(10, 3) == 4
    assert sorted(torch.cat([y for _, y in batches]).tolist()) == list(range(10))
    assert all(torch.equal(x.view(-1).long(), y) for x, y in batches)


def test_order_depends_only_on_seed_and_epoch():
    assert _order(shuffle=False) == list(range(10))
    a = _order(shuffle=True, seed=0, epoch=1)
    torch.manual_seed(123)                                           # the global RNG plays no part
    assert _order(shuffle=True, seed=0, epoch=1) == a
    assert _order(shuffle=True, seed=0, epoch=2) != a
    assert _order(shuffle=True, seed=1, epoch=1) != a
    assert epoch_generator(0, 1).initial_seed() != epoch_generator(0, 1, salt=1).initial_seed()


def test_ranks_get_disjoint_padded_shares():
    shares = [torch.cat([y for _, y in iterate_batches(X, Y, 2, shuffle=True, seed=3, epoch=0, rank=r, world_size=3)])
              for r in range(3)]
    assert [len(s) for s in shares] == [4, 4, 4]                     # 10 padded to 12 by wrapping
    together = torch.cat(shares).tolist()
    assert sorted(set(together)) == list(range(10)) and len(together) == 12
    assert num_batches(10, 2, world_size=3) == 2


def test_evaluation_shards_are_not_padded():
    shares = [torch.cat([y for _, y in iterate_batches(X, Y, 4, shuffle=False, rank=r, world_size=3, pad=False)])
              for r in range(3)]
    assert sorted(torch.cat(shares).tolist()) == list(range(10))
    assert [len(s) for s in shares] == [4, 3, 3]


def test_firing_rate_meter_by_hand():
    # IF neurons, threshold 1, hard reset to 0: input 1.0 fires every step, 0.5 every other step
    net = nn.Sequential(layer.Linear(2, 2, bias=False, step_mode="m"), IFNode(step_mode="m"),
                        NonSpikingLIFNode(step_mode="m"))
    with torch.no_grad():
        net[0].weight.copy_(torch.eye(2))
    meter = FiringRateMeter(net)
    x = torch.tensor([1.0, 0.5]).expand(4, 1, 2)                    # T = 4, N = 1
    net(x)
    # spikes: neuron 0 at every step (4), neuron 1 at steps 2 and 4 (2): 6 of 8
    assert meter.rates() == {"1": 0.75}                              # the non-spiking readout is not counted
    functional.reset_net(net)
    net(torch.zeros(4, 1, 2))
    assert meter.rates() == {"1": 6 / 16}                            # running over everything seen
    meter.clear()
    assert meter.rates() == {}
    meter.remove()
    functional.reset_net(net)
    net(x)
    assert meter.rates() == {}                                       # hooks removed


def test_firing_rate_meter_keeps_the_graph_when_asked():
    net = nn.Sequential(layer.Linear(2, 2, step_mode="m"), IFNode(step_mode="m"))
    meter = FiringRateMeter(net, keep_graph=True)
    net(torch.rand(3, 4, 2) * 4)
    outputs = meter.take_outputs()
    assert len(outputs) == 1 and outputs[0].requires_grad
    outputs[0].backward()
    assert net[0].weight.grad is not None
    assert meter.take_outputs() == []


def test_single_process_context(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    ctx = DistContext.from_env()
    assert not ctx.enabled and ctx.is_main and ctx.world_size == 1
    model = nn.Linear(2, 2)
    assert ctx.wrap(model) is model
    metrics = {"loss": 1.0, "accuracy": 0.5, "count": 3}
    assert ctx.reduce_metrics(metrics) is metrics
    ctx.barrier()
    ctx.close()
