"""Tutorial: a liquid state machine (docs/tutorials/liquid_state_machine.md).

Builds the default reservoir, prints its wiring statistics, draws a raster of the liquid, its
separation curve, its fading-memory curve and memory capacity, and trains a ridge readout on
delayed recall of spike patterns. Every figure goes to ``--out`` (default: docs/tutorials/img).

    PYTHONPATH=src python docs/tutorials/liquid_state_machine.py            # about 30 s, 1 thread
    PYTHONPATH=src python docs/tutorials/liquid_state_machine.py --quick    # a few seconds (the test's)
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from spikesmith.analysis import memory_curve, separation, separation_curve  # noqa: E402
from spikesmith.data.temporal_tasks import delayed_pattern_recall  # noqa: E402
from spikesmith.models import LiquidStateMachine, RidgeReadout  # noqa: E402
from spikesmith.models.lsm_connectivity import CONNECTION_PROBABILITY, grid_positions  # noqa: E402

IMG = Path(__file__).resolve().parent / "img"
PAIRS = ("ee", "ei", "ie", "ii")
E_COLOUR, I_COLOUR = "tab:blue", "tab:red"


def wiring_stats(lsm: LiquidStateMachine) -> dict:
    """Per pair type: connection count, share, and C estimated as drawn / sum of the kernel."""
    coo = lsm.recurrent_weight.to_sparse_coo().coalesce()
    post, pre = coo.indices()
    values = coo.values()
    kind = lsm.neuron_type                                   # 0 excitatory, 1 inhibitory
    pos = grid_positions(lsm.grid)
    d2 = torch.cdist(pos, pos).pow(2)
    kernel = torch.exp(-d2 / lsm.lam ** 2)
    kernel.fill_diagonal_(0.0)                               # no self connections
    stats = {}
    for a in (0, 1):
        for b in (0, 1):
            name = PAIRS[2 * a + b]
            hit = (kind[pre] == a) & (kind[post] == b)
            expected_kernel = float(kernel[kind == a][:, kind == b].sum())   # rows pre, columns post
            stats[name] = {"count": int(hit.sum()), "share": float(hit.float().mean()),
                           "c_estimate": int(hit.sum()) / expected_kernel,
                           "c_paper": getattr(CONNECTION_PROBABILITY, name),
                           "sign_ok": bool(((values[hit] > 0) if a == 0 else (values[hit] < 0)).all())}
    return stats


def probability_by_distance(lsm: LiquidStateMachine) -> tuple[torch.Tensor, torch.Tensor]:
    """(distance, fraction of ordered pairs at that distance that are connected)."""
    coo = lsm.recurrent_weight.to_sparse_coo().coalesce()
    post, pre = coo.indices()
    pos = grid_positions(lsm.grid)
    dist = torch.cdist(pos, pos)
    connected = torch.zeros_like(dist, dtype=torch.bool)
    connected[pre, post] = True
    distances = torch.unique(dist[dist > 0].round(decimals=4))
    fraction = torch.stack([connected[(dist - d).abs() < 1e-3].float().mean() for d in distances])
    return distances, fraction


def poisson(shape, rate: float, generator: torch.Generator) -> torch.Tensor:
    return (torch.rand(shape, generator=generator) < rate).float()


def figure_wiring(big: LiquidStateMachine, stats: dict, path: Path) -> None:
    distances, fraction = probability_by_distance(big)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    labels = [f"{p[0].upper()}->{p[1].upper()}" for p in PAIRS]
    x = torch.arange(4).float()
    left.bar(x - 0.18, [stats[p]["c_paper"] for p in PAIRS], width=0.36, label="C (Maass et al. 2002)", color="0.7")
    left.bar(x + 0.18, [stats[p]["c_estimate"] for p in PAIRS], width=0.36, label="C estimated from the draw",
             color="tab:green")
    left.set_xticks(x.tolist(), labels)
    left.set_ylabel("C (pair-type factor)")
    left.set_title(f"connection factor by pair type ({big.n_neurons} neurons)")
    left.legend(fontsize=8)
    d = torch.linspace(0, float(distances.max()), 100)
    mean_c = 0.8 * 0.8 * 0.3 + 0.8 * 0.2 * 0.2 + 0.2 * 0.8 * 0.4 + 0.2 * 0.2 * 0.1
    right.plot(distances.numpy(), fraction.numpy(), "o", label="drawn")
    right.plot(d.numpy(), (mean_c * torch.exp(-(d / big.lam) ** 2)).numpy(), "-", label=r"$\bar C\,\exp(-(D/\lambda)^2)$")
    right.set_xlabel("grid distance D")
    right.set_ylabel("fraction of pairs connected")
    right.set_title(f"connection probability vs distance (lambda = {big.lam:g})")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def figure_raster(lsm: LiquidStateMachine, x: torch.Tensor, path: Path) -> float:
    spikes = lsm(x).spikes[:, 0]                                     # [T, n]
    order = torch.argsort(lsm.neuron_type, stable=True)              # excitatory first
    s = spikes[:, order]
    n_exc = int(lsm.is_excitatory.sum())
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 5.2), sharex=True,
                                      gridspec_kw={"height_ratios": [1, 4]})
    t_in, ch = x[:, 0].nonzero(as_tuple=True)
    top.scatter(t_in.numpy(), ch.numpy(), s=60, c="k", marker="|", linewidths=1.5)
    top.set_ylabel("input channel")
    top.set_yticks(range(x.shape[2]))
    top.set_ylim(-0.7, x.shape[2] - 0.3)
    top.set_title("input spike trains (top) and the liquid's spikes (bottom)")
    t, i = s.nonzero(as_tuple=True)
    colour = [E_COLOUR if k < n_exc else I_COLOUR for k in i.tolist()]
    bottom.scatter(t.numpy(), i.numpy(), s=3, c=colour, marker="|")
    bottom.axhline(n_exc - 0.5, color="0.6", lw=0.5)
    bottom.set_ylabel("neuron (E below the line, I above)")
    bottom.set_xlabel("time step (1 ms)")
    bottom.scatter([], [], c=E_COLOUR, label=f"excitatory ({n_exc})")
    bottom.scatter([], [], c=I_COLOUR, label=f"inhibitory ({lsm.n_neurons - n_exc})")
    bottom.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return float(spikes.mean()) * 1000.0 / lsm.dt


def run_separation(lsm: LiquidStateMachine, n_pairs: int, steps: int, seed: int):
    """Pairs of 4-channel Poisson trains that differ in a growing share of their time bins."""
    g = torch.Generator().manual_seed(seed)
    a = poisson((steps, n_pairs, lsm.n_inputs), 0.05, g)
    redraw = poisson((steps, n_pairs, lsm.n_inputs), 0.05, g)
    share = torch.linspace(0.0, 1.0, n_pairs)[None, :, None]
    b = torch.where(torch.rand(a.shape, generator=g) < share, redraw, a)
    input_distance, state_distance = separation(lambda x: lsm(x, record_spikes=False).states[-1], a, b)
    return input_distance, state_distance


def run_memory(grid, bins: int, bin_steps: int, seed: int, weight_scale=None):
    """Jaeger's memory task: u(bin) ~ U(0, 1) held for bin_steps ms as a current; states at bin ends."""
    lsm = LiquidStateMachine(n_inputs=1, grid=grid, seed=seed, weight_scale=weight_scale)
    u = torch.rand(bins, generator=torch.Generator().manual_seed(seed + 100))
    x = (0.15 * u).repeat_interleave(bin_steps)[:, None, None]
    ends = tuple(range(bin_steps - 1, bins * bin_steps, bin_steps))
    states = lsm(x, read_times=ends, record_spikes=False).states[:, 0]
    return memory_curve(states, u, max_delay=20, washout=20, alpha=1e-2)


