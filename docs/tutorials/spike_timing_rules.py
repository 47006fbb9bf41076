"""Tutorial: spike-train metrics and the spike-timing rules (docs/tutorials/spike_timing_rules.md).

Prints the metrics on hand-checkable trains and draws how each one grows with the shift of a spike,
then teaches one LIF neuron a target spike train with ReSuMe, Chronotron (E and I) and SPAN and draws
the learning curves and the final output rasters. Every figure goes to ``--out`` (default:
docs/tutorials/img).

    PYTHONPATH=src python docs/tutorials/spike_timing_rules.py            # about 8-15 s, 1 thread
    PYTHONPATH=src python docs/tutorials/spike_timing_rules.py --quick    # a few seconds (the test's)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from spikesmith import metrics
from spikesmith.learning import SPAN, ChronotronE, ChronotronI, ReSuMe, SpikeTimingNeuron, TimingLIF
from spikesmith.viz._common import new_figure, save_png

IMG = Path(__file__).resolve().parent / "img"
RULES = {
    "ReSuMe": ReSuMe(lr=0.01, a=0.02, amplitude=1.0, tau=7.0),
    "Chronotron E": ChronotronE(lr=0.02, q=0.2, shift_gain=0.2),
    "Chronotron I": ChronotronI(lr=0.01),
    "SPAN": SPAN(lr=0.002, tau=5.0),
}
STYLES = {"ReSuMe": "-", "Chronotron E": "--", "Chronotron I": "-.", "SPAN": ":"}


def metric_facts() -> dict:
    """The metrics on trains whose values can be checked by hand."""
    facts = {
        "vp_move": metrics.victor_purpura([1.0], [1.5], q=1.0),                 # move by 0.5 at cost 1: 0.5
        "vp_insert": metrics.victor_purpura([], [1.0, 2.0], q=1.0),            # insert two spikes: 2
        "vp_far": metrics.victor_purpura([1.0], [4.0], q=1.0),                 # delete + insert beats moving 3
        "vr_one_vs_none": metrics.van_rossum([10.0], [], tau=5.0),             # 1 by the normalisation
        "vr_shift_5ms": metrics.van_rossum([10.0], [15.0], tau=5.0),           # sqrt(2 (1 - e^-1))
        "schreiber_2ms": metrics.schreiber_correlation([10.0], [12.0], sigma=2.0),   # exp(-4 / 16)
    }
    edit = metrics.victor_purpura_alignment([10.0, 30.0, 80.0], [11.0, 50.0, 81.5], q=0.2)
    facts["alignment"] = {"pairs": edit.pairs, "deleted": edit.only_a, "inserted": edit.only_b,
                          "distance": edit.distance}
    a, b = torch.zeros(200, 3), torch.zeros(200, 3)                           # 3 neurons, dt = 0.5 ms
    a[20, 0], b[30, 0] = 1, 1
    a[[40, 90], 1], b[[41, 90], 1] = 1, 1
    a[100, 2] = 1
    facts["binned_vr"] = metrics.van_rossum_binned(a, b, tau=5.0, dt=0.5).tolist()
    facts["binned_vp"] = metrics.victor_purpura_binned(a, b, q=0.2, dt=0.5).tolist()
    return facts


def figure_metrics(path: Path, points: int) -> None:
    shifts = torch.linspace(0, 25, points)
    fig = new_figure((6, 3.6))
    ax = fig.subplots(1, 1)
    for q in (0.1, 0.2, 0.5):
        ax.plot(shifts, [metrics.victor_purpura([50.0], [50.0 + float(d)], q) for d in shifts],
                label=f"Victor-Purpura, q = 1/({1 / q:g} ms)")
    ax.plot(shifts, [metrics.van_rossum([50.0], [50.0 + float(d)], 5.0) for d in shifts], "k--",
            label="van Rossum, tau = 5 ms")
    ax.plot(shifts, [1 - metrics.schreiber_correlation([50.0], [50.0 + float(d)], 5.0) for d in shifts], "k:",
            label="1 - Schreiber correlation, sigma = 5 ms")
    ax.set_xlabel("shift of one spike (ms)")
    ax.set_ylabel("distance")
    ax.set_title("one spike against the same spike shifted")
    ax.legend(fontsize=8)
    save_png(fig, path)


def train_all(afferents: int, duration: float, epochs: int, seed: int) -> dict:
    neuron = TimingLIF(tau_m=10.0, tau_s=5.0, v_threshold=1.0, dt=0.5)
    g = torch.Generator().manual_seed(seed)
    steps = int(duration / neuron.dt)
    inputs = (torch.rand(steps, afferents, generator=g) < 10.0 * neuron.dt / 1000).double()   # frozen 10 Hz
    n_target = 8 if duration >= 400 else 4
    gap = (duration - 40) / n_target
    target = [20.0 + gap * k + float(torch.randint(0, int(gap / 2), (1,), generator=g)) for k in range(n_target)]
    out = {"target": target, "rules": {}}
    for name, rule in RULES.items():
        cell = SpikeTimingNeuron(afferents, neuron, init_mean=0.04 * 400 / afferents, init_std=0.02, seed=seed)
        initial = cell(inputs).nonzero()[:, 0].double() * neuron.dt
        history = cell.fit(inputs, target, rule, epochs)
        out["rules"][name] = {"history": history, "initial": initial.tolist(), "final": history.output_times.tolist(),
                              "matched": bool(metrics.matched_spikes(target, history.output_times, 2.0).all())}
    return out


def figure_training(result: dict, duration: float, curves: Path, rasters: Path) -> None:
    fig = new_figure((6, 3.6))
    ax = fig.subplots(1, 1)
    for name, r in result["rules"].items():
        ax.plot(r["history"].victor_purpura, STYLES[name], color=f"C{list(RULES).index(name)}", label=name)
    ax.set_xlabel("trial")
    ax.set_ylabel("Victor-Purpura distance (q = 1/5 ms)")
    ax.set_ylim(bottom=0)
    ax.set_title("distance to the target while learning")
    ax.legend(fontsize=8)
    save_png(fig, curves)

    fig = new_figure((8, 3.2))
    ax = fig.subplots(1, 1)
    rows = [("target", result["target"], "k"), ("before", next(iter(result["rules"].values()))["initial"], "0.5")]
    rows += [(name, r["final"], f"C{k}") for k, (name, r) in enumerate(result["rules"].items())]   # the curves' colours
    for y, (_, times, colour) in enumerate(reversed(rows)):
        ax.vlines(times, y - 0.35, y + 0.35, color=colour, lw=2)
    ax.set_yticks(range(len(rows)), [label for label, _, _ in reversed(rows)])
    ax.set_xlim(0, duration)
    ax.set_xlabel("time (ms)")
    ax.set_title("output spikes after training, against the target")
    save_png(fig, rasters)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=IMG, help="folder for the figures")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (seconds): what the test runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    results: dict = {"metrics": metric_facts()}
    for key, value in results["metrics"].items():
        print(f"{key}: {value}")
    figure_metrics(args.out / "st_metrics.png", 26 if args.quick else 101)

    afferents, duration, epochs = (200, 200.0, 50) if args.quick else (400, 500.0, 200)
    training = train_all(afferents, duration, epochs, args.seed)
    results["training"] = {}
    print(f"\n{afferents} afferents at 10 Hz, {duration:g} ms, target {training['target']}")
    for name, r in training["rules"].items():
        h = r["history"]
        settled = next((k for k in range(len(h.victor_purpura)) if max(h.victor_purpura[k:]) <= 0.1 * h.victor_purpura[0]),
                       None)
        results["training"][name] = {"vr": (h.van_rossum[0], h.van_rossum[-1]), "settled": settled,
                                     "vp": (h.victor_purpura[0], h.victor_purpura[-1]), "matched": r["matched"]}
        print(f"{name:13s} van Rossum {h.van_rossum[0]:.3f} -> {h.van_rossum[-1]:.3f}, Victor-Purpura "
              f"{h.victor_purpura[0]:.3f} -> {h.victor_purpura[-1]:.3f}, every target spike within 2 ms: "
              f"{'yes' if r['matched'] else 'no'}; VP stays below 10% of its start from trial {settled}")
    figure_training(training, duration, args.out / "st_curves.png", args.out / "st_rasters.png")
    results["seconds"] = time.perf_counter() - start
    print(f"total {results['seconds']:.1f} s; figures in {args.out}")
    return results


if __name__ == "__main__":
    main()
