"""Inference of a trained CSNN checkpoint: dense eager, dense torch.compile and event_driven, with the
ReLU twin for scale, measured in one process on the Fashion-MNIST test set.

    python bench/bench_inference.py --checkpoint runs/csnn/checkpoint.pt
    python bench/bench_inference.py --checkpoint PATH --timed-batches 5 --no-compile    # quicker

The checkpoint is any CSNN (or other network) that ``spikesmith train`` wrote; T and the encoder come
from its config, the batch size is 256. Steps:

1. Agreement: the dense model and ``event_driven(model)`` run every test batch; the predictions
   (argmax of the mean output over T) and the spikes of every neuron layer are compared, and the spike
   flips (float reassociation can move a membrane across the threshold) are counted.
2. Speed: ``--timed-batches`` batches, each run by every variant in turn (so all see the same load on the
   machine), best of ``--repeats``; images/s from the wall clock and from this process's CPU time (one
   thread: the same on a quiet machine, and steadier on a loaded one). The speed-ups use CPU time.
3. Per layer: the input density of every Linear / Conv2d, the path event_driven took, and the time
   of each top-level layer in both models.

The last line reads ``event_driven speed-up over dense eager: X.Xx, identical predictions: Y.Y%``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import time
import warnings

import torch
from torch import nn


def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--timed-batches", type=int, default=8, help="batches in the timing (default 8)")
    p.add_argument("--repeats", type=int, default=3, help="timing rounds; the best is kept (default 3)")
    p.add_argument("--test-subset", type=int, default=None, help="agreement on the first N test images only")
    p.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    p.add_argument("--data-dir", default=None)
    return p.parse_args()


class Clock:
    """Wall and CPU seconds of a block."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def main() -> int:
    args = parse()
    torch.set_num_threads(args.threads)
    import spikesmith
    from spikesmith import functional
    from spikesmith.inference import event_driven, path_report
    from spikesmith.loading import open_checkpoint
    from spikesmith.neuron import BaseNode
    from spikesmith.training.batches import iterate_batches
    from spikesmith.training.setup import load_split, make_encoder
    from spikesmith.training.trainer import forward

    loaded = open_checkpoint(args.checkpoint)
    if loaded.kind != "trained":
        raise SystemExit(f"{args.checkpoint} holds a {loaded.kind} network; this bench reads spikesmith train's")
    net, cfg = spikesmith.load(args.checkpoint, config=True)
    if args.data_dir:
        cfg.data_dir = args.data_dir
    x_all, y_all, info = load_split(cfg, "test")
    if args.test_subset:
        x_all, y_all = x_all[: args.test_subset], y_all[: args.test_subset]
    batches = [(x, y) for x, y in iterate_batches(x_all, y_all, args.batch_size, shuffle=False, pad=False)]
    encoder = make_encoder(cfg, seed=cfg.seed + 12345)
    twin = loaded.ann_twin()
    twin_cfg = dataclasses.replace(cfg, ann=True)
    twin_encoder = make_encoder(twin_cfg, seed=0)

    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, threads "
          f"{torch.get_num_threads()}, load {os.getloadavg()[0]:.2f}")
    print(f"checkpoint: {args.checkpoint} ({loaded.model_name}, T={cfg.T}, encoder {cfg.encoder}); "
          f"{len(x_all)} test images, batch {args.batch_size}")

    def run(model, x, c=cfg, enc=encoder):
        functional.reset_net(model)
        with torch.no_grad():
            out = forward(model, x, c, enc, info.temporal)
        functional.reset_net(model)
        return out

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fast = event_driven(net)
    for w in caught:
        print(f"event_driven warning: {w.message}")

    # ------------------------------------------------------------------ 1. agreement on the test set
    neurons = [n for n, m in net.named_modules() if isinstance(m, BaseNode) and m.emits_spikes]
    flips = {n: 0 for n in neurons}
    totals = {n: 0 for n in neurons}
    seen: dict = {}

    def keep(tag, name):
        def hook(m, a, o):
            seen[(tag, name)] = (o[0] if isinstance(o, tuple) else o)
        return hook
    handles = [net.get_submodule(n).register_forward_hook(keep("dense", n)) for n in neurons]
    handles += [fast.get_submodule(n).register_forward_hook(keep("event", n)) for n in neurons]
    same = correct_dense = correct_event = 0
    calibration = None
    for i, (x, y) in enumerate(batches):
        a = run(net, x)
        with Clock() as first:
            b = run(fast, x)
        if i == 0:
            calibration = first.wall      # the first call measures each layer's crossover once
        pa, pb = a.mean(0).argmax(1), b.mean(0).argmax(1)
        same += int((pa == pb).sum())
        correct_dense += int((pa == y).sum())
        correct_event += int((pb == y).sum())
        for n in neurons:
            da, db = seen[("dense", n)], seen[("event", n)]
            flips[n] += int((da != db).sum())
            totals[n] += da.numel()
    for h in handles:
        h.remove()
    identical = 100.0 * same / len(x_all)
    print(f"\nagreement on {len(x_all)} images: identical predictions {identical:.2f}%, accuracy dense "
          f"{100 * correct_dense / len(x_all):.2f}%, event_driven {100 * correct_event / len(x_all):.2f}% "
          f"(first event_driven batch, with the crossover calibration: {calibration:.2f} s)")
    print("spike flips per neuron layer: " + ", ".join(
        f"{n}: {flips[n]} of {totals[n]} ({flips[n] / max(totals[n], 1):.1e})" for n in neurons))

    # ------------------------------------------------------------------ 2. speed
    variants = {"dense eager": (net, cfg, encoder), "event_driven": (fast, cfg, encoder)}
    compile_note = "skipped (--no-compile)"
    if not args.no_compile:
        try:
            compiled = torch.compile(net)
            with Clock() as c:
                run(compiled, batches[0][0])
            variants["dense torch.compile"] = (compiled, cfg, encoder)
            compile_note = f"compiled in {c.wall:.1f} s"
        except Exception as err:      # noqa: BLE001 -- report why compile does not work, and go on
            compile_note = f"failed: {type(err).__name__}: {str(err).splitlines()[0][:300]}"
    if twin is not None:
        variants["ReLU twin dense"] = (twin, twin_cfg, twin_encoder)
    print(f"\ntorch.compile: {compile_note}")
    timed = batches[: args.timed_batches]
    images = sum(len(x) for x, _ in timed)
    best = {name: [float("inf"), float("inf")] for name in variants}
    for model, c, enc in variants.values():
        run(model, timed[0][0], c, enc)                                       # warm up
    for _ in range(args.repeats):
        rounds = {name: [0.0, 0.0] for name in variants}
        for x, _ in timed:
            for name, (model, c, enc) in variants.items():
                with Clock() as clk:
                    run(model, x, c, enc)
                rounds[name][0] += clk.wall
                rounds[name][1] += clk.cpu
        for name in variants:
            best[name] = [min(best[name][0], rounds[name][0]), min(best[name][1], rounds[name][1])]
    base_cpu = best["dense eager"][1]
    print(f"\n{'variant':<22}{'images/s (wall)':>16}{'images/s (CPU)':>16}{'speed-up (CPU)':>16}")
    for name, (wall, cpu) in best.items():
        print(f"{name:<22}{images / wall:>16.0f}{images / cpu:>16.0f}{base_cpu / cpu:>15.2f}x")
    print(f"({images} images per round, best of {args.repeats} rounds; load now {os.getloadavg()[0]:.2f})")

    # ------------------------------------------------------------------ 3. per layer
    def per_layer(model):
        spent, start, dens = {}, {}, {}
        hs = []
        for n, m in model.named_children():
            def pre(mod, a, n=n):
                start[n] = time.process_time()
                if isinstance(mod, (nn.Linear, nn.Conv2d)) and isinstance(a[0], torch.Tensor):
                    d = dens.setdefault(n, [0, 0])
                    d[0] += int((a[0] != 0).sum())
                    d[1] += a[0].numel()
                    start[n] = time.process_time()

            def post(mod, a, o, n=n):
                spent[n] = spent.get(n, 0.0) + time.process_time() - start[n]
            hs += [m.register_forward_pre_hook(pre), m.register_forward_hook(post)]
        for x, _ in timed:
            run(model, x)
        for h in hs:
            h.remove()
        return spent, dens

    for layer_ in fast.modules():
        if hasattr(layer_, "reset_stats"):
            layer_.reset_stats()
    dense_t, dens = per_layer(net)
    event_t, _ = per_layer(fast)
    paths = {r["name"]: r for r in path_report(fast)}
    print(f"\nper layer over {len(timed)} batches (CPU ms per batch; density of the input of Linear/Conv)")
    print(f"{'layer':<7}{'module':<20}{'density':>9}{'path':>8}{'crossover':>10}{'dense ms':>10}{'event ms':>10}"
          f"{'speed-up':>9}")
    for n, m in net.named_children():
        d = dens.get(n)
        r = paths.get(n)
        td, te = dense_t.get(n, 0.0) / len(timed) * 1e3, event_t.get(n, 0.0) / len(timed) * 1e3
        density = "" if d is None else f"{d[0] / d[1]:.4f}"
        path = r["path"] if r else ""
        cross = "" if not r or r["crossover"] is None else f"{r['crossover']:.3f}"
        ratio = td / te if te > 0 else float("nan")
        print(f"{n:<7}{type(m).__name__:<20}{density:>9}{path:>8}{cross:>10}{td:>10.2f}{te:>10.2f}{ratio:>8.1f}x")
    speedup = base_cpu / best["event_driven"][1]
    print(f"event_driven speed-up over dense eager: {speedup:.1f}x, identical predictions: {identical:.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