def run_recall(delays, n_samples: int, seed: int) -> list[tuple[int, float, float]]:
    """Ridge readout (one-hot targets) on the final liquid state, against the same readout on
    the input filtered with the liquid's own 30 ms trace; returns (delay, liquid acc, input acc)."""
    n_train = int(0.7 * n_samples)
    out = []
    for delay in delays:
        x, labels = delayed_pattern_recall(n_samples, n_patterns=8, n_channels=8, pattern_steps=30,
                                           delay_steps=delay, noise_rate=0.02, seed=seed)
        lsm = LiquidStateMachine(n_inputs=8, seed=seed)
        states = lsm(x, record_spikes=False).states[-1]
        decay = math.exp(-1.0 / 30.0)
        trace = torch.zeros(x.shape[1:])
        for t in range(x.shape[0]):
            trace = trace * decay + x[t]
        accuracies = []
        for features in (states, trace):
            target = torch.nn.functional.one_hot(labels[:n_train], 8).double()
            readout = RidgeReadout(alpha=1.0).fit(features[:n_train], target)
            predicted = readout(features[n_train:]).argmax(1)
            accuracies.append(float((predicted == labels[n_train:]).float().mean()))
        out.append((delay, *accuracies))
    return out


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=IMG, help="folder for the figures")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (seconds): what the test runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    quick = args.quick
    start = time.perf_counter()
    results: dict = {}

    # 1. the reservoir and its wiring ----------------------------------------------------------
    lsm = LiquidStateMachine(n_inputs=4, seed=args.seed)
    print(f"reservoir: {lsm}")
    big = lsm if quick else LiquidStateMachine(n_inputs=4, grid=(20, 6, 6), seed=args.seed)
    stats = wiring_stats(big)
    results["wiring"] = stats
    print(f"wiring of a {big.grid} grid ({big.n_neurons} neurons, {big.n_connections} connections):")
    for name in PAIRS:
        s = stats[name]
        print(f"  {name[0].upper()}->{name[1].upper()}: {s['count']:5d} connections ({100 * s['share']:4.1f}%), "
              f"C estimated {s['c_estimate']:.3f} (paper {s['c_paper']}), Dale's law sign "
              f"{'ok' if s['sign_ok'] else 'WRONG'}")
    figure_wiring(big, stats, args.out / "lsm_wiring.png")

    # 2. a raster ------------------------------------------------------------------------------
    steps = 100 if quick else 300
    x = poisson((steps, 1, 4), 0.02, torch.Generator().manual_seed(args.seed + 1))
    rate = figure_raster(lsm, x, args.out / "lsm_raster.png")
    results["rate_hz"] = rate
    print(f"raster: 4 Poisson inputs at 20 Hz for {steps} ms; the liquid fires {rate:.1f} Hz on average")

    # 3. separation ----------------------------------------------------------------------------
    n_pairs = 12 if quick else 60
    input_distance, state_distance = run_separation(lsm, n_pairs, 100 if quick else 200, args.seed + 2)
    centres, means = separation_curve(input_distance, state_distance, bins=4 if quick else 6)
    results["separation"] = list(zip(centres.tolist(), means.tolist()))
    print("separation (input distance -> mean state distance): "
          + ", ".join(f"{c:.3f} -> {m:.2f}" for c, m in zip(centres.tolist(), means.tolist())))
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.plot(input_distance.numpy(), state_distance.numpy(), ".", color="0.6", label="one pair")
    ax.plot(centres.numpy(), means.numpy(), "o-", color="tab:purple", label="mean per bin")
    ax.set_xlabel("input distance (filtered, tau 5 steps)")
    ax.set_ylabel("liquid state distance ||x_a - x_b||")
    ax.set_title("separation property")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out / "lsm_separation.png", dpi=110)
    plt.close(fig)

    # 4. fading memory and memory capacity -----------------------------------------------------
    bins = 300 if quick else 2000
    curve = run_memory((15, 3, 3), bins, 10, args.seed)
    isolated = run_memory((15, 3, 3), bins, 10, args.seed, weight_scale=0.0)
    results["memory_capacity"] = curve.capacity
    results["memory_capacity_no_recurrence"] = isolated.capacity
    print(f"memory capacity ({bins} bins of 10 ms, delays 0..20): {curve.capacity:.2f} "
          f"(recurrent weights at 0: {isolated.capacity:.2f}); MC_k k=0..4: "
          + " ".join(f"{v:.2f}" for v in curve.r2[:5].tolist()))
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.plot(curve.delays, curve.r2.numpy(), "o-", label=f"liquid, MC = {curve.capacity:.2f}")
    ax.plot(isolated.delays, isolated.r2.numpy(), "s--", color="0.5", label=f"no recurrence, MC = {isolated.capacity:.2f}")
    ax.set_xlabel("delay k (bins of 10 ms)")
    ax.set_ylabel(r"$MC_k = corr(u(t-k), y_k(t))^2$")
    ax.set_title("fading-memory curve")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out / "lsm_memory.png", dpi=110)
    plt.close(fig)

    # 5. a ridge readout on delayed recall -----------------------------------------------------
    delays = (0, 30) if quick else (0, 20, 40, 60, 90)
    recall = run_recall(delays, 200 if quick else 600, args.seed)
    results["recall"] = recall
    for delay, liquid_acc, input_acc in recall:
        print(f"delayed recall, 8 patterns, delay {delay:3d} ms: ridge readout on the liquid {liquid_acc:.3f}, "
              f"on the input trace alone {input_acc:.3f} (chance 0.125)")
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.plot([r[0] for r in recall], [r[1] for r in recall], "o-", label="final liquid state")
    ax.plot([r[0] for r in recall], [r[2] for r in recall], "s--", color="0.5", label="input trace (tau 30 ms)")
    ax.axhline(0.125, color="k", lw=0.5, ls=":", label="chance")
    ax.set_xlabel("delay after the pattern (ms)")
    ax.set_ylabel("test accuracy (ridge readout)")
    ax.set_ylim(0, 1.02)
    ax.set_title("delayed recall of 8 spike patterns")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out / "lsm_recall.png", dpi=110)
    plt.close(fig)

    results["seconds"] = time.perf_counter() - start
    print(f"total {results['seconds']:.1f} s; figures in {args.out}")
    return results


if __name__ == "__main__":
    main()
