"""Write small SHD/SSC files in exactly the published layout (h5py variable-length arrays)."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np

KEYS = tuple(f"english {w}" for w in ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                                       "nine")) + tuple(f"german {w}" for w in ("null", "eins", "zwei", "drei",
                                                                                "vier", "fuenf", "sechs", "sieben",
                                                                                "acht", "neun"))


def make_samples(n: int, seed: int = 0, max_time: float = 1.2, num_classes: int = 20):
    """``n`` random samples: per-sample float32 times (sorted), uint16 units < 700, labels, speakers."""
    rng = np.random.default_rng(seed)
    times, units = [], []
    for i in range(n):
        k = int(rng.integers(0 if i == 1 else 5, 60)) if i != 1 else 0          # sample 1 has no spikes
        times.append(np.sort(rng.uniform(0, max_time, k)).astype(np.float32))
        units.append(rng.integers(0, 700, k).astype(np.uint16))
    labels = rng.integers(0, num_classes, n).astype(np.uint8)
    speakers = rng.integers(0, 12, n).astype(np.uint16)
    return times, units, labels, speakers


def write_spike_file(path, times, units, labels, speakers=None, keys=KEYS, skip=(), gz=False) -> Path:
    """The SHD layout; ``skip`` leaves out groups or datasets by path; ``gz`` gzips the file (``.h5.gz``)."""
    import h5py

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    h5 = path.with_name(path.name.removesuffix(".gz")) if gz else path
    with h5py.File(h5, "w") as f:
        if "spikes" not in skip:
            spikes = f.create_group("spikes")
            for name, values, base in (("times", times, np.float32), ("units", units, np.uint16)):
                if f"spikes/{name}" in skip:
                    continue
                ds = spikes.create_dataset(name, (len(values),), dtype=h5py.vlen_dtype(np.dtype(base)))
                for i, v in enumerate(values):
                    ds[i] = v
        if "labels" not in skip:
            f.create_dataset("labels", data=np.asarray(labels))
        if "extra" not in skip:
            extra = f.create_group("extra")
            if speakers is not None:
                extra.create_dataset("speaker", data=np.asarray(speakers))
            extra.create_dataset("keys", data=np.array([k.encode() for k in keys]))
            meta = extra.create_group("meta_info")
            meta.create_dataset("gender", data=np.array([b"female", b"male"] * 6))
            meta.create_dataset("age", data=np.arange(20, 32, dtype=np.uint16))
            meta.create_dataset("body_height", data=np.linspace(150, 190, 12).astype(np.float32))
    if gz:
        with open(h5, "rb") as src, gzip.open(path, "wb") as dst:
            shutil.copyfileobj(src, dst)
        h5.unlink()
    return path
