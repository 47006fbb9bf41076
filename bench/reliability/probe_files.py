"""Reliability probe: damaged and hostile files for the IDX loader and every event reader (issue 14).

    PYTHONPATH=src python bench/reliability/probe_files.py --memory-gb 2

Categories (one per format and kind of damage):

``files/<fmt> flip``      1-4 random bit flips anywhere (headers included)
``files/<fmt> cut``       the file cut at a random byte
``files/<fmt> word``      a hostile 32-bit value (0, -1, 2**31 - 1, ...) written over 4 bytes
``files/<fmt> insert``    1-16 random bytes inserted
``files/<fmt> boundary``  cut at a record / packet boundary: the format stores no count, so it
                          cannot tell (a shorter valid read is the documented result)
``files/<fmt> time``      a timestamp moved backwards, made negative, or a late one in the middle
``files/frames huge``     frames / voxel grids whose size one stray timestamp makes huge
``files/idx ...``         the same damage for IDX files, plain and gzipped, plus gzip bombs

How a read that succeeds is judged: the events must be valid (dtype, on the sensor, in time
order). Identical to the original: valid. Different: for formats with no checksum (N-MNIST,
AEDAT 2, the AEDAT 3.1 payload, plain IDX data) the change cannot be detected and is documented
(docs/event-files.md), so it is valid too, and logged as "cannot tell" (the count is printed under
the table); for formats with a checksum (npz, gzip IDX) it is a silent wrong result.
"""

from __future__ import annotations

import gzip
import json
import os
import struct
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests" / "events"))   # the spec-written AEDAT 2 / 3.1 test writers

import harness  # noqa: E402
from aedat_layouts import AEDAT3_HEADER, aedat2_bytes, aedat3_packet  # noqa: E402

from spikesmith.data.idx import read_idx, write_idx  # noqa: E402
from spikesmith.events import (  # noqa: E402
    EVENT_DTYPE, check_events, is_sorted, make_events, read, to_frame, to_voxel_grid, write,
)
from spikesmith.events.formats import atis  # noqa: E402

SHARED = Path(os.environ.get("SPIKESMITH_SHARED", ROOT.parent / "shared")) / "data" / "events"
if not SHARED.is_dir() and Path("/work/shared/data/events").is_dir():
    SHARED = Path("/work/shared/data/events")
WORK = Path(tempfile.mkdtemp(prefix="probe_files_"))
CANNOT_TELL_LOG = WORK / "cannot_tell.jsonl"
HOSTILE_WORDS = [0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x10000, 1 << 30]
CHECKSUMMED = {"npz", "idx gzip"}


def _cannot_tell(category: str, name: str, why: str) -> None:
    with open(CANNOT_TELL_LOG, "a") as f:
        f.write(json.dumps({"category": category, "name": name, "why": why}) + "\n")


# --------------------------------------------------------------------------- valid files


