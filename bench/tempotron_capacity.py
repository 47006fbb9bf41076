"""The tempotron's capacity on the paper's random-pattern task (Gütig & Sompolinsky 2006, Fig. 2).

500 afferents, each firing once at a uniform random time in a 500 ms pattern; tau = 15 ms,
tau_s = tau / 4; each pattern gets a random binary label. For each load alpha = patterns / synapse
the tempotron is trained (batch rule, momentum) for up to ``--epochs`` passes; the curve is the
final training accuracy against alpha, averaged over ``--seeds``. Writes a figure and a JSON table.

    PYTHONPATH=src python bench/tempotron_capacity.py --out bench/results/tempotron
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from spikesmith.atomic import write_json
from spikesmith.learning.tempotron import Tempotron, TempotronParams


def random_task(patterns: int, afferents: int, duration: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    times = torch.rand(patterns, afferents, generator=gen, dtype=torch.float64) * duration
    labels = torch.rand(patterns, generator=gen) < 0.5
    return times, labels


def train_one(alpha: float, seed: int, args) -> dict:
    params = TempotronParams(tau=args.tau, tau_s=args.tau / 4, duration=args.duration, dt=args.dt,
                             lr=args.lr, momentum=args.momentum)
    patterns = int(round(alpha * args.afferents))
    times, labels = random_task(patterns, args.afferents, args.duration, seed)
    neuron = Tempotron(args.afferents, params, generator=torch.Generator().manual_seed(seed + 1))
    order_gen = torch.Generator().manual_seed(seed + 2)
    final, epoch = 0.0, 0
    for epoch in range(1, args.epochs + 1):
        order = torch.randperm(patterns, generator=order_gen)
        for start in range(0, patterns, args.batch):       # mini-batches: several updates per epoch
            chunk = order[start:start + args.batch]
            neuron.learn(times[chunk], labels[chunk])
        if epoch % 10 == 0 or epoch == args.epochs:
            final = float((neuron(times) == labels).double().mean())
            if final == 1.0:
                break
    return {"alpha": alpha, "seed": seed, "patterns": patterns, "epochs": epoch, "accuracy": final}


def plot(rows: list[dict], path: Path, args) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    alphas = sorted({r["alpha"] for r in rows})
    mean = [sum(r["accuracy"] for r in rows if r["alpha"] == a) / sum(r["alpha"] == a for r in rows) for a in alphas]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(alphas, [100 * m for m in mean], "o-")
    ax.axhline(99, color="grey", ls=":", lw=1)
    ax.set_xlabel("patterns per synapse (alpha)")
    ax.set_ylabel("training accuracy (%)")
    ax.set_title(args.title or f"Tempotron, N={args.afferents}, tau={args.tau:g} ms, <= {args.epochs} epochs")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(json.dumps({f"{a:g}": round(100 * m, 2) for a, m in zip(alphas, mean)}))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--alphas", default="0.5,1,1.5,2,2.5,3,3.5,4")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=2000)
    ap.add_argument("--afferents", type=int, default=500)
    ap.add_argument("--duration", type=float, default=500.0)
    ap.add_argument("--tau", type=float, default=15.0)
    ap.add_argument("--dt", type=float, default=1.0)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch", type=int, default=50, help="patterns per update")
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--title", default="", help="the figure's title (default: the setup)")
    ap.add_argument("--merge", nargs="*", default=[], help="capacity.json files of earlier runs to plot with this one")
    ap.add_argument("--out", default="bench/results/tempotron")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for path in args.merge:                    # rows of earlier runs (other alphas), plotted with these
        rows += json.loads(Path(path).read_text())["rows"]
    t0 = time.time()
    for alpha in [float(a) for a in args.alphas.split(",") if a]:
        for seed in range(args.seeds):
            row = train_one(alpha, seed, args)
            rows.append(row)
            print(f"alpha {alpha:.2f} seed {seed}: {row['patterns']} patterns, training accuracy "
                  f"{100 * row['accuracy']:.2f}% after {row['epochs']} epochs ({time.time() - t0:.0f} s)", flush=True)
            write_json(out / "capacity.json", {"rows": rows, "args": vars(args)})     # after every row
    plot(rows, out / "capacity.png", args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
