"""What synaptic delays cost: one forward + backward of a layer of synapses in_features -> out_features
over T steps, with no delay (``layer.Linear``), fixed integer delays (``layer.DelayedLinear``), learnable
delays in training (``layer.LearnableDelay``: Gaussian taps, a causal convolution) and in eval (rounded,
exact shifts, forward only), measured in one process. Median milliseconds; ratios against the Linear.

    python bench/bench_delays.py                       # the DCLS SHD layer: 140 -> 256, T=100, N=64, D=25
    python bench/bench_delays.py --in 8 --out 64 --T 60 --D 45 --threads 1

Each delayed layer costs about (number of distinct delays) or (D + 1) products of the Linear's size.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from spikesmith import layer


def timed(fn, repeats: int) -> float:
    fn()
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return 1e3 * statistics.median(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--in", dest="n_in", type=int, default=140)
    p.add_argument("--out", dest="n_out", type=int, default=256)
    p.add_argument("--T", type=int, default=100)
    p.add_argument("--N", type=int, default=64)
    p.add_argument("--D", type=int, default=25)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    x = (torch.rand(a.T, a.N, a.n_in) < 0.05).float()
    plain = layer.Linear(a.n_in, a.n_out, bias=False, step_mode="m")
    fixed = layer.DelayedLinear(a.n_in, a.n_out, torch.randint(0, a.D + 1, (a.n_out, a.n_in)), bias=False,
                                step_mode="m")
    learn = layer.LearnableDelay(a.n_in, a.n_out, max_delay=a.D, bias=False, step_mode="m")
    learn.set_sigma(0.5)

    def train(m):
        return lambda: m(x).square().mean().backward()

    def infer(m):
        def run():
            with torch.no_grad():
                m(x)
        return run

    rows = [("Linear (no delay)", train(plain)), ("DelayedLinear (fixed)", train(fixed)),
            ("LearnableDelay, training", train(learn))]
    base = None
    print(f"in {a.n_in} -> out {a.n_out}, T={a.T}, N={a.N}, D={a.D}, {a.threads} thread(s); forward + backward")
    for name, fn in rows:
        ms = timed(fn, a.repeats)
        base = base or ms
        print(f"  {name:28s} {ms:9.2f} ms  {ms / base:6.1f}x")
    learn.eval()
    ms = timed(infer(learn), a.repeats)
    print(f"  {'LearnableDelay, eval (fwd)':28s} {ms:9.2f} ms  {ms / base:6.1f}x")


if __name__ == "__main__":
    main()
