"""One PSN layer against our fused LIF at T x 32 x 16384 float32, measured in one process, 1 thread.

    python bench/psn_speed.py                    # T = 32, 5 repeats
    python bench/psn_speed.py --T 8 32 --repeats 3

Each line is the median over ``repeats`` of a forward (input requires grad, as in training) and of a
forward + backward (``s.backward(g)``), in ms, and their ratio to ``LIFNode(tau=2, step_mode='m')`` on
its default backend (the fused C++ kernel); the LIF on ``scan`` (one Python step per time step, what
the PSN paper compares against) is shown for context. The PSN's forward is one T x T by T x (32 * 16384)
matrix product and a threshold; the masked PSN multiplies W by its band first; the sliding PSN
builds its T x T Toeplitz matrix from the kernel. None of them keep a state or loop over time.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch

BATCH, NEURONS = 32, 16384


def median_ms(fn, repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def layers(T: int) -> dict:
    from spikesmith import neuron

    return {
        "LIFNode (fused, default)": lambda: neuron.LIFNode(tau=2.0, step_mode="m"),
        "LIFNode (scan, per-step loop)": lambda: neuron.LIFNode(tau=2.0, step_mode="m", backend="torch"),
        "PSN": lambda: neuron.PSN(T=T),
        "MaskedPSN (k=2, lambda=1)": lambda: neuron.MaskedPSN(k=2, T=T, lambda_init=1.0),
        "SlidingPSN (k=2)": lambda: neuron.SlidingPSN(k=2),
    }


def measure(T: int, repeats: int) -> dict:
    from spikesmith import functional

    g = torch.Generator().manual_seed(0)
    x = (torch.rand(T, BATCH, NEURONS, generator=g) * 1.5).requires_grad_(True)
    grad = torch.rand(T, BATCH, NEURONS, generator=g)
    out = {}
    for name, make in layers(T).items():
        node = make()

        def forward():
            functional.reset_net(node)
            return node(x)

        def forward_backward():
            x.grad = None
            forward().backward(grad)

        out[name] = (median_ms(forward, repeats), median_ms(forward_backward, repeats))
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--T", type=int, nargs="+", default=[32])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, 1 thread, "
          f"load {os.getloadavg()[0]:.2f}, shape T x {BATCH} x {NEURONS} float32")
    for T in args.T:
        rows = measure(T, args.repeats)
        lif_f, lif_fb = rows["LIFNode (fused, default)"]
        print(f"\nT = {T}{'':23s} forward ms  ratio   fwd+bwd ms  ratio")
        for name, (f, fb) in rows.items():
            print(f"  {name:28s} {f:9.1f}  {f / lif_f:5.2f}x  {fb:10.1f}  {fb / lif_fb:5.2f}x")
    print(f"\nload at the end {os.getloadavg()[0]:.2f} (ratio < 1: faster than the fused LIF)")


if __name__ == "__main__":
    main()
