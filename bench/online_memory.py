"""Peak memory of one training step of the CSNN: online training (OTTT, SLTT) against BPTT, over T.

    python bench/online_memory.py                       # T = 4, 16, 64; OTTT, SLTT and BPTT; 1 thread
    python bench/online_memory.py --T 4 16 --methods ottt bptt --batch-size 64

Each (method, T) runs in a fresh process: build the CSNN (``spikesmith train``'s defaults: 32
channels, LIF, membrane readout) and its Adam optimizer, run one small warm-up step (2 samples, T=1:
libraries loaded, optimizer state allocated), then build the batch (random Fashion-MNIST-shaped
images, direct encoding: the image repeated T times) and read the resident memory (VmRSS), reset
the process's peak (``/proc/self/clear_refs`` "5" sets VmHWM to the current RSS), run one training
step (forward, backward, optimizer step) and read the peak (VmHWM). The figure is peak minus the
RSS before the step. Where the peak cannot be reset, the process-lifetime peak is used and the
table says so. The online methods' instantaneous loss is cross-entropy per step; BPTT's is
cross-entropy of the mean output, as ``spikesmith train`` takes them.

Target (issue 18): OTTT's peak at T=64 at most 1.2x its peak at T=4.

Measured 2026-12-04 on the shared 2-core x86_64 (load 6.8), ``python bench/online_memory.py``
(batch 32, 1 thread), MiB above the RSS before the step:

    T     ottt   sltt    bptt
    4     73.9   67.0    79.1
    16    79.9   78.5   287.1
    64    77.9   81.7   803.3

OTTT: T=64 / T=4 = 1.05x (target <= 1.2x met); SLTT 1.22x; BPTT 10.2x. The online peaks are one
step's graph and the allocator's noise (+-7 MiB between runs); BPTT's grows by about 12 MiB a step.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys


def _status(key: str) -> int:
    """A ``/proc/self/status`` entry in bytes (VmRSS, VmHWM)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/self/status has no {key}")


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def measure(method: str, T: int, batch_size: int, seed: int = 0) -> dict:
    """One step of ``method`` at ``T`` in this process: bytes above the RSS before it, and the time."""
    import time

    import torch
    import torch.nn.functional as F

    from spikesmith import functional
    from spikesmith.models import CSNN
    from spikesmith.training.online import online_step

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    model = CSNN(in_channels=1, num_classes=10)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(x, y):
        opt.zero_grad(set_to_none=True)
        if method == "bptt":
            F.cross_entropy(model(x).mean(0), y).backward()
        else:
            online_step(model, x, lambda out, t: F.cross_entropy(out, y), method=method)
        opt.step()
        functional.reset_net(model)

    step(torch.rand(2, 1, 28, 28).expand(1, 2, 1, 28, 28), torch.tensor([0, 1]))     # warm-up
    images = torch.rand(batch_size, 1, 28, 28)
    x = images.expand(T, *images.shape)                       # direct encoding, as the CSNN's default
    y = torch.randint(0, 10, (batch_size,))
    before = _status("VmRSS")
    resettable = _reset_peak()
    start = time.perf_counter()
    step(x, y)
    seconds = time.perf_counter() - start
    return {"method": method, "T": T, "peak_bytes": _status("VmHWM") - before, "rss_before": before,
            "seconds": seconds, "peak_reset": resettable}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--T", type=int, nargs="+", default=[4, 16, 64])
    p.add_argument("--methods", nargs="+", default=["ottt", "sltt", "bptt"], choices=["ottt", "sltt", "bptt"])
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--child", nargs=2, metavar=("METHOD", "T"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], int(args.child[1]), args.batch_size)))
        return
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    rows = []
    for method in args.methods:
        for T in args.T:
            out = subprocess.run([sys.executable, __file__, "--child", method, str(T), "--batch-size",
                                  str(args.batch_size)], capture_output=True, text=True, env=env, check=False)
            if out.returncode != 0:
                raise SystemExit(f"{method} at T={T} failed:\n{out.stderr}")
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"CSNN (32 channels, LIF), batch {args.batch_size}, 1 thread, {platform.machine()}, load {load:.1f}")
    if not all(r["peak_reset"] for r in rows):
        print("note: /proc/self/clear_refs was refused: peaks are process-lifetime peaks (VmHWM) minus the RSS before")
    print(f"{'method':>7} {'T':>4} {'peak - before (MiB)':>20} {'step (s)':>9}")
    for r in rows:
        print(f"{r['method']:>7} {r['T']:>4} {r['peak_bytes'] / 2**20:>20.1f} {r['seconds']:>9.2f}")
    for method in args.methods:
        mine = {r["T"]: r["peak_bytes"] for r in rows if r["method"] == method}
        lo, hi = min(mine), max(mine)
        if lo != hi and mine[lo] > 0:
            print(f"{method}: peak at T={hi} / peak at T={lo} = {mine[hi] / mine[lo]:.2f}x")


if __name__ == "__main__":
    main()