def _synthetic_events(n: int = 300, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return make_events(rng.integers(0, 34, n), rng.integers(0, 34, n), np.sort(rng.integers(0, 200_000, n)),
                       rng.integers(0, 2, n))


def _npz_bytes(ev: np.ndarray, size=(128, 128, 2)) -> bytes:
    path = WORK / f"v{len(ev)}_{zlib.crc32(ev.tobytes())}.npz"
    write(path, ev, sensor_size=size)
    return path.read_bytes()


def _sources() -> dict[str, dict]:
    """Per format: the original bytes, the events they read as, and the record boundaries."""
    ev = _synthetic_events()
    out = {}
    nmnist = (SHARED / "sample_nmnist.bin").read_bytes() if (SHARED / "sample_nmnist.bin").is_file() \
        else atis.encode(ev)
    out["nmnist"] = {"data": nmnist, "suffix": ".bin", "record": 5, "body": 0}
    a2 = aedat2_bytes(ev, "DVS128", "dvs128")
    out["aedat2"] = {"data": a2, "suffix": ".aedat", "record": 8, "body": len(aedat2_bytes(ev[:0], "DVS128", "dvs128"))}
    packets = [aedat3_packet(ev[i:i + 60]) for i in range(0, len(ev), 60)]
    a3 = AEDAT3_HEADER + b"".join(packets)
    bounds = np.cumsum([len(AEDAT3_HEADER)] + [len(p) for p in packets]).tolist()
    out["aedat3"] = {"data": a3, "suffix": ".aedat", "boundaries": bounds}
    out["npz"] = {"data": _npz_bytes(ev), "suffix": ".npz"}
    if (SHARED / "sample.aedat4").is_file():
        try:
            import aedat  # noqa: F401
            out["aedat4"] = {"data": (SHARED / "sample.aedat4").read_bytes(), "suffix": ".aedat4"}
        except ImportError:
            pass
    return out


def _read_blob(fmt: str, suffix: str, blob: bytes, name: str):
    path = WORK / f"{fmt}_{name}{suffix}"
    path.write_bytes(blob)
    try:
        return read(path, format=fmt)
    finally:
        path.unlink(missing_ok=True)


_ORIGINALS: dict[str, np.ndarray] = {}


def _original(fmt: str, src: dict) -> np.ndarray:
    if fmt not in _ORIGINALS:
        _ORIGINALS[fmt] = _read_blob(fmt, src["suffix"], src["data"], "orig")[0]
    return _ORIGINALS[fmt]


def _judge(category: str, name: str, fmt: str, src: dict, result, expect_short: bool = False) -> str | None:
    ev, size = result
    if ev.dtype != EVENT_DTYPE or ev.ndim != 1:
        return f"wrong: dtype {ev.dtype}"
    try:
        check_events(ev, size)
    except ValueError as err:
        return f"wrong: events off the returned sensor: {err}"
    if not is_sorted(ev) or (ev.size and ev["t"].min() < 0):
        return "wrong: events out of time order or negative accepted by default"
    orig = _original(fmt, src)
    if ev.size == orig.size and np.array_equal(ev, orig):
        return None
    if ev.size < orig.size and np.array_equal(ev, orig[:ev.size]):
        _cannot_tell(category, name, "cut at a record boundary reads short")
        return None
    if expect_short:
        return "wrong: a boundary cut gave events that are not a prefix"
    if fmt in CHECKSUMMED:
        return f"wrong: {fmt} has a checksum but a damaged file read as {ev.size} events"
    _cannot_tell(category, name, "plausible change in a format without checksum")
    return None


# --------------------------------------------------------------------------- damage


def _flip(data: bytes, rng: np.random.Generator) -> bytes:
    blob = bytearray(data)
    for _ in range(int(rng.integers(1, 5))):
        blob[int(rng.integers(0, len(blob)))] ^= 1 << int(rng.integers(0, 8))
    return bytes(blob)


def _cut(data: bytes, rng: np.random.Generator) -> bytes:
    return data[:int(rng.integers(0, len(data)))]


def _word(data: bytes, rng: np.random.Generator) -> bytes:
    blob = bytearray(data)
    pos = int(rng.integers(0, max(len(blob) - 4, 1)))
    blob[pos:pos + 4] = int(rng.choice(HOSTILE_WORDS)).to_bytes(4, "little" if rng.random() < 0.5 else "big")
    return bytes(blob)


def _insert(data: bytes, rng: np.random.Generator) -> bytes:
    pos = int(rng.integers(0, len(data) + 1))
    return data[:pos] + rng.integers(0, 256, int(rng.integers(1, 17)), dtype=np.uint8).tobytes() + data[pos:]


DAMAGE = {"flip": (_flip, 40), "cut": (_cut, 20), "word": (_word, 15), "insert": (_insert, 10)}


def _damage_case(fmt: str, src: dict, kind: str, i: int) -> harness.Case:
    category, name = f"files/{fmt} {kind}", f"{kind}-{i}"

    def run() -> str | None:
        rng = np.random.default_rng([zlib.crc32(fmt.encode()), i, len(kind)])
        blob = DAMAGE[kind][0](src["data"], rng)
        return _judge(category, name, fmt, src, _read_blob(fmt, src["suffix"], blob, name))

    return harness.Case(category, name, run, timeout_s=30)


def _boundary_case(fmt: str, src: dict, i: int) -> harness.Case:
    category, name = f"files/{fmt} boundary", f"boundary-{i}"

    def run() -> str | None:
        if "boundaries" in src:
            cuts = src["boundaries"]
            cut = cuts[i % len(cuts)]
        else:
            n = (len(src["data"]) - src["body"]) // src["record"]
            cut = src["body"] + src["record"] * int(np.linspace(0, n - 1, 10)[i % 10])
        return _judge(category, name, fmt, src, _read_blob(fmt, src["suffix"], src["data"][:cut], name),
                      expect_short=True)

    return harness.Case(category, name, run, timeout_s=30)


def _time_cases() -> list[harness.Case]:
    """Timestamps moved backwards, made negative, or a stray late one; the default must refuse them."""
    ev = _synthetic_events()
    encoders = {
        "nmnist": (".bin", lambda e: atis.encode(e), False),
        "aedat2": (".aedat", lambda e: aedat2_bytes(e, "DVS128", "dvs128"), True),
        "aedat3": (".aedat", lambda e: AEDAT3_HEADER + aedat3_packet(e), False),
        "npz": (".npz", _npz_bytes, True),
    }
    damages = {
        "backward-1us": lambda t, k: t.__setitem__(k, t[k - 1] - 1),
        "backward-1s": lambda t, k: t.__setitem__(k, max(t[k - 1] - 1_000_000, 0)),
        "late-in-middle": lambda t, k: t.__setitem__(k, t[k] + 5_000_000),
        "swap": lambda t, k: t.__setitem__(slice(k, k + 2), t[k:k + 2][::-1].copy()),
        "negative-first": lambda t, k: t.__setitem__(0, -5),
    }
    cases = []
    for fmt, (suffix, encode, negatives) in encoders.items():
        for dname, apply in damages.items():
            if dname == "negative-first" and not negatives:
                continue
            for k in (1, 150, 298):
                name = f"{dname}-{k}"

                def run(fmt=fmt, suffix=suffix, encode=encode, apply=apply, k=k, name=name) -> str | None:
                    bad = ev.copy()
                    t = bad["t"]
                    if np.all(np.diff(ev["t"][max(k - 1, 0):k + 2]) == 0):
                        t[:] = np.arange(t.size) * 10     # make the damage visible
                    apply(t, k)
                    if is_sorted(bad) and bad["t"].min() >= 0:
                        return None   # the damage kept the order (a duplicate time): nothing to detect
                    got, _ = _read_blob(fmt, suffix, encode(bad), name)
                    return f"wrong: {int((np.diff(got['t']) < 0).sum())} backward steps read without an error"

                cases.append(harness.Case(f"files/{fmt} time", name, run, timeout_s=30))
    return cases


def _frame_cases() -> list[harness.Case]:
    """One stray timestamp must not make frames or voxel grids fill memory (issue 14's 2.2 GB case)."""
    cases = []
    real = SHARED / "sample.aedat4"

    def events_with_stray(shift: int, where: str):
        if real.is_file():
            try:
                ev, size = read(real)
            except ImportError:
                ev, size = _synthetic_events(), (34, 34, 2)
        else:
            ev, size = _synthetic_events(), (34, 34, 2)
        ev = ev.copy()
        k = {"middle": len(ev) // 2, "last": len(ev) - 1}[where]
        ev["t"][k] += shift
        return ev, size

    calls = {
        "to_frame-tw1000": lambda ev, s: to_frame(ev, s, time_window=1000),
        "to_frame-tw1000-incomplete": lambda ev, s: to_frame(ev, s, time_window=1000, include_incomplete=True),
        "to_frame-tw1": lambda ev, s: to_frame(ev, s, time_window=1),
        "to_frame-tw10-overlap9": lambda ev, s: to_frame(ev, s, time_window=10, overlap=9),
        "voxel-1e5-bins": lambda ev, s: to_voxel_grid(ev, s, n_time_bins=100_000),
    }
    for shift in (10_000_000, 1 << 40):
        for where in ("middle", "last"):
            for cname, call in calls.items():
                name = f"{cname}-shift{shift}-{where}"

                def run(call=call, shift=shift, where=where) -> str | None:
                    ev, size = events_with_stray(shift, where)
                    out = call(ev, size)      # must raise: every output here is > 1 GiB
                    return f"wrong: made an output of {out.nbytes} bytes past the default max_bytes"

                cases.append(harness.Case("files/frames huge", name, run, timeout_s=60))

    def normal() -> str | None:   # the limit does not get in the way of ordinary frames
        ev, size = events_with_stray(0, "last")
        f = to_frame(ev, size, n_time_bins=10)
        return None if f.sum() == ev.size else f"wrong: {f.sum()} counted of {ev.size}"

    cases.append(harness.Case("files/frames huge", "ordinary-n_time_bins", normal, timeout_s=60))
    return cases


# --------------------------------------------------------------------------- IDX


def _idx_sources() -> dict[str, tuple[bytes, np.ndarray]]:
    rng = np.random.default_rng(1)
    arrays = {"images": rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
              "labels": rng.integers(0, 10, 500, dtype=np.uint8),
              "float32": rng.standard_normal((10, 8)).astype(np.float32)}
    out = {}
    for name, a in arrays.items():
        for gz in (False, True):
            path = write_idx(WORK / (f"{name}.idx" + (".gz" if gz else "")), a)
            out[f"{name}{' gzip' if gz else ''}"] = (path.read_bytes(), a)
    return out


def _idx_read(blob: bytes, name: str) -> np.ndarray:
    path = WORK / f"idx_{name}"
    path.write_bytes(blob)
    try:
        return read_idx(path)
    finally:
        path.unlink(missing_ok=True)


def _idx_judge(category: str, name: str, kind: str, arr: np.ndarray, orig: np.ndarray) -> str | None:
    if arr.shape == orig.shape and arr.dtype == orig.dtype and np.array_equal(arr, orig, equal_nan=True):
        return None
    if "gzip" in kind:
        return f"wrong: a damaged gzip IDX read as {arr.dtype} {arr.shape} (the CRC should catch it)"
    _cannot_tell(category, name, "plain IDX has no checksum")
    return None


def _idx_cases() -> list[harness.Case]:
    cases = []
    for kind, (data, orig) in _idx_sources().items():
        for dname, (damage, count) in DAMAGE.items():
            for i in range(count // 2):
                category, name = f"files/idx{' gzip' if 'gzip' in kind else ''} {dname}", f"{kind}-{dname}-{i}"

                def run(data=data, orig=orig, damage=damage, i=i, kind=kind, category=category, name=name):
                    blob = damage(data, np.random.default_rng([7, i, len(name)]))
                    return _idx_judge(category, name, kind, _idx_read(blob, name.replace(" ", "_")), orig)

                cases.append(harness.Case(category, name, run, timeout_s=30))
        # hostile dimension sizes in the header (re-gzipped when the source is gzip, so only the size lies)
        raw = gzip.decompress(data) if "gzip" in kind else data
        ndim = raw[3]
        for j, word in enumerate([0, 0x7FFFFFFF, 0xFFFFFFFF, 1 << 20, 1 << 28]):
            for d in range(ndim):
                name = f"{kind}-size{d}-{word:#x}"

                def run(raw=raw, d=d, word=word, kind=kind, orig=orig, name=name):
                    bad = bytearray(raw)
                    bad[4 + 4 * d:8 + 4 * d] = struct.pack(">I", word)
                    blob = gzip.compress(bytes(bad), mtime=0) if "gzip" in kind else bytes(bad)
                    arr = _idx_read(blob, name.replace(" ", "_"))
                    return f"wrong: a header with a wrong size read as {arr.shape}"

                cases.append(harness.Case(f"files/idx{' gzip' if 'gzip' in kind else ''} size", name, run))
    cases += _gzip_bomb_cases()
    return cases


def _gzip_bomb(declared_images: int, held: int) -> bytes:
    header = struct.pack(">IIII", 0x00000803, declared_images, 28, 28)
    z = zlib.compressobj(1, zlib.DEFLATED, 31)
    parts, chunk = [z.compress(header)], bytes(1 << 24)
    while held > 0:
        parts.append(z.compress(chunk[:min(held, len(chunk))]))
        held -= len(chunk)
    parts.append(z.flush())
    return b"".join(parts)


def _gzip_bomb_cases() -> list[harness.Case]:
    """Issue 14's case: a few-MB .gz whose header declares ~3 GB (more than --memory-gb 2)."""
    cases = []
    declared = 3_800_000                      # x 784 bytes = 2.98 GB
    for held_name, held in (("short-10MB", declared * 784 - 10_000_000), ("half", declared * 784 // 2),
                            ("tiny", 1 << 20)):
        def run(held=held, held_name=held_name):
            arr = _idx_read(_gzip_bomb(declared, held), f"bomb_{held_name}.gz")
            return f"wrong: a bomb read as {arr.shape}"

        cases.append(harness.Case("files/idx gzip bomb", held_name, run, timeout_s=60))

    def forged_trailer():   # the trailer claims the declared size; the stream holds 1 MiB
        blob = _gzip_bomb(declared, 1 << 20)
        blob = blob[:-4] + struct.pack("<I", (16 + declared * 784) % 2**32)
        arr = _idx_read(blob, "bomb_forged.gz")
        return f"wrong: a forged trailer read as {arr.shape}"

    cases.append(harness.Case("files/idx gzip bomb", "forged-trailer", forged_trailer, timeout_s=60))
    return cases


# --------------------------------------------------------------------------- all


def _memory_is_memory(case: harness.Case) -> harness.Case:
    """Every case here expects a ValueError or a result, so a MemoryError means an allocation hit
    the worker's bound; re-raised from this file, the harness counts it as ``memory`` even when
    numpy raised it on a line of spikesmith (which would otherwise read as a clean error)."""
    def run():
        try:
            return case.run()
        except MemoryError as err:
            raise MemoryError(f"allocation failed under the bound: {err}") from None

    return harness.Case(case.category, case.name, run, case.timeout_s)


def cases() -> list[harness.Case]:
    return [_memory_is_memory(c) for c in _all_cases()]


def _all_cases() -> list[harness.Case]:
    out: list[harness.Case] = []
    for fmt, src in _sources().items():
        for kind, (_, count) in DAMAGE.items():
            out += [_damage_case(fmt, src, kind, i) for i in range(count)]
        if fmt in ("nmnist", "aedat2", "aedat3"):
            out += [_boundary_case(fmt, src, i) for i in range(10)]
    out += _time_cases()
    out += _frame_cases()
    out += _idx_cases()
    return out


def _report_cannot_tell() -> None:
    if not CANNOT_TELL_LOG.is_file():
        print("\nno damaged file read as valid-but-different events")
        return
    rows = [json.loads(line) for line in CANNOT_TELL_LOG.read_text().splitlines()]
    from collections import Counter
    counts = Counter((r["category"], r["why"]) for r in rows)
    print(f"\n{len(rows)} of the valid cases read damaged data the format cannot tell (documented in "
          "docs/event-files.md):")
    for (category, why), n in sorted(counts.items()):
        print(f"  {n:4d}  {category}: {why}")


if __name__ == "__main__":
    harness.main(cases)
    _report_cannot_tell()
