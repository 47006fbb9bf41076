"""Event-camera datasets: N-MNIST, DVS128 Gesture and a NeuromorphicFashionMNIST made here.

Every dataset yields ``(sample, label)`` where ``sample`` is an event array
(:data:`spikesmith.events.EVENT_DTYPE`) or, with ``transform``, whatever the transform returns.
``to_frames(n_time_bins)`` turns a whole dataset into event-count frames ``[T, P, H, W]`` once,
caches them on disk as integers (uint8 when every count fits, else int16/int32, never float32) and
returns a :class:`FrameDataset` that gives float32 ``[T, P, H, W]`` tensors (a DataLoader then
batches ``[N, T, P, H, W]``).

Folder layouts read (nothing is downloaded):

* N-MNIST (Orchard et al. 2015, the unzipped ``Train.zip`` / ``Test.zip``)::

      root/Train/<digit>/<id>.bin      root/Test/<digit>/<id>.bin

* DVS128 Gesture (Amir et al. 2017, the unpacked ``DvsGesture.tar.gz``)::

      root/DvsGesture/trials_to_train.txt   trials_to_test.txt   (one .aedat name per line)
      root/DvsGesture/user01_fluorescent.aedat                    (AEDAT 3.1)
      root/DvsGesture/user01_fluorescent_labels.csv               (class,startTime_usec,endTime_usec)

  (``root`` may also be the ``DvsGesture`` folder itself). Each labels row is one sample: the
  events of that recording with ``start <= t < end``, label ``class - 1``.

* NeuromorphicFashionMNIST: Fashion-MNIST images (:func:`spikesmith.data.load_fashion_mnist`)
  turned into events by :mod:`spikesmith.events.simulate` (``method="saccade"`` by default, 34 x 34
  x 2 like N-MNIST) the first time a split is used, then cached in ``cache_dir`` as compressed
  integer columns.

Example::

    ds = NeuromorphicFashionMNIST(split="test", limit=1000)
    events, label = ds[0]
    frames = ds.to_frames(n_time_bins=10)          # FrameDataset, frames uint8 [1000, 10, 2, 34, 34]
    x, y = frames[0]                               # float32 [10, 2, 34, 34], int64
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch.utils.data import Dataset

from spikesmith.atomic import atomic_write
from spikesmith.data.locate import check_split
from spikesmith.data.mnist import FASHION_MNIST_CLASSES, load_fashion_mnist
from spikesmith.events.core import EVENT_DTYPE, check_sensor_size
from spikesmith.events.formats._common import DEFAULT_TIMESTAMPS, check_timestamp_policy
from spikesmith.events.formats import aedat3, atis
from spikesmith.events.frames import check_output_size, to_frame

DVSGESTURE_CLASSES: tuple[str, ...] = (
    "hand clapping", "right hand wave", "left hand wave", "right arm clockwise",
    "right arm counter clockwise", "left arm clockwise", "left arm counter clockwise",
    "arm roll", "air drums", "air guitar", "other gestures",
)
CACHE_VERSION = 1


def default_cache_dir(name: str) -> Path:
    """``$SPIKESMITH_DATA/<name>`` if that variable is set, else ``~/.cache/spikesmith/<name>``."""
    base = os.environ.get("SPIKESMITH_DATA")
    return (Path(base) if base else Path.home() / ".cache" / "spikesmith") / name


def _key_hash(key: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]


def _smallest_int(max_value: int) -> np.dtype:
    for dt in (np.uint8, np.int16, np.int32):
        if max_value <= np.iinfo(dt).max:
            return np.dtype(dt)
    return np.dtype(np.int64)


def _save_npz(path: Path, arrays: dict[str, np.ndarray], key: dict[str, Any]) -> None:
    meta = np.frombuffer(json.dumps(key, sort_keys=True).encode(), dtype=np.uint8)
    with atomic_write(path) as f:
        np.savez_compressed(f, _key=meta, **arrays)


def _load_npz(path: Path, key: dict[str, Any], names: tuple[str, ...]) -> dict[str, np.ndarray] | None:
    """The cached arrays if ``path`` holds them for exactly ``key``; None (rebuild) otherwise."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            if json.loads(z["_key"].tobytes().decode()) != json.loads(json.dumps(key, sort_keys=True)):
                return None
            return {n: z[n] for n in names}
    except (OSError, ValueError, KeyError, EOFError):
        return None  # a corrupt or foreign cache is rebuilt, not trusted


