"""Tutorial: online training through time, OTTT and SLTT (docs/tutorials/online_training.md).

Checks OTTT's weight gradient against the trace formula written out by hand, measures what autograd
keeps for backward over one training step at growing T (BPTT against OTTT and SLTT), and trains a
small FCSNN on scikit-learn's digits with BPTT, OTTT, SLTT and SLTT-1. Every figure goes to
``--out`` (default: docs/tutorials/img).

    PYTHONPATH=src python docs/tutorials/online_training.py            # about a minute, 1 thread
    PYTHONPATH=src python docs/tutorials/online_training.py --quick    # a few seconds (the test's)
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
from torch import nn  # noqa: E402

from spikesmith import functional, layer, neuron  # noqa: E402
from spikesmith.data.digits import load_digits  # noqa: E402
from spikesmith.models import CSNN, FCSNN  # noqa: E402
from spikesmith.training.online import online_step  # noqa: E402
from spikesmith.training.saved_memory import SavedTensorsMeter  # noqa: E402
from spikesmith.viz._common import save_png  # noqa: E402

IMG = Path(__file__).resolve().parent / "img"
METHODS = {"BPTT": None, "OTTT": ("ottt", None), "SLTT": ("sltt", None), "SLTT-1": ("sltt", 1)}


def trace_formula_check(T: int = 8) -> dict:
    """One Linear(4, 2) -> LIF(tau=2): OTTT's weight gradient against (1/T) sum_t delta_t^T a_hat[t]."""
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(T, 3, 4, generator=g, dtype=torch.float64) < 0.5).double()
    c = torch.randn(T, 3, 2, generator=g, dtype=torch.float64)
    net = nn.Sequential(layer.Linear(4, 2, bias=False, step_mode="m"), neuron.LIFNode(tau=2.0)).double()
    with torch.no_grad():
        net[0].weight.copy_(torch.randn(2, 4, generator=g, dtype=torch.float64) * 1.2)
    W = net[0].weight.detach().clone()
    online_step(net, x, lambda out, t: (c[t] * out).sum(), method="ottt")
    v, a_hat = torch.zeros(3, 2, dtype=torch.float64), torch.zeros(3, 4, dtype=torch.float64)
    with_trace, without = torch.zeros_like(W), torch.zeros_like(W)
    for t in range(T):
        a_hat = 0.5 * a_hat + x[t]                              # lambda = 1 - 1/tau = 0.5
        h = v + (x[t] @ W.T - v) / 2.0
        sg = torch.sigmoid(4 * (h - 1.0))
        delta = c[t] * 4 * sg * (1 - sg) / 2.0                  # dl_t/dI[t]: surrogate at step t, times 1/tau
        with_trace += delta.T @ a_hat / T
        without += delta.T @ x[t] / T                           # what SLTT takes
        v = h * (h < 1.0).double()
    return {"max_abs_error": float((net[0].weight.grad - with_trace).abs().max()),
            "trace_vs_plain": float((with_trace - without).abs().max())}


def saved_bytes(model: nn.Module, T: int, method) -> int:
    """The peak of what autograd holds for backward over one training step (batch of 8 images)."""
    torch.manual_seed(0)
    images = torch.rand(8, 1, 28, 28)
    x, y = images.expand(T, *images.shape), torch.randint(0, 10, (8,))
    with SavedTensorsMeter() as meter:
        if method is None:
            F.cross_entropy(model(x).mean(0), y).backward()
        else:
            online_step(model, x, lambda out, t: F.cross_entropy(out, y), method=method[0], k=method[1])
    functional.reset_net(model)
    model.zero_grad()
    return meter.peak


def figure_memory(Ts, channels: int, path: Path) -> dict:
    model = CSNN(in_channels=1, num_classes=10, channels=channels)
    curves = {name: [saved_bytes(model, T, method) / 2**20 for T in Ts] for name, method in METHODS.items()}
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for name, mib in curves.items():
        ax.plot(Ts, mib, marker="o", label=name)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("time steps T")
    ax.set_ylabel("saved for backward, peak (MiB)")
    ax.set_title(f"one training step of a CSNN ({channels} channels, batch 8)")
    ax.legend()
    fig.tight_layout()
    save_png(fig, path)
    plt.close(fig)
    return curves


