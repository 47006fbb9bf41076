"""LIF layer (tau = 2) at T x 32 x 16384 float32: spikesmith's fused kernel against its scan, the
peers and a same-bytes stream, measured in one process.

    python bench/bench_lif.py                      # T = 8, 32, 64, 128; 5 repeats
    python bench/bench_lif.py --T 32 --repeats 3   # quicker
    python bench/bench_lif.py --memory             # also peak RSS of forward+backward, fresh processes
    python bench/bench_lif.py --memory-only --T 8 32 64 128   # only that table
    python bench/bench_lif.py --T 32 128 --only fused          # the stream ratios alone (no scan, no peers)
    python bench/bench_lif.py --T 32 128 --only fused --threads 1 --clock cpu   # on a busy machine

Columns: forward (input requires grad, as in training), forward+backward (``s.backward(g)``), both
medians in ms. ``stream`` is ``torch.add(x, 1, out=y)`` over the same tensors (reads 4 and writes
4 bytes per neuron-step; a fused forward must move at least that, forward+backward twice that).
``saved B/step``: bytes per neuron-step that autograd keeps for the backward (``saved_tensors_hooks``),
all of them and without the input itself. ``spikesmith bounded (8)`` is the fused kernel under
``kernels.time_checkpoint(node, x, time_chunk=8)``: the bounded-memory mode (state every 8 steps;
the backward recomputes each chunk).
Peers: SpikingJelly 2.0 ``LIFNode(step_mode='m')``, snnTorch ``Leaky(beta=0.5)`` in its tutorial
loop, Norse ``LIF`` (its LIF has a synaptic current too), each where importable.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import warnings

import torch

warnings.filterwarnings("ignore")
BATCH, NEURONS = 32, 16384


CLOCK = time.perf_counter   # --clock cpu: time.process_time


def median_ms(fn, repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = CLOCK()
        fn()
        times.append(CLOCK() - t0)
    return statistics.median(times) * 1e3


# ----------------------------------------------------------------------------- implementations
def make_impls():
    """name -> factory() returning run(x) -> spikes [T, ...] with a fresh state."""
    from spikesmith import neuron

    impls = {}

    def spikesmith(backend):
        def factory():
            node = neuron.LIFNode(tau=2.0, step_mode="m", backend=backend)

            def run(x):
                node.reset()
                return node(x)
            return run
        return factory

    impls["spikesmith fused"] = spikesmith("cpu")

    def bounded():
        from spikesmith import kernels

        node = neuron.LIFNode(tau=2.0, step_mode="m", backend="cpu")

        def run(x):
            node.reset()
            return kernels.time_checkpoint(node, x, time_chunk=8)
        return run
    impls["spikesmith bounded (8)"] = bounded
    impls["spikesmith scan"] = spikesmith("torch")
    try:
        from spikingjelly.activation_based import neuron as sj_neuron

        def sj():
            node = sj_neuron.LIFNode(tau=2.0, step_mode="m")

            def run(x):
                node.reset()
                return node(x)
            return run
        impls["spikingjelly 2.0"] = sj
    except Exception:  # noqa: BLE001 - a peer that does not import is skipped
        pass
    try:
        import snntorch as snn

        def snnt():
            lif = snn.Leaky(beta=0.5)

            def run(x):
                mem = lif.init_leaky()
                out = []
                for xt in x.unbind(0):
                    spk, mem = lif(xt, mem)
                    out.append(spk)
                return torch.stack(out)
            return run
        impls["snntorch Leaky loop"] = snnt
    except Exception:  # noqa: BLE001
        pass
    try:
        from norse.torch import LIF, LIFParameters

        def norse():
            lif = LIF(p=LIFParameters(tau_mem_inv=torch.tensor(500.0)))

            def run(x):
                return lif(x)[0]
            return run
        impls["norse LIF"] = norse
    except Exception:  # noqa: BLE001
        pass
    return impls


def saved_bytes_per_step(run, x) -> tuple[float, float]:
    """Bytes per neuron-step of the tensors autograd keeps for the backward: all of them, and those
    other than the input itself (which the caller's graph holds anyway)."""
    storages = {}

    def pack(t):
        storages[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        run(x)
    total = sum(storages.values())
    other = total - storages.get(x.untyped_storage().data_ptr(), 0)
    return total / x.numel(), other / x.numel()


# ----------------------------------------------------------------------------- memory (child process)
def child_memory(name: str, T: int) -> None:
    impl = make_impls()[name]()
    x = (torch.randn(T, BATCH, NEURONS) * 0.5 + 0.6).requires_grad_(True)
    g = torch.randn(T, BATCH, NEURONS)
    impl(x[:1].detach())
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    impl(x).backward(g)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    # above the input, its gradient and the output (each the size of x)
    print((peak - base - 2 * x.numel() * 4) / (x.numel() * 4))


def memory_table(names, Ts) -> None:
    print("\npeak RSS of forward+backward, fresh process, in units of the input size, above input, "
          "output and input gradient")
    print(f"{'':24s}" + "".join(f"{'T=' + str(T):>10s}" for T in Ts))
    for name in names:
        row = []
        for T in Ts:
            res = subprocess.run([sys.executable, __file__, "--child-memory", name, str(T)], capture_output=True,
                                 text=True)
            try:
                row.append(f"{float(res.stdout.strip().splitlines()[-1]):10.2f}")
            except (ValueError, IndexError):
                row.append(f"{'err':>10s}")
        print(f"{name:24s}" + "".join(row))


# ----------------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--T", type=int, nargs="+", default=[8, 32, 64, 128])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--peer-repeats", type=int, default=3, help="repeats for the slow loops (scan and peers)")
    ap.add_argument("--memory", action="store_true")
    ap.add_argument("--memory-only", action="store_true", help="only the peak-memory table (fresh processes)")
    ap.add_argument("--reuse-memory", action="store_true",
                    help="keep freed memory in the process (kernels.reuse_freed_memory, as spikesmith train does); "
                         "applies to every implementation measured")
    ap.add_argument("--only", nargs="+", metavar="NAME",
                    help="measure only the implementations whose name contains one of these (e.g. 'fused'); "
                         "'spikesmith fused' is always measured, the speed-ups are against it")
    ap.add_argument("--threads", type=int, help="torch.set_num_threads (the kernels use as many)")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="cpu: the process's CPU time (time.process_time), which a machine shared with other "
                         "jobs inflates far less than wall time; with one thread it is that thread's time")
    ap.add_argument("--child-memory", nargs=2, metavar=("IMPL", "T"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_memory:
        child_memory(args.child_memory[0], int(args.child_memory[1]))
        return

    from spikesmith import kernels

    global CLOCK
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.clock == "cpu":
        CLOCK = time.process_time
    if args.reuse_memory:
        kernels.reuse_freed_memory()
    if not kernels.available():
        print("fused kernels unavailable:", kernels.unavailable_reason())
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, {args.clock} clock; LIF tau=2, T x {BATCH} x {NEURONS} float32; medians in ms; "
          f"freed memory {'reused' if kernels.reusing_freed_memory() else 'returned to the OS (glibc default)'}")
    impls = make_impls()
    if args.only:
        impls = {name: f for name, f in impls.items()
                 if name == "spikesmith fused" or any(word in name for word in args.only)}
    if args.memory_only:
        memory_table(list(impls), args.T)
        return
    results = {}
    for T in args.T:
        torch.manual_seed(0)
        x = torch.randn(T, BATCH, NEURONS) * 0.5 + 0.6
        y = torch.empty_like(x)
        g = torch.randn_like(x)
        xg = x.clone().requires_grad_(True)
        stream = median_ms(lambda: torch.add(x, 1, out=y), args.repeats)
        results[(T, "stream")] = (stream, None, None)
        for name, factory in impls.items():
            run = factory()
            reps = args.repeats if name.startswith("spikesmith") and name != "spikesmith scan" else args.peer_repeats

            def fwd():
                run(xg)

            def fwd_bwd():
                xg.grad = None
                run(xg).backward(g)

            f = median_ms(fwd, reps)
            fb = median_ms(fwd_bwd, reps)
            saved = saved_bytes_per_step(run, xg)
            results[(T, name)] = (f, fb, saved)
        print(f"\nT={T}: stream {stream:.1f} ms")
        print(f"  {'':24s}{'fwd':>9s}{'fwd+bwd':>10s}{'saved B/step':>14s}{'w/o input':>11s}{'fwd/stream':>12s}"
              f"{'f+b/stream':>12s}")
        for name in impls:
            f, fb, (saved, other) = results[(T, name)]
            print(f"  {name:24s}{f:9.1f}{fb:10.1f}{saved:14.2f}{other:11.2f}{f / stream:12.2f}{fb / stream:12.2f}")
        fused = results[(T, "spikesmith fused")]
        for name in impls:
            if name != "spikesmith fused":
                f, fb, _ = results[(T, name)]
                print(f"  speed-up of fused over {name:22s} fwd {f / fused[0]:6.1f}x   fwd+bwd {fb / fused[1]:6.1f}x")
    if 32 in args.T and 128 in args.T:
        for name in impls:
            a, b = results[(32, name)], results[(128, name)]
            print(f"time per step T=128 / T=32, {name:24s} fwd {b[0] / 128 / (a[0] / 32):5.2f}   "
                  f"fwd+bwd {b[1] / 128 / (a[1] / 32):5.2f}")
    if args.memory:
        memory_table(list(impls), args.T)


if __name__ == "__main__":
    main()