class FrameDataset(Dataset):
    """Event-count frames held as integers; items are float32 ``[T, P, H, W]`` and an int64 label."""

    def __init__(self, frames: torch.Tensor, targets: torch.Tensor, sensor_size: tuple[int, int, int],
                 classes: tuple[str, ...]):
        if frames.ndim != 5 or frames.shape[0] != targets.shape[0]:
            raise ValueError(f"FrameDataset: frames must be [N, T, P, H, W] with N = len(targets), got "
                             f"{list(frames.shape)} and {list(targets.shape)}")
        if frames.is_floating_point():
            raise ValueError("FrameDataset: frames must hold integer counts, got a float tensor")
        self.frames, self.targets = frames, targets.to(torch.int64)
        self.sensor_size, self.classes = sensor_size, classes

    def __len__(self) -> int:
        return self.frames.shape[0]

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.frames[i].to(torch.float32), self.targets[i]

    def __repr__(self) -> str:
        return f"FrameDataset(frames={list(self.frames.shape)} {self.frames.dtype}, classes={len(self.classes)})"


MAX_DATASET_FRAME_BYTES = 16 << 30
"""Default ``max_bytes`` of :meth:`EventDataset.to_frames`: 16 GiB (N-MNIST's 60,000 samples at
T=10 take 1.4 GB; a stray ``n_time_bins`` would ask for far more)."""


class EventDataset(Dataset):
    """Base class: ``(events, label)`` samples, an optional ``transform``, and cached frames."""

    name = "events"
    classes: tuple[str, ...] = ()

    def __init__(self, sensor_size: tuple[int, int, int], transform: Callable[[np.ndarray], Any] | None,
                 cache_dir: str | os.PathLike | None):
        self.sensor_size = check_sensor_size(sensor_size)
        self.transform = transform
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir(self.name)

    def events(self, i: int) -> np.ndarray:
        """The raw events of sample ``i``."""
        raise NotImplementedError(f"{type(self).__name__} must define events(i)")

    def label(self, i: int) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define label(i)")

    def cache_key(self) -> dict[str, Any]:
        """What the samples depend on; frame caches are reused only for an equal key."""
        raise NotImplementedError(f"{type(self).__name__} must define cache_key()")

    def __getitem__(self, i: int) -> tuple[Any, int]:
        if not -len(self) <= i < len(self):
            raise IndexError(f"{type(self).__name__}: index {i} out of range for {len(self)} samples")
        i %= len(self)
        ev = self.events(i)
        return (self.transform(ev) if self.transform is not None else ev), self.label(i)

    def to_frames(self, n_time_bins: int, cache: bool = True,
                  max_bytes: int | None = MAX_DATASET_FRAME_BYTES) -> FrameDataset:
        """All samples as event-count frames ``[N, T, P, H, W]`` (time split in ``n_time_bins`` equal bins).

        The integer frames are cached in ``cache_dir`` (compressed ``.npz``, keyed by the dataset's
        parameters and ``n_time_bins``) and reused on the next call. ``transform`` is not applied.
        Frames of more than ``max_bytes`` (as uint8, the smallest they can be) are refused before
        anything is allocated: the error names the size and the option (``None``: no limit).
        """
        w, h, p = self.sensor_size
        check_output_size((len(self), int(n_time_bins), p, h, w), np.uint8, max_bytes,
                          f"{type(self).__name__}.to_frames")
        key = {"version": CACHE_VERSION, "frames": int(n_time_bins), **self.cache_key()}
        path = self.cache_dir / f"frames_T{int(n_time_bins)}_{_key_hash(key)}.npz"
        cached = _load_npz(path, key, ("frames", "targets")) if cache else None
        if cached is None:
            w, h, p = self.sensor_size
            # start as uint8 and widen only when a count needs it (60000 x 10 x 2 x 34 x 34 is 1.4 GB as uint8)
            frames = np.zeros((len(self), int(n_time_bins), p, h, w), dtype=np.uint8)
            targets = np.zeros(len(self), dtype=np.int64)
            for i in range(len(self)):
                f = to_frame(self.events(i), self.sensor_size, n_time_bins=n_time_bins)
                need = _smallest_int(int(f.max()) if f.size else 0)
                if need.itemsize > frames.dtype.itemsize:
                    frames = frames.astype(need)
                frames[i] = f
                targets[i] = self.label(i)
            if cache:
                _save_npz(path, {"frames": frames, "targets": targets}, key)
            cached = {"frames": frames, "targets": targets}
        return FrameDataset(torch.from_numpy(np.ascontiguousarray(cached["frames"])),
                            torch.from_numpy(cached["targets"].astype(np.int64)), self.sensor_size, self.classes)


