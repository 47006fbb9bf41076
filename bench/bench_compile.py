"""torch.compile over the CSNN: graph breaks and the compiled training step against eager, in one run.

    python bench/bench_compile.py --threads 1                 # inductor, 20 timed steps each
    python bench/bench_compile.py --backend aot_eager --steps 5

The network is ``spikesmith.models.CSNN`` as ``spikesmith train`` builds it for Fashion-MNIST (32
channels, LIF, membrane readout), T=4, batch 64, 28 x 28 inputs repeated over T. One training step =
zero_grad, reset, forward over T, cross-entropy of the mean output, backward, Adam step. The forward
and loss run compiled (``torch.compile(fullgraph=True)``; AOTAutograd compiles the backward with
it), the rest runs as it does in eager. Both models start from the same weights; the first compiled
step's loss and gradients are compared with eager's.

It prints the graph breaks ``torch._dynamo.explain`` finds in the forward, in inference
(``no_grad``) and in the training step (target 0), the compile time, and the median milliseconds
per step of eager and compiled training and inference, with their ratio.
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import statistics
import time
import warnings

import torch
from torch import nn

warnings.filterwarnings("ignore")
T, BATCH, CLASSES = 4, 64, 10


def loss_of(model, x_seq, target):
    """The compiled part of a training step: reset, forward, loss."""
    from spikesmith import functional

    functional.reset_net(model)
    return nn.functional.cross_entropy(model(x_seq).mean(0), target)


def infer(model, x_seq):
    from spikesmith import functional

    functional.reset_net(model)
    return model(x_seq)


def breaks(fn, *args) -> tuple[int, list[str]]:
    torch._dynamo.reset()
    report = torch._dynamo.explain(fn)(*args)
    return report.graph_break_count, [r.reason.splitlines()[0] for r in report.break_reasons]


def median_ms(fn, steps: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def trainer(model, loss_fn, x_seq, target):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn(model, x_seq, target).backward()
        opt.step()
    return step


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    ap.add_argument("--backend", default="inductor", help="torch.compile backend (default inductor)")
    ap.add_argument("--channels", type=int, default=32)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from spikesmith import kernels
    from spikesmith.models.csnn import CSNN

    kernels.reuse_freed_memory()
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; CSNN(channels={args.channels}), T={T}, batch {BATCH}, 28x28; "
          f"backend {args.backend!r}; median ms over {args.steps} steps")
    torch.manual_seed(0)
    eager = CSNN(channels=args.channels)
    compiled_model = copy.deepcopy(eager)
    x_seq = torch.rand(BATCH, 1, 28, 28).unsqueeze(0).repeat(T, 1, 1, 1, 1)
    target = torch.randint(0, CLASSES, (BATCH,))

    n_fwd, why_fwd = breaks(eager, x_seq)
    with torch.no_grad():
        n_inf, why_inf = breaks(lambda x: infer(eager, x), x_seq)
    n_step, why_step = breaks(lambda x, y: loss_of(eager, x, y), x_seq, target)
    for label, n, why in [("forward", n_fwd, why_fwd), ("inference", n_inf, why_inf), ("training step", n_step,
                                                                                         why_step)]:
        print(f"graph breaks ({label}): {n}" + (f"  {why}" if why else ""))

    torch._dynamo.reset()
    step_fn = torch.compile(loss_of, fullgraph=True, backend=args.backend)
    infer_fn = torch.compile(infer, fullgraph=True, backend=args.backend)
    t0 = time.perf_counter()
    loss_c = step_fn(compiled_model, x_seq, target)
    loss_c.backward()
    compile_train = time.perf_counter() - t0
    loss_e = loss_of(eager, x_seq, target)
    loss_e.backward()
    grad_diff = max(float((a.grad - b.grad).abs().max()) for a, b in zip(eager.parameters(),
                                                                         compiled_model.parameters()))
    with torch.no_grad():
        t0 = time.perf_counter()
        out_c = infer_fn(compiled_model, x_seq)
        compile_infer = time.perf_counter() - t0
        out_diff = float((out_c - infer(eager, x_seq)).abs().max())
    print(f"first compiled step against eager: loss {loss_c.item():.6f} vs {loss_e.item():.6f}, "
          f"max |grad diff| {grad_diff:.2e}; inference max |output diff| {out_diff:.2e}")
    print(f"compile time: training step {compile_train:.1f} s, inference {compile_infer:.1f} s")

    rows = []
    train_e = median_ms(trainer(eager, loss_of, x_seq, target), args.steps)
    train_c = median_ms(trainer(compiled_model, step_fn, x_seq, target), args.steps)
    rows.append(("training step", train_e, train_c))
    with torch.no_grad():
        inf_e = median_ms(lambda: infer(eager, x_seq), args.steps)
        inf_c = median_ms(lambda: infer_fn(compiled_model, x_seq), args.steps)
    rows.append(("inference", inf_e, inf_c))
    print(f"{'':16s}{'eager ms':>10s}{'compiled ms':>13s}{'eager / compiled':>18s}")
    for name, e, c in rows:
        print(f"{name:16s}{e:10.1f}{c:13.1f}{e / c:18.2f}")
    print(f"graph breaks: {n_fwd + n_inf + n_step} (target 0); compiled training step {train_e / train_c:.2f}x eager")


if __name__ == "__main__":
    main()
