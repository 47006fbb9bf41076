"""STDP mixed with gradient descent; the learners' errors; replicas stay identical under torch.distributed."""

import os
import socket
import sys

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from spikesmith import functional, layer, neuron
from spikesmith.learning import (
    AdaptiveThreshold,
    STDPLearner,
    TripletSTDPLearner,
    gd_parameters,
    reset_learners,
    stdp_parameters,
    step_learners,
)


def _hybrid_net():
    torch.manual_seed(0)
    conv = layer.Conv2d(1, 4, 3, padding=1, bias=False)
    nn.init.uniform_(conv.weight, 0.0, 0.5)
    net = nn.Sequential(conv, neuron.LIFNode(tau=2.0), layer.MaxPool2d(2), layer.Flatten(),
                        layer.Linear(4 * 4 * 4, 3), neuron.LIFNode(tau=2.0))
    functional.set_step_mode(net, "m")
    learner = STDPLearner(conv, net[1], a_plus=1e-2, a_minus=5e-3, w_min=0.0, w_max=1.0)
    return net, learner


def test_hybrid_stdp_layers_get_no_gradient_and_gd_layers_do():
    net, learner = _hybrid_net()
    params = gd_parameters(net, [learner])
    assert {id(p) for p in params} == {id(net[4].weight), id(net[4].bias)}
    assert [id(p) for p in stdp_parameters([learner])] == [id(net[0].weight)]
    opt = torch.optim.SGD(params, lr=0.5)
    x = (torch.rand(6, 5, 1, 8, 8) < 0.5).float()
    y = torch.tensor([0, 1, 2, 0, 1])
    conv_before, fc_before = net[0].weight.clone(), net[4].weight.clone()
    out = net(x)
    loss = nn.functional.cross_entropy(out.mean(0), y)
    opt.zero_grad()
    loss.backward()
    assert net[0].weight.grad is None
    assert net[4].weight.grad is not None and net[4].weight.grad.abs().sum() > 0
    opt.step()
    step_learners([learner])
    functional.reset_net(net)
    reset_learners([learner])
    assert not torch.equal(net[0].weight, conv_before)     # changed by STDP
    assert not torch.equal(net[4].weight, fc_before)       # changed by gradient descent
    assert float(net[0].weight.min()) >= 0 and float(net[0].weight.max()) <= 1


@pytest.mark.parametrize("bad, match", [
    (dict(a_minus=-1e-3), "a_minus is a magnitude"),
    (dict(a_plus=-1e-3), "a_plus is a magnitude"),
    (dict(w_min=1.0, w_max=0.5), "contradict"),
    (dict(w_min=0.0, w_max=0.0), "contradict"),
    (dict(weight_dependence="multiplicative", w_max=1.0), "needs both w_min and w_max"),
    (dict(w_min=0.0, w_max=0.1, norm=5.0), "cannot be reached"),
    (dict(w_min=0.5, w_max=1.0), "outside the bounds"),
    (dict(tau_plus=0.0), "tau_plus must be a positive"),
    (dict(weight_dependence="hebbian"), "weight_dependence"),
    (dict(reduction="max"), "reduction"),
    (dict(trace="last"), "trace must be one of"),
])
def test_bad_arguments(bad, match):
    fc = layer.Linear(10, 3, bias=False)
    nn.init.uniform_(fc.weight, 0.0, 0.3)
    with pytest.raises(ValueError, match=match):
        STDPLearner(fc, neuron.LIFNode(), **bad)


def test_incompatible_layers():
    with pytest.raises(TypeError, match="Linear and Conv2d"):
        STDPLearner(nn.Conv1d(2, 3, 3), neuron.LIFNode())
    with pytest.raises(TypeError, match="Linear and Conv2d"):
        STDPLearner(layer.Recurrent(nn.Linear(3, 3), neuron.LIFNode()) if hasattr(layer, "Recurrent") else nn.GRU(3, 3),
                    neuron.LIFNode())
    with pytest.raises(TypeError, match="spiking neuron"):
        STDPLearner(nn.Linear(3, 3), nn.ReLU())
    with pytest.raises(TypeError, match="spiking neuron"):
        STDPLearner(nn.Linear(3, 3), neuron.IntegratorNode())
    with pytest.raises(ValueError, match="a2_minus is a magnitude"):
        TripletSTDPLearner(nn.Linear(3, 3), neuron.LIFNode(), a2_minus=-0.1)
    # a pooling layer between the synapse and the neuron is caught when the spikes are read
    conv = layer.Conv2d(1, 2, 3, padding=1, step_mode="m")
    lif = neuron.LIFNode(step_mode="m")
    learner = STDPLearner(conv, lif)
    lif(layer.MaxPool2d(2, step_mode="m")(conv(torch.rand(2, 1, 1, 8, 8))))
    with pytest.raises(ValueError, match="no pooling"):
        learner.step()
    with pytest.raises(ValueError, match="nothing recorded"):
        learner.step()


