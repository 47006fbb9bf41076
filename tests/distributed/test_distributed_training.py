"""Two gloo processes on the CPU: what DDP does not guarantee by itself.

- each replica keeps its own neuron state (state is not a buffer, nothing broadcasts it);
- BN running statistics are the same on every rank after training (broadcast from rank 0);
- the gathered test metrics equal a single-process evaluation of the final model;
- a resumed distributed run ends with the same weights as an uninterrupted one.
"""

import json
import os
import socket
import sys

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from spikesmith import functional, neuron

pytestmark = pytest.mark.skipif(not dist.is_available(), reason="torch.distributed not available")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(rank, world, port):
    os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": str(rank),
                       "WORLD_SIZE": str(world), "LOCAL_RANK": str(rank)})
    torch.set_num_threads(1)


def _state_worker(rank, world, port, out):
    _env(rank, world, port)
    dist.init_process_group("gloo")
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 3), neuron.LIFNode(step_mode="m"))
    ddp = nn.parallel.DistributedDataParallel(net)
    x = torch.full((3, 2, 4), float(rank + 1))  # different data on each rank
    ddp(x).sum().backward()
    v = net[1].v.detach().clone()
    gathered = [torch.zeros_like(v) for _ in range(world)]
    dist.all_gather(gathered, v)
    torch.save({"own": v, "all": gathered, "weight": net[0].weight.detach().clone()}, f"{out}/state{rank}.pt")
    functional.reset_net(net)
    dist.barrier()                  # both replicas are done before either tears the group down
    dist.destroy_process_group()
    _exit_without_teardown()


def test_each_replica_keeps_its_own_neuron_state(tmp_path):
    port = free_port()
    mp.spawn(_state_worker, args=(2, port, str(tmp_path)), nprocs=2, join=True)
    r0, r1 = torch.load(tmp_path / "state0.pt"), torch.load(tmp_path / "state1.pt")
    assert not torch.equal(r0["own"], r1["own"])  # state was not broadcast
    assert torch.equal(r0["all"][1], r1["own"]) and torch.equal(r1["all"][0], r0["own"])
    assert torch.equal(r0["weight"], r1["weight"])  # parameters are synchronised


def _train_worker(rank, world, port, overrides, resume):
    _env(rank, world, port)
    from spikesmith.run import train as run
    from spikesmith.training import make_config

    cfg = make_config(None, overrides)
    run(cfg, resume=resume)
    _exit_without_teardown()


def _exit_without_teardown():
    """End a spawned worker at once, its results written: gloo's process-group destructor at interpreter
    teardown has hung intermittently (a thread join in ~ProcessGroupGloo), which would stall the suite."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _spawn_train(overrides, resume=None):
    mp.spawn(_train_worker, args=(2, free_port(), overrides, resume), nprocs=2, join=True)


BASE = {"dataset": "digits", "train_subset": 128, "test_subset": 90, "batch_size": 32, "T": 2,
        "epochs": 2, "report": False, "seed": 3, "model": "csnn", "channels": 4, "encoder": "direct"}


def test_distributed_metrics_bn_and_resume(tmp_path):
    from spikesmith.data import get_dataset
    from spikesmith.models import build_model
    from spikesmith.training import evaluate, load_checkpoint, make_config

    full = tmp_path / "full"
    _spawn_train({**BASE, "out": str(full)})
    metrics = json.loads((full / "metrics.json").read_text())
    assert metrics["world_size"] == 2 and len(metrics["history"]) == 2

    # gathered metrics == one process evaluating the final weights on the whole test subset
    ckpt = load_checkpoint(full / "checkpoint.pt")
    model = build_model(ckpt["model_name"], **ckpt["model_args"])
    model.load_state_dict(ckpt["state_dict"])
    cfg = make_config(None, {**BASE, "out": str(full)})
    ds = get_dataset("digits", "test")
    single = evaluate(model, ds.inputs[:90], ds.targets[:90], cfg, False, torch.device("cpu"), 10)
    assert single["count"] == 90
    assert metrics["test_accuracy"] == pytest.approx(single["accuracy"], abs=1e-12)
    assert metrics["test_loss"] == pytest.approx(single["loss"], rel=1e-5)

    # resume: 1 epoch, then continue to 2 under torchrun-style ranks
    part = tmp_path / "part"
    _spawn_train({**BASE, "out": str(part), "time_limit": 1e-6})  # stops after epoch 1 (time limit)
    assert len(json.loads((part / "metrics.json").read_text())["history"]) == 1
    _spawn_train({**BASE, "out": str(part)}, resume=str(part / "checkpoint.pt"))
    resumed = load_checkpoint(part / "checkpoint.pt")
    for key, value in ckpt["state_dict"].items():
        assert torch.equal(value, resumed["state_dict"][key]), key
    bn_means = [v for k, v in ckpt["state_dict"].items() if k.endswith("running_mean")]
    assert bn_means and all(torch.isfinite(v).all() for v in bn_means)