def _split_dir(root: Path, split: str) -> Path:
    for name in (split.capitalize(), split, split.upper()):
        if (root / name).is_dir():
            return root / name
    raise FileNotFoundError(f"N-MNIST: no {split.capitalize()}/ folder in {str(root)!r}; expected the "
                            "unzipped Train.zip / Test.zip: root/Train/<digit>/<id>.bin")


class NMNIST(EventDataset):
    """N-MNIST from the official folders ``root/{Train,Test}/<digit>/<id>.bin`` (34 x 34 x 2, 10 classes)."""

    name = "nmnist"
    classes = tuple(str(i) for i in range(10))

    def __init__(self, root: str | os.PathLike, split: str = "train",
                 transform: Callable[[np.ndarray], Any] | None = None,
                 cache_dir: str | os.PathLike | None = None, timestamps: str = DEFAULT_TIMESTAMPS):
        super().__init__(atis.NMNIST_SENSOR, transform, cache_dir)
        self.root, self.split = Path(root), check_split(split)
        self.timestamps = check_timestamp_policy(timestamps)   # "error": a damaged sample is named
        folder = _split_dir(self.root, split)
        self.files: list[Path] = []
        self.labels: list[int] = []
        for digit in range(10):
            files = sorted((folder / str(digit)).glob("*.bin"))
            self.files += files
            self.labels += [digit] * len(files)
        if not self.files:
            raise FileNotFoundError(f"N-MNIST: no <digit>/*.bin files under {str(folder)!r}")

    def __len__(self) -> int:
        return len(self.files)

    def events(self, i: int) -> np.ndarray:
        return atis.read(self.files[i], self.sensor_size, self.timestamps)[0]

    def label(self, i: int) -> int:
        return self.labels[i]

    def cache_key(self) -> dict[str, Any]:
        key = {"dataset": self.name, "split": self.split,
               "files": [[str(f.relative_to(self.root)), f.stat().st_size] for f in self.files]}
        if self.timestamps != DEFAULT_TIMESTAMPS:    # (the default's key is the one older caches have)
            key["timestamps"] = self.timestamps
        return key


