"""The Spiking Heidelberg Digits (SHD) and Spiking Speech Commands (SSC) of Cramer et al. (2020).

Each file is HDF5 (distributed gzipped, ``shd_train.h5.gz``; both ``.h5`` and ``.h5.gz`` are read)::

    spikes/times    [N] variable-length float arrays: spike times in seconds, per sample
    spikes/units    [N] variable-length uint16 arrays: the channel (0..699) of each spike
    labels          [N] class of each sample
    extra/speaker   [N] speaker of each sample          (optional here)
    extra/keys      [classes] class names (bytes)        (optional here)
    extra/meta_info group of per-speaker arrays          (optional here: gender, age, body_height)

Splits: SHD ``train`` / ``test`` (the test set holds two speakers the training set has not got);
SSC ``train`` / ``valid`` / ``test``. A file is looked for, in order, in ``data_dir`` (then
``data_dir/shd``); ``$SPIKESMITH_DATA`` (then its ``shd/``, ``SHD/``); ``~/.cache/spikesmith/shd``;
and as the last resort it is downloaded there from :data:`BASE_URLS` (offline, the error says where
to put the file). A ``.h5.gz`` is decompressed once into the cache folder (atomically) and read from
there.

:func:`bin_spikes` turns one sample into frames ``[T, 700]`` of spike *counts* (so no spike is lost:
the total equals the file's), by number of bins or by bin width over a duration.

Example::

    records = read_spike_file("shd_test.h5.gz")      # SpikeRecords: times, units, labels, speakers, keys
    frames = bin_spikes(records.times[0], records.units[0], n_bins=100, duration=1.4)   # int [100, 700]
    x, y = load_shd("test")                          # uint8 counts [2264, 100, 700], int64 [2264]
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import shutil
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from spikesmith.atomic import atomic_write

NUM_UNITS = 700
"""Input channels of SHD and SSC (the cochlea model's 700 bushy cells)."""

BASE_URLS = ("https://zenkelab.org/datasets/", "https://compneuro.net/datasets/")
"""The official folder of the files and its mirror, tried in order."""

SPLITS = {"shd": ("train", "test"), "ssc": ("train", "valid", "test")}
"""The standard splits of each set: the files ``<set>_<split>.h5[.gz]``."""

TITLES = {"shd": "Spiking Heidelberg Digits", "ssc": "Spiking Speech Commands"}

SHD_DURATION = 1.4
"""Seconds SHD frames cover by default (its last spikes come before 1.4 s)."""

DEFAULT_TIMEOUT = 30.0


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError("reading SHD/SSC files needs h5py: pip install h5py (or 'spikesmith[data]')") from None
    return h5py


@dataclass
class SpikeRecords:
    """The samples of one file: per-sample ``times`` (float64 s) and ``units`` (int64), ``labels`` (int64)."""

    path: Path
    times: list[np.ndarray]
    units: list[np.ndarray]
    labels: np.ndarray
    speakers: np.ndarray | None = None
    keys: tuple[str, ...] = ()
    meta_info: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def num_spikes(self) -> int:
        return sum(len(t) for t in self.times)

    @property
    def last_spike(self) -> float:
        return max((float(t.max()) for t in self.times if len(t)), default=0.0)


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _open_h5(path: Path):
    h5py = _h5py()
    if path.name.endswith(".gz"):
        path = decompressed(path)
    try:
        return h5py.File(path, "r")
    except OSError as err:
        raise ValueError(f"{path}: not a readable HDF5 file ({err}); a SHD/SSC file is HDF5, "
                         f"distributed as .h5.gz") from None


def decompressed(path: str | os.PathLike) -> Path:
    """The ``.h5`` of a ``.h5.gz``: decompressed once (atomically) into ``~/.cache/spikesmith/<set>``.

    The copy's name carries a hash of the source's path, size and time, so another ``.gz`` of the
    same name (or the same file replaced) gets its own copy.
    """
    path = Path(path)
    stat = path.stat()
    tag = hashlib.sha256(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:10]
    target = cache_dir(_set_of(path.name)) / f"{path.name[: -len('.h5.gz')]}-{tag}.h5"
    if target.is_file():
        return target
    try:
        with gzip.open(path, "rb") as src, atomic_write(target) as out:
            shutil.copyfileobj(src, out, 1 << 20)
    except (OSError, EOFError) as err:
        raise ValueError(f"{path}: cannot be decompressed ({err}); the download is probably truncated: "
                         f"delete it and fetch it again") from None
    return target


def _set_of(name: str) -> str:
    return "ssc" if name.lower().startswith("ssc") else "shd"


def read_spike_file(path: str | os.PathLike, num_units: int = NUM_UNITS) -> SpikeRecords:
    """Read a SHD/SSC file (``.h5`` or ``.h5.gz``) into :class:`SpikeRecords`; see the module doc.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a group or dataset is missing, the arrays disagree in length, a unit is not
            below ``num_units``, or a time is negative or not finite; the message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no SHD/SSC file at {path}")
    with _open_h5(path) as f:
        for name in ("spikes", "spikes/times", "spikes/units", "labels"):
            if name not in f:
                raise ValueError(f"{path}: missing {name!r} (a SHD/SSC file holds spikes/times, spikes/units "
                                 f"and labels; it has {sorted(f.keys())})")
        times = [np.asarray(t, dtype=np.float64) for t in f["spikes/times"]]
        units = [np.asarray(u, dtype=np.int64) for u in f["spikes/units"]]
        labels = np.asarray(f["labels"], dtype=np.int64).reshape(-1)
        speakers, keys, meta = None, (), {}
        if "extra" in f:
            extra = f["extra"]
            if "speaker" in extra:
                speakers = np.asarray(extra["speaker"], dtype=np.int64).reshape(-1)
            if "keys" in extra:
                keys = tuple(_text(k) for k in np.asarray(extra["keys"]).reshape(-1))
            if "meta_info" in extra:
                meta = {name: np.asarray(value) for name, value in extra["meta_info"].items()}
    _check_records(path, times, units, labels, speakers, num_units)
    return SpikeRecords(path, times, units, labels, speakers, keys, meta)


def _check_records(path, times, units, labels, speakers, num_units):
    if not (len(times) == len(units) == len(labels)):
        raise ValueError(f"{path}: spikes/times has {len(times)} samples, spikes/units {len(units)} and labels "
                         f"{len(labels)}; they must be equal")
    if speakers is not None and len(speakers) != len(labels):
        raise ValueError(f"{path}: extra/speaker has {len(speakers)} entries for {len(labels)} samples")
    for i, (t, u) in enumerate(zip(times, units)):
        if len(t) != len(u):
            raise ValueError(f"{path}: sample {i} has {len(t)} spike times but {len(u)} units")
        if len(u) and (int(u.max()) >= num_units or int(u.min()) < 0):
            bad = int(u.max()) if int(u.max()) >= num_units else int(u.min())
            raise ValueError(f"{path}: sample {i} has unit {bad}; units must lie in 0..{num_units - 1}")
        if len(t) and not (np.isfinite(t).all() and t.min() >= 0):
            raise ValueError(f"{path}: sample {i} has a spike time that is negative or not finite")
    if len(labels) and labels.min() < 0:
        raise ValueError(f"{path}: labels must be >= 0, got {int(labels.min())}")


def bin_spikes(times: np.ndarray, units: np.ndarray, n_bins: int | None = None, bin_width: float | None = None,
               duration: float | None = None, num_units: int = NUM_UNITS) -> torch.Tensor:
    """Spike counts ``[T, num_units]`` (int64) of one sample.

    Give ``n_bins`` (T bins of ``duration / n_bins`` s) or ``bin_width`` (T = ceil(duration / bin_width)).
    ``duration`` defaults to the last spike time (nudged up, so the last spike lands in the last bin);
    a spike at ``t`` goes to bin ``floor(t / width)``, spikes at or after ``duration`` are dropped
    (none with the default), so the total equals ``len(times)`` unless ``duration`` cuts.
    """
    times = np.asarray(times, dtype=np.float64)
    units = np.asarray(units, dtype=np.int64)
    if (n_bins is None) == (bin_width is None):
        raise ValueError("bin_spikes: give exactly one of n_bins (a number of frames) and bin_width (seconds)")
    if duration is None:
        duration = float(np.nextafter(times.max(), np.inf)) if len(times) else 1.0
    if not duration > 0:
        raise ValueError(f"bin_spikes: duration must be positive (seconds), got {duration}")
    if n_bins is not None:
        if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
            raise ValueError(f"bin_spikes: n_bins must be a positive int, got {n_bins!r}")
        width = duration / n_bins
    else:
        if not bin_width > 0:
            raise ValueError(f"bin_spikes: bin_width must be positive (seconds), got {bin_width}")
        width, n_bins = bin_width, math.ceil(duration / bin_width - 1e-9)
    index = np.floor(times / width).astype(np.int64)
    keep = (times < duration) & (index < n_bins)
    counts = np.zeros(n_bins * num_units, dtype=np.int64)
    np.add.at(counts, index[keep] * num_units + units[keep], 1)
    return torch.from_numpy(counts.reshape(n_bins, num_units))


def smallest_uint(max_value: int) -> torch.dtype:
    """uint8 when every count fits, else int16 or int32 (never a float)."""
    for dtype in (torch.uint8, torch.int16, torch.int32):
        if max_value <= torch.iinfo(dtype).max:
            return dtype
    return torch.int64


def bin_records(records: SpikeRecords, n_bins: int | None = 100, bin_width: float | None = None,
                duration: float | None = None) -> torch.Tensor:
    """Counts ``[N, T, 700]`` of every sample on one grid (``duration`` default: the file's last spike)."""
    if duration is None:
        duration = float(np.nextafter(records.last_spike, np.inf)) if records.last_spike > 0 else 1.0
    frames = [bin_spikes(t, u, n_bins, bin_width, duration) for t, u in zip(records.times, records.units)]
    if not frames:
        return torch.zeros(0, n_bins or 1, NUM_UNITS, dtype=torch.uint8)
    stacked = torch.stack(frames)
    return stacked.to(smallest_uint(int(stacked.max())))


def cache_dir(name: str) -> Path:
    """``~/.cache/spikesmith/<shd|ssc>``: where downloads and decompressed files go."""
    return Path.home() / ".cache" / "spikesmith" / name


def _check_split(name: str, split: str) -> str:
    if split not in SPLITS[name]:
        raise ValueError(f"{TITLES[name]}: split must be one of {list(SPLITS[name])}, got {split!r}")
    return split


def search_dirs(name: str, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for ``<name>_<split>.h5[.gz]``, in order (see the module doc)."""
    root = data_dir if data_dir is not None else os.environ.get("SPIKESMITH_DATA") or None
    dirs = []
    if root is not None:
        root = Path(root).expanduser()
        dirs += [root, root / name, root / name.upper()]
    if data_dir is None:
        dirs.append(cache_dir(name))
    return list(dict.fromkeys(dirs))


def find_file(name: str, split: str, data_dir: str | os.PathLike | None = None) -> Path | None:
    """The first ``<name>_<split>.h5`` (preferred) or ``.h5.gz`` in :func:`search_dirs`, else None."""
    base = f"{name}_{_check_split(name, split)}.h5"
    for folder in search_dirs(name, data_dir):
        for candidate in (folder / base, folder / f"{base}.gz"):
            if candidate.is_file():
                return candidate
    return None


def _check_gzip(tmp: Path) -> None:
    with open(tmp, "rb") as f:
        if f.read(2) != b"\x1f\x8b":
            raise ValueError("not a gzip file")


def download(name: str, split: str, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Fetch ``<name>_<split>.h5.gz`` from :data:`BASE_URLS` into :func:`cache_dir`; return its path.

    Raises:
        OSError: no URL delivered a gzip file (the message lists each URL and its error).
    """
    dest = cache_dir(name) / f"{name}_{_check_split(name, split)}.h5.gz"
    errors = []
    for base in BASE_URLS:
        try:
            with atomic_write(dest, suffix=".download", check=_check_gzip) as out:
                with urllib.request.urlopen(base + dest.name, timeout=timeout) as response:
                    shutil.copyfileobj(response, out)
            return dest
        except (OSError, ValueError) as err:      # URLError and timeouts are OSErrors
            errors.append(f"{base}{dest.name}: {err}")
    raise OSError("; ".join(errors))


def locate(name: str, split: str, data_dir: str | os.PathLike | None = None, download_ok: bool = True) -> Path:
    """The file of ``split``: found (see :func:`find_file`), else downloaded, else a clear error."""
    found = find_file(name, split, data_dir)
    if found is not None:
        return found
    base = f"{name}_{split}.h5"
    folders = "\n".join(f"  {d}" for d in search_dirs(name, data_dir))
    hint = (f"{TITLES[name]} {split}: {base}[.gz] not found in\n{folders}\nPut the file there (it is at "
            f"{BASE_URLS[0]}{base}.gz), or set $SPIKESMITH_DATA to a folder holding it")
    if data_dir is not None:
        raise FileNotFoundError(hint + " (a data_dir given is the only place searched, nothing is downloaded).")
    if not download_ok:
        raise FileNotFoundError(hint + ". Downloading was disabled (download=False).")
    try:
        return download(name, split)
    except OSError as err:
        raise FileNotFoundError(f"{hint}. Downloading failed: {err}") from None


def load_spike_split(name: str, split: str, data_dir: str | os.PathLike | None = None, download: bool = True,
                     n_bins: int = 100, duration: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """One split of ``'shd'`` or ``'ssc'`` as counts ``[N, n_bins, 700]`` (smallest int) and int64 labels.

    ``duration`` defaults to :data:`SHD_DURATION` for SHD (or the last spike, if later) and to the
    last spike for SSC, so no spike is lost.
    """
    if name not in SPLITS:
        raise ValueError(f"load_spike_split: name must be one of {list(SPLITS)}, got {name!r}")
    records = read_spike_file(locate(name, split, data_dir, download))
    if duration is None:
        floor = SHD_DURATION if name == "shd" else 0.0
        duration = max(floor, float(np.nextafter(records.last_spike, np.inf)))
    return bin_records(records, n_bins=n_bins, duration=duration), torch.from_numpy(records.labels)


def load_shd(split: str = "train", data_dir: str | os.PathLike | None = None, download: bool = True,
             n_bins: int = 100) -> tuple[torch.Tensor, torch.Tensor]:
    """SHD ``'train'`` / ``'test'``: counts ``[N, n_bins, 700]`` over 1.4 s and labels 0..19."""
    return load_spike_split("shd", split, data_dir, download, n_bins)


def load_ssc(split: str = "train", data_dir: str | os.PathLike | None = None, download: bool = True,
             n_bins: int = 100) -> tuple[torch.Tensor, torch.Tensor]:
    """SSC ``'train'`` / ``'valid'`` / ``'test'``: counts ``[N, n_bins, 700]`` and labels 0..34.

    The full SSC training set binned is about 5 GB as uint8: read it with :func:`read_spike_file`
    and :func:`bin_spikes` per sample where memory is short.
    """
    return load_spike_split("ssc", split, data_dir, download, n_bins)
