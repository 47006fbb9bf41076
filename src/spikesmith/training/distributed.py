"""Distributed data parallel training under ``torchrun`` (gloo on CPU, nccl on GPU).

Each process keeps its own neuron state (state is not a buffer, so DDP never broadcasts it);
batch-norm layers become ``SyncBatchNorm`` on GPU so their statistics cover the global batch,
and on CPU (gloo, where SyncBatchNorm is not available) rank 0's running statistics are
broadcast at every forward (DDP's ``broadcast_buffers``). Metrics are summed over ranks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass
class DistContext:
    enabled: bool = False
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @classmethod
    def from_env(cls) -> "DistContext":
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world <= 1:
            return cls()
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        if not dist.is_initialized():
            dist.init_process_group(backend=backend)
        local = int(os.environ.get("LOCAL_RANK", "0"))
        device = torch.device("cuda", local) if backend == "nccl" else torch.device("cpu")
        if backend == "nccl":
            torch.cuda.set_device(device)
        return cls(True, dist.get_rank(), dist.get_world_size(), local, device)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def wrap(self, model: nn.Module) -> nn.Module:
        if not self.enabled:
            return model
        if self.device.type == "cuda":
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        return nn.parallel.DistributedDataParallel(
            model, device_ids=[self.device.index] if self.device.type == "cuda" else None, broadcast_buffers=True
        )

    def reduce_metrics(self, m: dict) -> dict:
        """Sum counts over ranks and average loss/accuracy/firing rates weighted by count."""
        if not self.enabled:
            return m
        out = dict(m)
        n = float(m["count"])
        keys = ["loss", "accuracy"]
        vec = torch.tensor([n] + [m[k] * n for k in keys], dtype=torch.float64)
        dist.all_reduce(vec)
        out["count"] = int(vec[0])
        for i, k in enumerate(keys):
            out[k] = float(vec[i + 1] / max(vec[0], 1))
        if "firing_rates" in m:
            names = sorted(m["firing_rates"])
            rates = torch.tensor([m["firing_rates"][k] * n for k in names], dtype=torch.float64)
            dist.all_reduce(rates)
            out["firing_rates"] = {k: float(r / max(vec[0], 1)) for k, r in zip(names, rates)}
        if "confusion" in m:
            conf = m["confusion"].clone()
            dist.all_reduce(conf)
            out["confusion"] = conf
        return out

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    def close(self) -> None:
        if self.enabled and dist.is_initialized():
            dist.destroy_process_group()
