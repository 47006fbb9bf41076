"""Tutorial: gated spiking RNNs, SpikingLSTM / SpikingGRU (docs/tutorials/spiking_lstm.md).

Runs both formulations (``variant='spikingjelly'`` and ``'snntorch'``), checks single-step against
multi-step mode, shows what ``reset_net`` does, draws the phased time gate's openness, and trains
small spiking LSTM / GRU classifiers (and an ``nn.LSTM`` twin) on scikit-learn's digits read one
row per step. Every figure goes to ``--out`` (default: docs/tutorials/img).

    PYTHONPATH=src python docs/tutorials/spiking_lstm.py            # about a minute, 1 thread
    PYTHONPATH=src python docs/tutorials/spiking_lstm.py --quick    # a few seconds (the test's)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from spikesmith import functional, layer  # noqa: E402
from spikesmith.data.digits import load_digits  # noqa: E402
from spikesmith.models import SGRU, SLSTM  # noqa: E402

IMG = Path(__file__).resolve().parent / "img"
# the snnTorch variant's membrane o * tanh(syn) lies in (-1, 1): its default threshold of 1 never fires;
# 0.5 is what `--model slstm --variant snntorch` uses
VARIANTS = {"spikingjelly": {}, "snntorch": {"threshold": 0.5}}
# at the random initial weights the membranes stay below about 0.2, so the raster uses a lower threshold
RASTER_THRESHOLD = 0.1


def poisson(shape, rate: float, seed: int) -> torch.Tensor:
    return (torch.rand(shape, generator=torch.Generator().manual_seed(seed)) < rate).float()


def single_vs_multi(cell_type, variant: str, x: torch.Tensor) -> float:
    """Max |difference| between one multi-step call and a loop of single steps (same weights)."""
    torch.manual_seed(0)
    cell = cell_type(x.shape[-1], 16, variant=variant, step_mode="m", **VARIANTS[variant])
    with torch.no_grad():
        multi = cell(x)
        functional.reset_net(cell)
        functional.set_step_mode(cell, "s")
        single = torch.stack([cell(x[t]) for t in range(x.shape[0])])
        functional.reset_net(cell)
    return float((multi - single).abs().max())


def reset_demo(x: torch.Tensor) -> tuple[float, float]:
    """Two calls on the same input: without reset_net the second continues the first's state."""
    torch.manual_seed(0)
    lstm = layer.SpikingLSTM(x.shape[-1], 32)
    with torch.no_grad():
        first = lstm(x)
        carried = lstm(x)                         # no reset: starts from the first call's state
        functional.reset_net(lstm)
        again = lstm(x)
        functional.reset_net(lstm)
    return float((first != carried).float().mean()), float((first != again).float().mean())


def figure_rasters(x: torch.Tensor, path: Path) -> dict:
    """Output spikes of a SpikingLSTM in each variant, and of a SpikingGRU, on one input."""
    rates = {}
    nets = [("SpikingLSTM", layer.SpikingLSTM, v) for v in VARIANTS] + [("SpikingGRU", layer.SpikingGRU, "spikingjelly")]
    fig, axes = plt.subplots(1, len(nets), figsize=(12, 3.4), sharey=True)
    for ax, (name, net_type, variant) in zip(axes, nets):
        torch.manual_seed(0)
        options = {"threshold": RASTER_THRESHOLD} if variant == "snntorch" else {}
        net = net_type(x.shape[-1], 32, num_layers=2, variant=variant, **options)
        with torch.no_grad():
            out = net(x)[:, 0]                    # [T, 32]
        functional.reset_net(net)
        rates[f"{name}/{variant}"] = float(out.mean())
        t, i = out.nonzero(as_tuple=True)
        ax.scatter(t.numpy(), i.numpy(), s=8, marker="|", c="k")
        extra = f", threshold {RASTER_THRESHOLD}" if variant == "snntorch" else ""
        ax.set_title(f"{name}, {variant}{extra}\n(2 layers, rate {float(out.mean()):.2f} spikes/step)", fontsize=9)
        ax.set_xlabel("time step")
    axes[0].set_ylabel("neuron of the last layer")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return rates


def figure_phased(path: Path, steps: int) -> dict:
    """The phased gate's openness k_t for a few neurons, and how often a phased cell's state moves."""
    torch.manual_seed(3)
    gate = layer.PhasedTimeGate(5, tau_min=10.0, tau_max=40.0, r_on=0.2)
    t = torch.arange(steps, dtype=torch.float32)
    with torch.no_grad():
        k = gate.openness(t)                      # [steps, 5]
    fig, axes = plt.subplots(5, 1, figsize=(8, 4.6), sharex=True)
    for j, ax in enumerate(axes):
        ax.fill_between(t.numpy(), k[:, j].numpy(), alpha=0.4)
        ax.plot(t.numpy(), k[:, j].numpy(), lw=1)
        ax.set_ylim(0, 1.05)
        ax.set_yticks([0, 1])
        ax.text(1.01, 0.5, f"tau {float(gate.tau[j].detach()):.1f}", transform=ax.transAxes, fontsize=8, va="center")
    axes[0].set_title("phased time gate: openness k_t of five neurons (r_on = 0.2)")
    axes[-1].set_xlabel("time step")
    axes[2].set_ylabel("k_t")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    # a phased LSTM cell next to a plain one: on what share of neuron-steps does the cell state move?
    x = poisson((steps, 4, 8), 0.3, 1)
    shares = {}
    for name, options in (("plain", {}), ("phased", {"time_gate": "phased", "time_gate_options": {
            "tau_min": 10.0, "tau_max": 40.0, "r_on": 0.2, "alpha": 0.0}})):
        torch.manual_seed(0)
        cell = layer.SpikingLSTMCell(8, 64, step_mode="s", **options)
        changed, previous = [], None
        with torch.no_grad():
            for step in range(steps):
                cell(x[step])
                if previous is not None:
                    changed.append((cell.c != previous).float().mean())
                previous = cell.c.clone()
        functional.reset_net(cell)
        shares[name] = float(torch.stack(changed).mean())
    return {"mean_openness": float(k.mean()), "state_moves_plain": shares["plain"],
            "state_moves_phased": shares["phased"]}