class DVSGesture(EventDataset):
    """DVS128 Gesture from the official ``DvsGesture`` folder (AEDAT 3.1 + labels CSV; 128 x 128 x 2, 11 classes).

    Each recording is read with ``timestamps="sort"``: this loader has always sorted a recording
    by time before cutting it into the labelled gestures, so packets out of order are expected.
    """

    name = "dvsgesture"
    classes = DVSGESTURE_CLASSES

    def __init__(self, root: str | os.PathLike, split: str = "train",
                 transform: Callable[[np.ndarray], Any] | None = None,
                 cache_dir: str | os.PathLike | None = None):
        super().__init__((128, 128, 2), transform, cache_dir)
        root = Path(root)
        self.folder = root / "DvsGesture" if (root / "DvsGesture").is_dir() else root
        self.split = check_split(split)
        trials = self.folder / f"trials_to_{split}.txt"
        if not trials.is_file():
            raise FileNotFoundError(f"DVSGesture: {str(trials)!r} not found; expected the unpacked "
                                    "DvsGesture.tar.gz (trials_to_train.txt, userNN_<light>.aedat, *_labels.csv)")
        self.samples: list[tuple[Path, int, int, int]] = []
        for line in trials.read_text().split():
            aedat = self.folder / line.strip()
            labels = aedat.with_name(aedat.stem + "_labels.csv")
            if not aedat.is_file() or not labels.is_file():
                raise FileNotFoundError(f"DVSGesture: {aedat.name} or its labels {labels.name} is missing "
                                        f"from {str(self.folder)!r}")
            with open(labels, newline="") as f:
                rows = list(csv.reader(f))
            for row in rows[1:]:
                if not row:
                    continue
                try:
                    cls, start, end = (int(v) for v in row[:3])
                except ValueError:
                    raise ValueError(f"DVSGesture: {labels.name}: row {row} is not class,start,end") from None
                if not 1 <= cls <= len(DVSGESTURE_CLASSES) or end <= start:
                    raise ValueError(f"DVSGesture: {labels.name}: bad row {row} (class 1..11, end > start)")
                self.samples.append((aedat, cls - 1, start, end))
        self._loaded: tuple[Path, np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.samples)

    def _recording(self, path: Path) -> np.ndarray:
        if self._loaded is None or self._loaded[0] != path:
            events, _ = aedat3.read(path, self.sensor_size, timestamps="sort")
            self._loaded = (path, events)
        return self._loaded[1]

    def events(self, i: int) -> np.ndarray:
        path, _, start, end = self.samples[i]
        ev = self._recording(path)
        lo, hi = np.searchsorted(ev["t"], [start, end], side="left")
        return ev[lo:hi].copy()

    def label(self, i: int) -> int:
        return self.samples[i][1]

    def cache_key(self) -> dict[str, Any]:
        return {"dataset": self.name, "split": self.split,
                "samples": [[p.name, c, s, e, p.stat().st_size] for p, c, s, e in self.samples]}


#: The cache's column types: 7 bytes per event (coordinates below 256, times below 2^32 us).
_CACHE_DTYPES = {"x": np.uint8, "y": np.uint8, "t": np.uint32, "p": np.uint8}


