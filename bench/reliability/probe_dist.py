"""Frozen and killed ranks in a two-rank job (issue 14, point 7).

Each case starts two real ``spikesmith train`` processes on gloo (joined through the environment,
as torchrun joins them, ``--dist-timeout 5``), waits for the first checkpoint, then stops or kills
one rank. The job must end within the timeout plus slack, rank 0 (or the survivor) with a non-zero
exit and a last line naming the rank; the checkpoint must load and be the epoch log.csv ends with.
A job still running is a hang; a checkpoint that does not load is data lost.

    python bench/reliability/probe_dist.py
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "tests" / "distributed"))

import harness  # noqa: E402
import test_distributed_timeout as ddp  # noqa: E402  (the test's launcher and checks, not copied)


def _case(victim: int, sig: signal.Signals, after_epochs: int):
    def run():
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            out, port, procs = tmp / "run", ddp.free_port(), []
            try:
                for rank in range(2):
                    env = ddp._env(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                                   WORLD_SIZE="2", LOCAL_RANK=str(rank))
                    procs.append(subprocess.Popen([sys.executable, *ddp.TRAIN, "--out", str(out)], env=env,
                                                  stdout=subprocess.DEVNULL,
                                                  stderr=(tmp / f"err{rank}").open("w")))
                ddp._wait_for(out / "checkpoint.pt", procs)
                ddp._wait_for(out / "log.csv", procs)      # written just after the checkpoint
                while len((out / "log.csv").read_text().splitlines()) < after_epochs + 1:
                    time.sleep(0.01)
                os.kill(procs[victim].pid, sig)
                survivor = procs[1 - victim]
                try:
                    rc = survivor.wait(ddp.FAIL_WITHIN_S)
                except subprocess.TimeoutExpired:
                    return f"hang: rank {1 - victim} still running {ddp.FAIL_WITHIN_S} s after rank {victim} got {sig.name}"
            finally:
                ddp._kill(procs)
            last = ((tmp / f"err{1 - victim}").read_text().strip().splitlines() or [""])[-1]
            if rc == 0:
                return f"wrong: rank {1 - victim} exited 0 after rank {victim} got {sig.name}"
            if f"rank {victim}" not in last or "Traceback" in last:
                return f"wrong: the error does not name rank {victim}: {last[:200]!r}"
            try:
                ddp._check_last_complete_epoch(out)
            except Exception as err:  # noqa: BLE001 - any failure to read the checkpoint back is data lost
                return f"lost: {type(err).__name__}: {err}"
        return f"clean: {last}"
    return run


def cases() -> list[harness.Case]:
    out = []
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        for after in (1, 2):
            out.append(harness.Case("ddp frozen or killed rank", f"rank 1 {sig.name} after epoch {after}",
                                    _case(1, sig, after), timeout_s=120))
    return out


if __name__ == "__main__":
    harness.main(cases)