def digits_as_rows():
    """Digits as sequences: T = 8 rows of 8 pixels, [T, N, 8]."""
    xs, ys = {}, {}
    for split in ("train", "test"):
        images, labels = load_digits(split)
        xs[split], ys[split] = images.permute(1, 0, 2).contiguous(), labels
    return xs, ys


def train(model, xs, ys, epochs: int, lr: float, batch_size: int = 64, seed: int = 0):
    """Adam on the cross-entropy of the logits averaged over T; returns (losses, test accuracy, seconds)."""
    generator = torch.Generator().manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    x, y = xs["train"], ys["train"]
    losses = []
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(x.shape[1], generator=generator)
        total = 0.0
        for i in range(0, x.shape[1], batch_size):
            idx = order[i:i + batch_size]
            logits = model(x[:, idx]).mean(0)
            loss = F.cross_entropy(logits, y[idx])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            functional.reset_net(model)
            total += float(loss.detach()) * idx.numel()
        losses.append(total / x.shape[1])
    seconds = time.perf_counter() - start
    with torch.no_grad():
        predicted = model(xs["test"]).mean(0).argmax(1)
        functional.reset_net(model)
    return losses, float((predicted == ys["test"]).float().mean()), seconds


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=IMG, help="folder for the figures")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (seconds): what the test runs")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs (default 30, quick 1)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    quick = args.quick
    epochs = args.epochs or (1 if quick else 30)
    start = time.perf_counter()
    results: dict = {}

    # 1. the two formulations, and their output spikes ------------------------------------------
    x = poisson((40, 1, 8), 0.3, 0)
    results["rates"] = figure_rasters(x, args.out / "slstm_rasters.png")
    for name, rate in results["rates"].items():
        print(f"{name}: {rate:.3f} output spikes per neuron and step (random weights, 30% input rate)")

    # 2. single-step = multi-step, and reset_net ------------------------------------------------
    x = poisson((25, 4, 8), 0.3, 1)
    results["single_vs_multi"] = {}
    for cell_type in (layer.SpikingLSTMCell, layer.SpikingGRUCell):
        for variant in VARIANTS:
            diff = single_vs_multi(cell_type, variant, x)
            results["single_vs_multi"][f"{cell_type.__name__}/{variant}"] = diff
            print(f"{cell_type.__name__} {variant}: max |multi-step - single-step loop| = {diff}")
    carried, again = reset_demo(x)
    results["reset"] = {"differs_without_reset": carried, "differs_after_reset": again}
    print(f"reset_net: a second call on the same input without reset differs in {100 * carried:.1f}% of its "
          f"outputs; after reset_net in {100 * again:.1f}%")

    # 3. the phased time gate ------------------------------------------------------------------
    results["phased"] = figure_phased(args.out / "slstm_phased_gate.png", 60 if quick else 120)
    phased = results["phased"]
    print(f"phased gate (r_on 0.2, alpha 0): mean openness {phased['mean_openness']:.3f}; the cell state moves on "
          f"{100 * phased['state_moves_phased']:.1f}% of neuron-steps (plain cell: "
          f"{100 * phased['state_moves_plain']:.1f}%)")

    # 4. a tiny training: digits, one row per step ------------------------------------------------
    xs, ys = digits_as_rows()
    if quick:
        xs = {k: v[:, :256] for k, v in xs.items()}
        ys = {k: v[:256] for k, v in ys.items()}
    hidden = 16 if quick else 128
    models = {
        "SLSTM spikingjelly": lambda: SLSTM(in_features=8, num_classes=10, hidden=hidden),
        "SLSTM snntorch": lambda: SLSTM(in_features=8, num_classes=10, hidden=hidden, variant="snntorch"),
        "SGRU spikingjelly": lambda: SGRU(in_features=8, num_classes=10, hidden=hidden),
        "nn.LSTM twin": lambda: SLSTM(in_features=8, num_classes=10, hidden=hidden, ann=True),
    }
    results["training"] = {}
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for name, build in models.items():
        torch.manual_seed(0)
        losses, accuracy, seconds = train(build(), xs, ys, epochs, lr=3e-3)
        results["training"][name] = {"losses": losses, "test_accuracy": accuracy, "seconds": seconds}
        print(f"{name:20s} hidden {hidden}: loss {losses[0]:.3f} -> {losses[-1]:.3f} in {epochs} epochs, "
              f"test accuracy {accuracy:.4f}, {seconds:.1f} s")
        ax.plot(range(1, epochs + 1), losses, "o-" if epochs < 5 else "-", label=f"{name} ({100 * accuracy:.1f}%)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training cross-entropy")
    ax.set_yscale("log")
    ax.set_title(f"digits, one row per step (T = 8), hidden {hidden}")
    ax.legend(fontsize=8, title="model (test accuracy)", title_fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out / "slstm_training.png", dpi=110)
    plt.close(fig)

    results["seconds"] = time.perf_counter() - start
    print(f"total {results['seconds']:.1f} s; figures in {args.out}")
    return results


if __name__ == "__main__":
    main()