class NeuromorphicFashionMNIST(EventDataset):
    """Fashion-MNIST seen by a simulated event camera (see :mod:`spikesmith.events.simulate`).

    Args:
        split: ``'train'`` or ``'test'``.
        method: ``'saccade'`` (three micro-saccades, 34 x 34 x 2), ``'flash'`` (light on/off,
            28 x 28 x 2) or ``'poisson'`` (28 x 28 x 2, ON events only).
        threshold, steps_per_saccade, refractory_us, noise_rate: simulator parameters
            (``steps_per_saccade=40``: 2.5 ms steps, 300 ms per sample).
        seed: for the random parts (noise, Poisson).
        limit: use only the first ``limit`` images of the split.
        data_dir, download: where Fashion-MNIST is looked up (:func:`load_fashion_mnist`).
        cache_dir: where the events are cached (default ``~/.cache/spikesmith/nfmnist``).
        progress: show a progress bar while converting.
    """

    name = "nfmnist"
    classes = FASHION_MNIST_CLASSES

    def __init__(self, split: str = "train", method: str = "saccade", threshold: float = 0.2,
                 steps_per_saccade: int = 40, refractory_us: int = 0, noise_rate: float = 0.0,
                 seed: int = 0, limit: int | None = None, data_dir: str | os.PathLike | None = None,
                 download: bool = False, cache_dir: str | os.PathLike | None = None,
                 transform: Callable[[np.ndarray], Any] | None = None, progress: bool = False,
                 chunk: int = 256):
        if method not in ("saccade", "flash", "poisson"):
            raise ValueError(f"NeuromorphicFashionMNIST: method must be 'saccade', 'flash' or 'poisson', got {method!r}")
        self.split, self.method = check_split(split), method
        self.params = {"threshold": float(threshold), "steps_per_saccade": int(steps_per_saccade),
                       "refractory_us": int(refractory_us), "noise_rate": float(noise_rate), "seed": int(seed)}
        images, labels = load_fashion_mnist(data_dir, split, download)
        if limit is not None:
            if limit <= 0:
                raise ValueError(f"NeuromorphicFashionMNIST: limit must be > 0, got {limit}")
            images, labels = images[:limit], labels[:limit]
        self.limit = None if limit is None else int(limit)
        # the cache is keyed by the source images too, so other data under the same options never
        # reads a stale cache
        self.source_digest = hashlib.blake2b(images.numpy().tobytes() + labels.numpy().tobytes(),
                                             digest_size=16).hexdigest()
        size = (34, 34, 2) if method == "saccade" else (28, 28, 2)
        super().__init__(size, transform, cache_dir)
        key = self.cache_key()
        path = self.cache_dir / f"events_{split}_{method}_{_key_hash(key)}.npz"
        cols = _load_npz(path, key, ("offsets", "x", "y", "t", "p", "targets"))
        if cols is None:
            cols = self._convert(images.numpy(), labels.numpy(), progress, int(chunk))
            _save_npz(path, cols, key)
        self.cache_path = path
        self._cols = cols
        if len(cols["targets"]) != images.shape[0]:
            raise ValueError(f"NeuromorphicFashionMNIST: cache {str(path)!r} holds {len(cols['targets'])} samples, "
                             f"expected {images.shape[0]}; delete it")

    def cache_key(self) -> dict[str, Any]:
        return {"dataset": self.name, "split": self.split, "method": self.method, "limit": self.limit,
                "source": self.source_digest, **self.params}

    def _convert(self, images: np.ndarray, labels: np.ndarray, progress: bool, chunk: int) -> dict[str, np.ndarray]:
        from tqdm import tqdm

        from spikesmith.events import simulate

        p = self.params
        gen = np.random.default_rng(p["seed"])
        # each chunk goes straight to the compact cache columns (7 bytes per event instead of the event
        # array's 13), so a whole split at a low threshold (about 800 M events) fits in memory
        cols: dict[str, list[np.ndarray]] = {name: [] for name in _CACHE_DTYPES}
        lengths: list[np.ndarray] = []
        starts = range(0, images.shape[0], max(chunk, 1))
        for s in tqdm(starts, disable=not progress, desc=f"nfmnist {self.split}", unit="chunk"):
            batch = images[s:s + chunk]
            if self.method == "saccade":
                evs, _ = simulate.saccade_events_batch(batch, p["threshold"], steps_per_saccade=p["steps_per_saccade"],
                                                       refractory_us=p["refractory_us"], noise_rate=p["noise_rate"],
                                                       rng=gen)
            elif self.method == "flash":
                evs = [simulate.flash_events(im, p["threshold"], refractory_us=p["refractory_us"])[0] for im in batch]
            else:
                evs = [simulate.poisson_events(im, refractory_us=p["refractory_us"], rng=gen)[0] for im in batch]
            lengths.append(np.array([len(e) for e in evs], dtype=np.int64))
            part = np.concatenate(evs) if evs else np.zeros(0, EVENT_DTYPE)
            t = part["t"]
            if t.size and (t.min() < 0 or t.max() > np.iinfo(np.uint32).max):
                raise ValueError("NeuromorphicFashionMNIST: event times do not fit the uint32 cache")
            for name, dtype in _CACHE_DTYPES.items():
                cols[name].append(part[name].astype(dtype))
            del evs, part
        counts = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
        out = {name: (np.concatenate(v) if v else np.zeros(0, _CACHE_DTYPES[name])) for name, v in cols.items()}
        return {"offsets": np.r_[0, np.cumsum(counts)].astype(np.int64), **out, "targets": labels.astype(np.uint8)}

    def __len__(self) -> int:
        return len(self._cols["targets"])

    def events(self, i: int) -> np.ndarray:
        c = self._cols
        lo, hi = int(c["offsets"][i]), int(c["offsets"][i + 1])
        ev = np.empty(hi - lo, dtype=EVENT_DTYPE)
        for k in ("x", "y", "t", "p"):
            ev[k] = c[k][lo:hi]
        return ev

    def label(self, i: int) -> int:
        return int(self._cols["targets"][i])

    def events_per_sample(self) -> np.ndarray:
        """Number of events of every sample, int64 ``[N]``."""
        return np.diff(self._cols["offsets"])
