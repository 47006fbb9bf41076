"""Per-step cost of the forgotten-reset check on a Linear-LIF network in step mode 's'.

    PYTHONPATH=src python bench/bench_reset_check.py [--steps 2000] [--repeat 7]

Times a training-style step loop (autograd on, T steps, then backward and reset) with the check on
('warn', the default) and off, interleaved in the same process; prints microseconds per step (the
best of the repeats) and the difference. Run it against an older checkout (PYTHONPATH=that/src) for 'before'.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from spikesmith import functional, neuron


def per_step_us(net, x, steps: int, T: int) -> float:
    start = time.perf_counter()
    for _ in range(steps // T):
        out = 0
        for t in range(T):
            out = out + net(x[t]).sum()
        out.backward()
        functional.reset_net(net)
    return (time.perf_counter() - start) / (steps // T * T) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--T", type=int, default=20)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    net = nn.Sequential(nn.Linear(args.width, args.width), neuron.LIFNode(tau=2.0),
                        nn.Linear(args.width, args.width), neuron.LIFNode(tau=2.0))
    x = torch.rand(args.T, args.batch, args.width)
    modes = ["warn", "off"] if hasattr(functional, "set_reset_check") else [None]
    per_step_us(net, x, args.steps // 4, args.T)           # warm up
    times = {mode: [] for mode in modes}
    for _ in range(args.repeat):                            # interleaved, so drift hits both alike
        for mode in modes:
            if mode is not None:
                functional.set_reset_check(mode)
            times[mode].append(per_step_us(net, x, args.steps, args.T))
    results = {mode: min(t) for mode, t in times.items()}
    for mode, best in results.items():
        print(f"reset check {mode or 'absent'}: {best:.1f} us per step (best of {args.repeat}; 2 LIF layers, "
              f"width {args.width}, batch {args.batch}, forward + backward)")
    if len(results) == 2:
        print(f"check cost: {results['warn'] - results['off']:.1f} us per step "
              f"({(results['warn'] / results['off'] - 1) * 100:.1f} %)")


if __name__ == "__main__":
    main()
