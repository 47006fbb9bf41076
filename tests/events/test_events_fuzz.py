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


# --------------------------------------------------------------------------- hypothesis: every reader
# Each example takes a small valid file of one format and damages it: byte flips, a cut, an insertion
# and hostile 32-bit fields (0, -1, 2**31 - 1, ...) written over the bytes. The read must end in a
# clean error from our code (ValueError, incl. EventFileError, or OSError) or a valid result: events
# of EVENT_DTYPE on the returned sensor, in time order (the default timestamps="error"). Memory is
# bounded two ways: tracemalloc's peak (every numpy allocation) must stay under a bound that grows
# with the file, not with sizes the file declares, and the memory_cap fixture caps the address space.
import tracemalloc  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from spikesmith.events import EVENT_DTYPE, check_events, is_sorted  # noqa: E402

FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
HOSTILE_WORDS = [0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x10000, 1 << 30]


@st.composite
def damage(draw, data: bytes) -> bytes:
    """``data`` after a few random flips, 32-bit overwrites, an insertion and maybe a cut."""
    blob = bytearray(data)
    for _ in range(draw(st.integers(0, 4))):
        if not blob:
            break
        kind = draw(st.sampled_from(["flip", "word", "insert"]))
        pos = draw(st.integers(0, len(blob) - 1))
        if kind == "flip":
            blob[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "word":
            word = draw(st.sampled_from(HOSTILE_WORDS)).to_bytes(4, draw(st.sampled_from(["little", "big"])))
            blob[pos:pos + 4] = word
        else:
            blob[pos:pos] = draw(st.binary(min_size=1, max_size=16))
    if draw(st.booleans()):
        blob = blob[:draw(st.integers(0, len(blob)))]
    return bytes(blob)


def _fuzz_files(tmp: Path) -> dict[str, bytes]:
    files = _valid_files(tmp)
    if (DATA / "sample.aedat4").is_file():
        try:
            import aedat  # noqa: F401
            files["aedat4"] = (DATA / "sample.aedat4").read_bytes()
        except ImportError:
            pass
    return files


def _check_read(path: Path, fmt: str, file_size: int) -> None:
    tracemalloc.start()
    try:
        try:
            ev, size = read(path, format=fmt)
        except (ValueError, OSError):
            ev = None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # every buffer of ours is a few columns of the events the file holds: ~20 bytes per stored byte
    assert peak < 40 * file_size + (8 << 20), f"{fmt}: peak {peak} bytes for a {file_size}-byte file"
    if ev is not None:
        assert ev.dtype == EVENT_DTYPE and ev.ndim == 1
        check_events(ev, size)
        assert is_sorted(ev) and (ev.size == 0 or ev["t"].min() >= 0)


@pytest.fixture(scope="module")
def fuzz_inputs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    return tmp, _fuzz_files(tmp)


@pytest.mark.parametrize("fmt", ["nmnist", "aedat2", "aedat3", "aedat4", "npz"])
def test_damaged_files_end_in_a_clean_error_or_a_valid_read(fuzz_inputs, fmt, memory_cap):
    tmp, files = fuzz_inputs
    if fmt not in files:
        pytest.skip("the AEDAT 4 sample or the aedat package is absent")

    @FUZZ
    @given(blob=damage(files[fmt]))
    def run(blob):
        path = tmp / f"fuzz.{fmt}"
        path.write_bytes(blob)
        _check_read(path, fmt, len(blob))

    run()
