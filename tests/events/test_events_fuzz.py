"""Fuzzing our readers with random and truncated bytes: a clear ValueError, never a crash, hang or giant allocation."""

from __future__ import annotations

import resource
import time
import os
from pathlib import Path

import numpy as np
import pytest
from aedat_layouts import AEDAT3_HEADER, aedat2_bytes, aedat3_packet

from spikesmith.events import EventFileError, make_events, read, write
from spikesmith.events.formats import aedat2, aedat3, atis

# shared/ stands beside the repository (CI clones main next to it); SPIKESMITH_SHARED overrides
DATA = Path(os.environ.get("SPIKESMITH_SHARED", Path(__file__).resolve().parents[3] / "shared")) / "data" / "events"


def _valid_files(tmp: Path) -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    ev = make_events(rng.integers(0, 34, 200), rng.integers(0, 34, 200), np.sort(rng.integers(0, 100000, 200)),
                     rng.integers(0, 2, 200))
    write(tmp / "v.npz", ev, sensor_size=(34, 34, 2))
    files = {
        "nmnist": atis.encode(ev),
        "aedat2": aedat2_bytes(ev, "DVS128", "dvs128"),
        "aedat3": AEDAT3_HEADER + aedat3_packet(ev[:120]) + aedat3_packet(ev[120:]),
        "npz": (tmp / "v.npz").read_bytes(),
    }
    return files


def _read_or_clear_error(path: Path, fmt: str) -> None:
    start = time.perf_counter()
    try:
        ev, size = read(path, format=fmt)
    except ValueError as err:          # EventFileError is a ValueError
        assert str(path) in str(err) or "format" in str(err) or isinstance(err, EventFileError), err
    else:
        assert ev.ndim == 1 and len(size) == 3
    assert time.perf_counter() - start < 2.0, f"{fmt} reader took too long on {path.name}"


@pytest.fixture
def memory_cap():
    """Cap the address space so a giant allocation fails loudly instead of swapping (restored after)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    vm_kib = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmSize:"))
    cap = vm_kib * 1024 + (2 << 30)          # what the process maps now + 2 GiB
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    yield
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@pytest.mark.parametrize("fmt", ["nmnist", "aedat2", "aedat3", "npz"])
def test_truncated_files(tmp_path, fmt, memory_cap):
    data = _valid_files(tmp_path)[fmt]
    cuts = sorted(set(np.linspace(0, len(data) - 1, 40).astype(int).tolist()))
    for cut in cuts:
        p = tmp_path / f"cut{cut}.{fmt}"
        p.write_bytes(data[:cut])
        _read_or_clear_error(p, fmt)


@pytest.mark.parametrize("fmt", ["nmnist", "aedat2", "aedat3", "npz"])
def test_random_and_mutated_bytes(tmp_path, fmt, memory_cap):
    rng = np.random.default_rng(hash(fmt) % 2**32)
    data = _valid_files(tmp_path)[fmt]
    prefix = {"aedat2": b"#!AER-DAT2.0\r\n", "aedat3": AEDAT3_HEADER, "npz": b"PK\x03\x04", "nmnist": b""}[fmt]
    for i in range(60):
        if i % 2:
            blob = prefix + rng.integers(0, 256, int(rng.integers(0, 3000)), dtype=np.uint8).tobytes()
        else:   # flip a few bytes of a valid file (headers included)
            arr = np.frombuffer(data, dtype=np.uint8).copy()
            idx = rng.integers(0, arr.size, int(rng.integers(1, 8)))
            arr[idx] = rng.integers(0, 256, idx.size)
            blob = arr.tobytes()
        p = tmp_path / f"f{i}.{fmt}"
        p.write_bytes(blob)
        _read_or_clear_error(p, fmt)


def test_hostile_sizes_are_checked_before_allocation(tmp_path, memory_cap):
    # an AEDAT 3.1 packet announcing 2**31 - 1 events of 2**30 bytes
    import struct
    bad = AEDAT3_HEADER + struct.pack("<hhiiiiii", 1, 1, 1 << 30, 4, 0, (1 << 31) - 1, 5, 5)
    (tmp_path / "h.aedat").write_bytes(bad)
    with pytest.raises(EventFileError, match="truncated"):
        aedat3.read(tmp_path / "h.aedat")
    # a .npz whose .npy header claims a huge array
    import zipfile
    with zipfile.ZipFile(tmp_path / "h.npz", "w") as zf:
        for name in ("format_version", "sensor_size", "x", "y", "t", "p"):
            header = ("{'descr': '<i8', 'fortran_order': False, 'shape': (4000000000,), }").ljust(117) + "\n"
            zf.writestr(name + ".npy", b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
    with pytest.raises(EventFileError):
        read(tmp_path / "h.npz")


@pytest.mark.skipif(not (DATA / "sample_davis346_header_only.aedat").is_file(), reason="no real data")
def test_real_header_only_file_truncated(tmp_path):
    data = (DATA / "sample_davis346_header_only.aedat").read_bytes()
    for cut in range(0, len(data), 37):
        p = tmp_path / "c.aedat"
        p.write_bytes(data[:cut])
        try:
            ev, _ = aedat2.read(p)
        except ValueError:
            pass
        else:
            assert len(ev) == 0