def test_carried_traces_need_a_reset_between_batches():
    fc = layer.Linear(4, 2, bias=False, step_mode="m")
    lif = neuron.LIFNode(step_mode="m")
    learner = STDPLearner(fc, lif)
    lif(fc(torch.rand(3, 2, 4)))
    learner.step()
    functional.reset_net(lif)
    lif(fc(torch.rand(3, 5, 4)))
    with pytest.raises(ValueError, match="learner.reset"):
        learner.step()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _exit_without_teardown():
    """End a spawned replica at once, its results written: gloo's process-group destructor at interpreter
    teardown has hung intermittently (a thread join in ~ProcessGroupGloo), which would stall the suite."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _replica(rank, world, port, out):
    os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": str(rank),
                       "WORLD_SIZE": str(world)})
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    net, learner = _hybrid_net()
    ddp = nn.parallel.DistributedDataParallel(net)
    opt = torch.optim.SGD(gd_parameters(net, [learner]), lr=0.1)
    gen = torch.Generator().manual_seed(100 + rank)               # different data on each replica
    own = torch.zeros_like(net[0].weight)
    for _ in range(3):
        x = (torch.rand(4, 3, 1, 8, 8, generator=gen) < 0.5).float()
        loss = ddp(x).mean(0).pow(2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        dw = learner.compute()          # this replica's change ...
        own += dw
        learner.apply(dw)               # ... is averaged over the replicas before it is applied
        functional.reset_net(net)
        learner.reset()
    torch.save({"conv": net[0].weight.detach().clone(), "fc": net[4].weight.detach().clone(), "own": own},
               f"{out}/rank{rank}.pt")
    dist.barrier()                  # both replicas are done before either tears the group down
    dist.destroy_process_group()
    _exit_without_teardown()


@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed not available")
def test_stdp_changes_are_averaged_over_replicas(tmp_path):
    mp.start_processes(_replica, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True, start_method="spawn")
    r0, r1 = torch.load(tmp_path / "rank0.pt"), torch.load(tmp_path / "rank1.pt")
    assert not torch.equal(r0["own"], r1["own"])          # the replicas saw different spikes
    assert torch.equal(r0["conv"], r1["conv"])            # yet hold the same STDP weights
    assert torch.equal(r0["fc"], r1["fc"])


def _combine_replica(rank, world, port, out):
    os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": str(rank),
                       "WORLD_SIZE": str(world)})
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    result = {}
    for reduction in ("mean", "sum"):
        fc = layer.Linear(5, 3, bias=False, step_mode="m")
        nn.init.constant_(fc.weight, 0.5)
        lif = neuron.LIFNode(step_mode="m")
        learner = STDPLearner(fc, lif, a_plus=0.1, a_minus=0.05, reduction=reduction)
        gen = torch.Generator().manual_seed(10 + rank)
        pre = (torch.rand(6, 2, 5, generator=gen) < 0.5).float()       # different spikes on each replica
        learner.record(pre, (torch.rand(6, 2, 3, generator=gen) < 0.5).float())
        own = learner.compute()
        learner.apply(own.clone())
        at = AdaptiveThreshold(3, theta_plus=1.0, reduction=reduction).attach(neuron.LIFNode(v_threshold=0.5))
        at.theta_n = torch.full((2, 3), float(rank + 1))      # this replica's thresholds after a sequence
        at.commit()
        result[reduction] = {"own": own, "w": fc.weight.detach().clone() - 0.5, "theta": at.theta.clone()}
    torch.save(result, f"{out}/rank{rank}.pt")
    dist.barrier()                  # both replicas are done before either tears the group down
    dist.destroy_process_group()
    _exit_without_teardown()


@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed not available")
def test_replicas_combine_changes_like_the_batch(tmp_path):
    """Weight and threshold changes: averaged over replicas with reduction='mean', summed with 'sum'."""
    mp.start_processes(_combine_replica, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True,
                       start_method="spawn")
    r0, r1 = torch.load(tmp_path / "rank0.pt"), torch.load(tmp_path / "rank1.pt")
    for reduction, scale in (("mean", 0.5), ("sum", 1.0)):
        a, b = r0[reduction], r1[reduction]
        assert not torch.equal(a["own"], b["own"])
        assert torch.equal(a["w"], b["w"]) and torch.equal(a["theta"], b["theta"])
        assert torch.allclose(a["w"], scale * (a["own"] + b["own"]))
    assert torch.allclose(r0["mean"]["theta"], torch.full((3,), 1.5))    # (1 + 2) / 2
    assert torch.allclose(r0["sum"]["theta"], torch.full((3,), 6.0))     # (2 + 4), two samples each
