"""The density below which a layer's sparse path beats its dense one, measured once per geometry.

``calibrate(layer, sample)`` times the layer's dense product and its sparse kernels on synthetic spikes
of the sample's shape (at most 256 rows, densities 2% and 25%, the best of five rounds of at least 2 ms
each, so that other load on the machine counts less), fits ``t_sparse(d) = a + b d`` and returns the density
where it meets ``t_dense``, clipped to [0, 1]. The result is kept for the process and on disk
(``$SPIKESMITH_CACHE/kernels/sparse_crossover.json``, written atomically), keyed by the layer's
geometry, the threads and the CPU, so that each geometry is measured once per machine.
"""

from __future__ import annotations

import hashlib
import json
import time

import torch
from torch import Tensor

from ..atomic import write_json
from ..kernels import _build

DENSITIES = (0.02, 0.25)
ROWS = 256
_CACHE: dict = {}


def cache_file():
    return _build.cache_dir() / "sparse_crossover.json"


def _key(layer, sample: Tensor) -> str:
    if layer.kind == "linear":
        geometry = ("linear", layer.in_features, layer.out_features, layer.bias is not None)
    else:
        geometry = ("conv", layer.in_channels, layer.out_channels, *layer.kernel_size, *layer.stride, *layer.padding,
                    layer.bias is not None, *sample.shape[-2:])
    cpu = hashlib.sha256(_build._cpu_signature().encode()).hexdigest()[:8]
    return "/".join(str(g) for g in (*geometry, f"threads={torch.get_num_threads()}", cpu))


def _best(fn, reps: int = 5, least: float = 2e-3) -> float:
    """Seconds per call of ``fn``: the best of ``reps`` rounds, each of enough calls to last ``least``."""
    fn()
    calls, start = 1, time.perf_counter()
    fn()
    one = time.perf_counter() - start
    calls = max(1, int(least / max(one, 1e-6)))
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return max(best, 1e-9)


def measure(layer, sample: Tensor) -> float:
    """The crossover density of ``layer`` on inputs shaped like ``sample`` (rows first), measured now."""
    rows = min(ROWS, sample.shape[0])
    shape = (rows, *sample.shape[1:])
    g = torch.Generator().manual_seed(0)
    dense_x = (torch.rand(shape, generator=g) < 0.1).float()
    run = layer._run2 if layer.kind == "linear" else layer._run4
    saved = (layer.mode, layer.stats)
    layer.stats = type(saved[1])()           # the measurement's calls are not the layer's
    try:
        with torch.no_grad():
            t_dense = _best(lambda: layer.dense(dense_x))
            layer.mode = "sparse"
            times = []
            for d in DENSITIES:
                x = (torch.rand(shape, generator=g) < d).float()
                times.append(_best(lambda: run(x)))
    finally:
        layer.mode, layer.stats = saved
    (d0, d1), (t0, t1) = DENSITIES, times
    slope = (t1 - t0) / (d1 - d0)
    if slope <= 0:           # noise: the sparse time did not grow with density; trust the dearer point
        return 1.0 if t1 < t_dense else 0.0
    return float(min(1.0, max(0.0, d0 + (t_dense - t0) / slope)))


def _read_disk() -> dict:
    try:
        return json.loads(cache_file().read_text())
    except (OSError, ValueError):
        return {}


def calibrate(layer, sample: Tensor) -> float:
    """The cached crossover of ``layer``'s geometry, measured (``measure``) the first time."""
    key = _key(layer, sample)
    if key in _CACHE:
        return _CACHE[key]
    disk = _read_disk()
    if isinstance(disk.get(key), (int, float)):
        _CACHE[key] = float(disk[key])
        return _CACHE[key]
    value = measure(layer, sample)
    _CACHE[key] = value
    disk = _read_disk()
    disk[key] = value
    try:
        write_json(cache_file(), disk)
    except OSError:
        pass                 # a read-only cache: measured again in the next process
    return value
