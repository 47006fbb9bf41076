"""Static images to events: how many events the saccade simulator makes per Fashion-MNIST image and
how fast it converts, against simulating the images one at a time, measured in one process.

    python bench/bench_events.py                     # 2048 images, the default simulator settings
    python bench/bench_events.py --samples 512       # quicker

Rows (samples per second, higher is better):
    batched simulator     saccade_events_batch on chunks of --chunk images (what NeuromorphicFashionMNIST uses)
    one image at a time   saccade_events per image: the reference the ratio is taken against
    to frames             to_frame(..., n_time_bins=T) per sample (what the trainer's frames cost)

Events per sample are reported for the images converted here and, where the NeuromorphicFashionMNIST
cache of the whole training set exists (after `spikesmith train --dataset nfmnist`), for all of it.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch


def _stats(counts: np.ndarray) -> str:
    q = np.percentile(counts, [5, 50, 95])
    return (f"mean {counts.mean():.0f}, median {q[1]:.0f}, 5-95% {q[0]:.0f}-{q[2]:.0f}, "
            f"min {counts.min()}, max {counts.max()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=2048, help="images converted by the batched simulator")
    ap.add_argument("--reference-samples", type=int, default=256, help="images simulated one at a time")
    ap.add_argument("--chunk", type=int, default=256, help="images per batched call (the dataset's default)")
    ap.add_argument("--threshold", type=float, default=0.2)
    ap.add_argument("--steps-per-saccade", type=int, default=40)
    ap.add_argument("--T", type=int, default=8, help="time bins of the frames")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    from spikesmith.data.mnist import load_fashion_mnist
    from spikesmith.events import simulate
    from spikesmith.events.frames import to_frame

    images, _ = load_fashion_mnist(split="train", download=False)
    images = images[: args.samples].numpy()
    opts = {"threshold": args.threshold, "steps_per_saccade": args.steps_per_saccade}
    print(f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, numpy {np.__version__}, "
          f"threads {torch.get_num_threads()}; threshold {args.threshold}, {args.steps_per_saccade} steps per saccade")

    t0 = time.perf_counter()
    events: list[np.ndarray] = []
    for s in range(0, len(images), args.chunk):
        evs, sensor = simulate.saccade_events_batch(images[s:s + args.chunk], rng=0, **opts)
        events.extend(evs)
    batched = len(images) / (time.perf_counter() - t0)

    n_ref = min(args.reference_samples, len(images))
    t0 = time.perf_counter()
    for i in range(n_ref):
        ev, _ = simulate.saccade_events(images[i], rng=0, **opts)
        if i < 4 and not np.array_equal(ev, events[i]):
            raise SystemExit(f"image {i}: the batched and one-at-a-time simulators disagree")
    single = n_ref / (time.perf_counter() - t0)

    t0 = time.perf_counter()
    for ev in events:
        to_frame(ev, sensor, n_time_bins=args.T)
    framing = len(events) / (time.perf_counter() - t0)

    print(f"{'row':<22} {'samples/s':>10} {'vs one at a time':>17}")
    for name, rate in (("batched simulator", batched), ("one image at a time", single), (f"to frames (T={args.T})", framing)):
        print(f"{name:<22} {rate:>10.0f} {rate / single:>16.1f}x")
    counts = np.array([len(e) for e in events])
    print(f"events per sample ({len(events)} images converted here): {_stats(counts)}")
    print(f"whole training set at this rate: {60000 / batched / 60:.1f} min to convert")
    from spikesmith.data.events_datasets import NeuromorphicFashionMNIST, default_cache_dir

    # only where the whole set is cached already (converting it here would take minutes)
    if args.threshold == 0.2 and args.steps_per_saccade == 40 and \
            any(default_cache_dir("nfmnist").glob("events_train_saccade_*.npz")):
        ds = NeuromorphicFashionMNIST("train", threshold=args.threshold, steps_per_saccade=args.steps_per_saccade)
        print(f"events per sample (whole training set, {len(ds)} images, cached): {_stats(ds.events_per_sample())}")
    else:
        print("(whole training set: no cache; `spikesmith train --dataset nfmnist` makes it)")


if __name__ == "__main__":
    main()