def train(method, x_train, y_train, x_test, y_test, T: int, epochs: int, hidden: int, seed: int = 0):
    """Adam, batches of 64, direct encoding (each image repeated T times); test accuracy per epoch."""
    torch.manual_seed(seed)
    model = FCSNN(in_shape=(64,), num_classes=10, hidden=hidden)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    generator = torch.Generator().manual_seed(seed)
    accuracies = []
    for _ in range(epochs):
        order = torch.randperm(len(x_train), generator=generator)
        for i in range(0, len(order), 64):
            xb, yb = x_train[order[i:i + 64]], y_train[order[i:i + 64]]
            x_seq = xb.expand(T, *xb.shape)
            opt.zero_grad(set_to_none=True)
            if method is None:
                F.cross_entropy(model(x_seq).mean(0), yb).backward()
            else:
                online_step(model, x_seq, lambda out, t: F.cross_entropy(out, yb), method=method[0], k=method[1],
                            generator=generator)
            opt.step()
            functional.reset_net(model)
        with torch.no_grad():
            pred = model(x_test.expand(T, *x_test.shape)).mean(0).argmax(1)
        functional.reset_net(model)
        accuracies.append(float((pred == y_test).float().mean()))
    return accuracies


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=IMG, help="folder for the figures")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (seconds): what the test runs")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    quick = args.quick
    start = time.perf_counter()
    results: dict = {}

    # 1. the gradient: OTTT against the trace formula -------------------------------------------
    results["gradient"] = check = trace_formula_check()
    print(f"OTTT weight gradient against the trace formula by hand: max |difference| = {check['max_abs_error']:.1e}; "
          f"the trace changes it by up to {check['trace_vs_plain']:.3f} against the plain input (SLTT's)")

    # 2. memory against T -------------------------------------------------------------------------
    Ts = [2, 4, 8] if quick else [2, 4, 8, 16, 32]
    results["memory"] = curves = figure_memory(Ts, 2 if quick else 16, args.out / "online_memory.png")
    results["memory_T"] = Ts
    for name, mib in curves.items():
        print(f"{name:>6}: saved for backward at T = {', '.join(map(str, Ts))}: "
              f"{', '.join(f'{m:.2f}' for m in mib)} MiB ({mib[-1] / mib[0]:.2f}x from T={Ts[0]} to T={Ts[-1]})")

    # 3. training on the digits --------------------------------------------------------------------
    x_train, y_train = load_digits("train")
    x_test, y_test = load_digits("test")
    x_train, x_test = x_train.flatten(1), x_test.flatten(1)
    if quick:
        x_train, y_train, x_test, y_test = x_train[:256], y_train[:256], x_test[:128], y_test[:128]
    epochs, hidden, T = (1, 32, 4) if quick else (15, 128, 4)
    results["training"] = {}
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for name, method in METHODS.items():
        t0 = time.perf_counter()
        acc = train(method, x_train, y_train, x_test, y_test, T, epochs, hidden)
        results["training"][name] = {"accuracy": acc[-1], "seconds": time.perf_counter() - t0}
        print(f"{name:>6}: test accuracy {100 * acc[-1]:.2f}% after {epochs} epochs (T={T}), "
              f"{time.perf_counter() - t0:.1f} s")
        ax.plot(range(1, epochs + 1), [100 * a for a in acc], marker=".", label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"FCSNN ({hidden} LIF) on the digits, T={T}")
    ax.legend()
    fig.tight_layout()
    save_png(fig, args.out / "online_accuracy.png")
    plt.close(fig)
    print(f"done in {time.perf_counter() - start:.1f} s")
    return results


if __name__ == "__main__":
    main()
