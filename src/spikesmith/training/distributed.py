"""Distributed data parallel training under ``torchrun`` (gloo on CPU, nccl on GPU).

Each process keeps its own neuron state (state is not a buffer, so DDP never broadcasts it);
batch-norm layers become ``SyncBatchNorm`` on GPU so their statistics cover the global batch,
and on CPU (gloo, where SyncBatchNorm is not available) rank 0's running statistics are
broadcast at every forward (DDP's ``broadcast_buffers``). Metrics are summed over ranks.

A rank that stops answering (frozen by ``SIGSTOP``, swapped out, killed) must end the job, not
stall it: the process group is made with ``timeout=dist_timeout`` (the backend's own default is
30 minutes), so a collective waiting for that rank raises after that long. To say which rank it
was, every rank keeps a heartbeat in the process group's key-value store, a counter that a
background thread increments every second; a stopped process stops its counter with it. When a
collective fails, :meth:`DistContext.unresponsive_ranks_named` reads the counters twice, a few
beats apart, and the ranks whose counter stood still are named in a :class:`RankUnresponsiveError`.
The heartbeat only says who is alive: it never ends a run by itself, and a rank that is slow but
alive is told apart from one that is gone.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Iterator, Optional

import torch
import torch.distributed as dist
from torch import nn


DEFAULT_TIMEOUT_S = 300.0   # seconds a rank waits for the others in a collective before the run fails
HEARTBEAT_S = 1.0           # between two beats of a rank's heartbeat (at most timeout / 4)
_HEARTBEAT_KEY = "spikesmith/heartbeat/{}"


class RankUnresponsiveError(TimeoutError):
    """A rank of a ``torchrun`` job stopped answering (an ``OSError``: the CLI reports it in one line)."""


@dataclass
class DistContext:
    enabled: bool = False
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    timeout_s: float = DEFAULT_TIMEOUT_S
    _heartbeat: Optional["_Heartbeat"] = field(default=None, repr=False, compare=False)

    @classmethod
    def from_env(cls, timeout_s: float = DEFAULT_TIMEOUT_S) -> "DistContext":
        """The context of this process: one process, or a rank of the ``torchrun`` job in the environment.

        ``timeout_s`` bounds every wait for the other ranks: forming the group and each collective.
        """
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world <= 1:
            return cls()
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        if not dist.is_initialized():
            try:
                dist.init_process_group(backend=backend, timeout=datetime.timedelta(seconds=timeout_s))
            except RuntimeError as err:  # torch's DistStoreError: not every rank came within the timeout
                raise RankUnresponsiveError(
                    f"the {world} ranks did not all join within dist_timeout={timeout_s:g} s "
                    f"({_first_line(err)}); start every rank with the same MASTER_ADDR and MASTER_PORT, "
                    f"or raise --dist-timeout") from None
        local = int(os.environ.get("LOCAL_RANK", "0"))
        device = torch.device("cuda", local) if backend == "nccl" else torch.device("cpu")
        if backend == "nccl":
            torch.cuda.set_device(device)
        default_store = getattr(dist.distributed_c10d, "_get_default_store", None)  # private in torch: may go
        beat = (_Heartbeat(default_store(), dist.get_rank(), dist.get_world_size(), min(HEARTBEAT_S, timeout_s / 4))
                if default_store is not None else None)
        return cls(True, dist.get_rank(), dist.get_world_size(), local, device, timeout_s, beat)

    @contextlib.contextmanager
    def unresponsive_ranks_named(self) -> Iterator[None]:
        """Run a job's body; a collective that fails because a rank stopped answering becomes a
        :class:`RankUnresponsiveError` that names that rank (any other error passes unchanged)."""
        try:
            yield
        except RuntimeError as err:
            if self._heartbeat is None or not _is_communication_error(err):
                raise
            silent = self._heartbeat.silent_ranks()   # still beating: other ranks diagnosing now see this one alive
            self._heartbeat.stop()
            waited = f"rank {self.rank} waited for the others (dist_timeout={self.timeout_s:g} s)"
            if silent:
                who = ", ".join(str(r) for r in silent)
                raise RankUnresponsiveError(
                    f"rank{'s' if len(silent) > 1 else ''} {who} of {self.world_size} stopped answering "
                    f"(its heartbeat stopped: the process is frozen or gone); {waited}; "
                    f"the last checkpoint written is complete: continue with --resume once every rank runs"
                ) from None
            if silent is None:
                raise RankUnresponsiveError(
                    f"{waited} in vain, and the store that tells which ranks are alive does not answer either: "
                    f"its host (rank 0, or the torchrun agent) is frozen or gone ({_first_line(err)})") from None
            if "timed out" not in str(err).lower():
                raise
            raise RankUnresponsiveError(
                f"{waited} in vain, though every rank is still alive: one is slower than dist_timeout "
                f"or waits elsewhere; raise --dist-timeout, or look for a rank that skips a collective "
                f"({_first_line(err)})") from None

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
            # every rank has finished its collectives before any tears the group down: rank 0 writes the
            # report while the others would already destroy theirs, and a gloo group destroyed with a peer's
            # operation in flight could hang in its destructor
            dist.barrier()
        if self._heartbeat is not None:
            self._heartbeat.stop()
        if self.enabled and dist.is_initialized():
            dist.destroy_process_group()


class _Heartbeat:
    """A counter per rank in the group's store, incremented by a daemon thread every ``interval`` s."""

    def __init__(self, store, rank: int, world_size: int, interval: float):
        self.store, self.rank, self.world_size, self.interval = store, rank, world_size, interval
        self._stop = threading.Event()
        self.store.add(_HEARTBEAT_KEY.format(rank), 1)
        self._thread = threading.Thread(target=self._beat, name=f"spikesmith-heartbeat-{rank}", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.store.add(_HEARTBEAT_KEY.format(self.rank), 1)
            except RuntimeError:    # the store is gone (its host ended): nothing left to tell
                return

    def counts(self) -> list[int]:
        # add(key, 0) reads without waiting: a rank that never beat reads 0
        return [self.store.add(_HEARTBEAT_KEY.format(r), 0) for r in range(self.world_size)]

    def silent_ranks(self) -> Optional[list[int]]:
        """The other ranks whose counter stands still over three beats (None: the store does not answer)."""
        try:
            before = self.counts()
            time.sleep(3 * self.interval)
            after = self.counts()
        except RuntimeError:
            return None
        return [r for r in range(self.world_size) if r != self.rank and after[r] == before[r]]

    def stop(self) -> None:
        """End the beating; once this returns the counter no longer moves (the thread is joined, unless
        it is stuck in a store that does not answer)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=max(1.0, 2 * self.interval))


def _is_communication_error(err: RuntimeError) -> bool:
    """Whether ``err`` came from talking to the other ranks (gloo's and NCCL's errors are plain
    ``RuntimeError``s, or ``DistError``s in newer torch, that name their transport)."""
    if isinstance(err, getattr(dist, "DistError", ())):
        return True
    text = str(err).lower()
    return any(word in text for word in ("gloo", "nccl", "timed out", "connection closed", "connection reset"))


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__
