"""Sparse against dense time as the input density grows, for one Conv2d and one Linear fed by spikes.

    python bench/sparse_density_sweep.py                         # the CSNN's conv2 and hidden Linear
    python bench/sparse_density_sweep.py --out sweep.png --repeats 5

The layers are the CSNN's (32 channels): Conv2d(32, 32, 3, padding 1) on 14 x 14 and Linear(1568, 512),
each on 1024 rows (T=4 x batch 256). For each density from 1% to 50% a random binary input is made and
the layer's sparse path (``SparseConv2d`` / ``SparseLinear`` in ``mode='sparse'``: the gather and the
accumulate) and its dense product (torch's) are timed, best of ``--repeats``, in this process's CPU time
(one thread). The dense product does not depend on the density, so its best time over the whole sweep
is the reference (the conservative choice: torch's convolution time alternates between two levels on
some machines); the speed-ups and the crossover (where the sparse curve meets it, interpolated
linearly between the measured densities) use it. The plot (sparse and dense milliseconds against
density, the reference and the crossover marked) is written atomically.
"""

from __future__ import annotations

import argparse
import os
import time

import torch
from torch import nn

DENSITIES = (0.01, 0.02, 0.03, 0.05, 0.08, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)


def best(fn, repeats: int) -> float:
    fn()
    out = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        fn()
        out = min(out, time.process_time() - start)
    return out * 1e3


def crossover(densities, sparse_ms, dense_ms):
    """The first density where sparse stops being faster (interpolated); None if it never does."""
    diff = [s - d for s, d in zip(sparse_ms, dense_ms)]
    if diff[0] >= 0:
        return densities[0]
    for k in range(1, len(diff)):
        if diff[k] >= 0:
            d0, d1, f0, f1 = densities[k - 1], densities[k], diff[k - 1], diff[k]
            return d0 + (d1 - d0) * (-f0) / (f1 - f0)
    return None


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="bench/results/sparse_density_sweep.png")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--rows", type=int, default=1024, help="samples x steps per call (default 1024 = 4 x 256)")
    args = p.parse_args()
    torch.set_num_threads(1)
    from spikesmith.inference import SparseConv2d, SparseLinear
    from spikesmith.viz._common import new_figure, save_png

    torch.manual_seed(0)
    conv = SparseConv2d.from_dense(nn.Conv2d(32, 32, 3, padding=1, bias=False), mode="sparse", name="conv2")
    lin = SparseLinear.from_dense(nn.Linear(1568, 512, bias=False), mode="sparse", name="fc1")
    layers = {"Conv2d 32->32 3x3 on 14x14": (conv, (args.rows, 32, 14, 14)),
              "Linear 1568->512": (lin, (args.rows, 1568))}
    print(f"threads 1, {args.rows} rows per call, best of {args.repeats}, load {os.getloadavg()[0]:.2f}")
    results = {}
    with torch.no_grad():      # warm both paths (torch builds its convolution primitive on the first call)
        for layer, shape in layers.values():
            x = (torch.rand(shape) < 0.1).float()
            layer(x), layer.dense(x), layer.dense(x)
    for name, (layer, shape) in layers.items():
        sparse_ms, dense_ms = [], []
        for d in DENSITIES:
            x = (torch.rand(shape) < d).float()
            with torch.no_grad():
                sparse_ms.append(best(lambda: layer(x), args.repeats))
                dense_ms.append(best(lambda: layer.dense(x), args.repeats))
        ref = min(dense_ms)
        print(f"\n{name}: dense reference {ref:.2f} ms (best over the sweep)")
        print(f"{'density':>8}{'sparse ms':>11}{'dense ms':>10}{'speed-up':>10}")
        for d, s, dn in zip(DENSITIES, sparse_ms, dense_ms):
            print(f"{d:>8.2f}{s:>11.2f}{dn:>10.2f}{ref / s:>9.1f}x")
        cross = crossover(DENSITIES, sparse_ms, [ref] * len(DENSITIES))
        print(f"crossover: {'above 50%' if cross is None else f'{100 * cross:.1f}%'}")
        results[name] = (sparse_ms, dense_ms, cross)

    fig = new_figure((10, 4))
    for k, (name, (sparse_ms, dense_ms, cross)) in enumerate(results.items()):
        ax = fig.add_subplot(1, 2, k + 1)
        pct = [100 * d for d in DENSITIES]
        ax.plot(pct, sparse_ms, "o-", label="sparse (event-driven)")
        ax.plot(pct, dense_ms, "s:", alpha=0.6, label="dense (torch), measured")
        ax.axhline(min(dense_ms), color="C1", label=f"dense reference {min(dense_ms):.1f} ms")
        if cross is not None:
            ax.axvline(100 * cross, color="gray", ls="--", label=f"crossover {100 * cross:.1f}%")
        ax.set_xlabel("input density (%)")
        ax.set_ylabel(f"ms per call ({args.rows} rows, CPU time)")
        ax.set_title(name)
        ax.legend()
        ax.grid(alpha=0.3)
    print(f"\nplot: {save_png(fig, args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
