"""File formats: the real recordings, round trips, AEDAT files written in the official layouts."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from aedat_layouts import AEDAT3_HEADER, aedat2_bytes, aedat3_other_packet, aedat3_packet

import spikesmith.events as E
from spikesmith.events import EventFileError, make_events, read, write
from spikesmith.events.formats import aedat4, detect_format

# shared/ stands beside the repository (CI clones main next to it); SPIKESMITH_SHARED overrides
DATA = Path(os.environ.get("SPIKESMITH_SHARED", Path(__file__).resolve().parents[3] / "shared")) / "data" / "events"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="real recordings not present")


def random_events(n, w, h, seed=0, tmax=1_000_000):
    rng = np.random.default_rng(seed)
    return make_events(rng.integers(0, w, n), rng.integers(0, h, n), np.sort(rng.integers(0, tmax, n)),
                       rng.integers(0, 2, n))


@needs_data
def test_real_nmnist_sample_reads_and_writes_back_identically(tmp_path):
    src = DATA / "sample_nmnist.bin"
    ev, size = read(src)
    assert size == (34, 34, 2) and detect_format(src) == "nmnist"
    assert len(ev) == 21625 // 5 == 4325
    assert ev["x"].min() >= 0 and ev["x"].max() == 33 and ev["y"].max() == 33
    assert E.is_sorted(ev) and 0 <= ev["t"].min() and ev["t"].max() < 400_000  # ~300 ms of saccades
    assert set(np.unique(ev["p"])) == {0, 1}
    out = write(tmp_path / "copy.bin", ev)
    assert out.read_bytes() == src.read_bytes()


@needs_data
def test_real_davis346_header_only_gives_zero_events():
    ev, size = read(DATA / "sample_davis346_header_only.aedat")
    assert len(ev) == 0 and ev.dtype == E.EVENT_DTYPE and size == (346, 260, 2)


@needs_data
def test_real_aedat4_sample():
    pytest.importorskip("aedat")
    ev, size = read(DATA / "sample.aedat4")
    assert size == (320, 240, 2)
    assert len(ev) == 111954
    E.check_events(ev, size)
    assert set(np.unique(ev["p"])) == {0, 1}
    assert ev["t"].min() > 1_500_000_000_000_000  # Unix time in microseconds


def test_aedat4_without_package_names_the_extra(monkeypatch, tmp_path):
    import builtins
    real = builtins.__import__

    def fake(name, *a, **k):
        if name == "aedat":
            raise ImportError("no aedat")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    p = tmp_path / "x.aedat4"
    p.write_bytes(b"#!AER-DAT4.0\r\n")
    with pytest.raises(ImportError, match=r"spikesmith\[events\]"):
        read(p)


def test_aedat4_corrupt_is_a_clear_error(tmp_path):
    pytest.importorskip("aedat")
    p = tmp_path / "bad.aedat4"
    p.write_bytes(b"#!AER-DAT4.0\r\n" + bytes(range(256)) * 4)
    with pytest.raises(EventFileError, match="AEDAT 4"):
        read(p)
    if (DATA / "sample.aedat4").is_file():
        cut = tmp_path / "cut.aedat4"
        cut.write_bytes((DATA / "sample.aedat4").read_bytes()[:5000])
        try:
            ev, _ = aedat4.read(cut)
        except EventFileError:
            pass
        else:
            assert ev.dtype == E.EVENT_DTYPE


@pytest.mark.parametrize("n", [0, 1, 500])
def test_npz_round_trip(tmp_path, n):
    ev = random_events(n, 346, 260, seed=n)
    path = write(tmp_path / "e.npz", ev, sensor_size=(346, 260, 2))
    back, size = read(path)
    assert size == (346, 260, 2) and back.dtype == E.EVENT_DTYPE
    np.testing.assert_array_equal(back, ev)
    assert [p.name for p in tmp_path.iterdir()] == ["e.npz"]  # no temporary file left behind


def test_npz_write_needs_sensor_size_and_is_atomic(tmp_path):
    ev = random_events(10, 34, 34)
    with pytest.raises(ValueError, match="sensor_size"):
        write(tmp_path / "e.npz", ev)
    write(tmp_path / "e.npz", ev, sensor_size=(34, 34, 2))
    before = (tmp_path / "e.npz").read_bytes()
    with pytest.raises(ValueError, match="outside"):
        write(tmp_path / "e.npz", ev, sensor_size=(10, 10, 2))
    assert (tmp_path / "e.npz").read_bytes() == before


def test_nmnist_round_trip_bytes_and_limits(tmp_path):
    ev = random_events(300, 34, 34, tmax=(1 << 23))
    p = write(tmp_path / "s.bin", ev)
    back, size = read(p)
    np.testing.assert_array_equal(back, ev)
    assert size == (34, 34, 2)
    assert write(tmp_path / "s2.bin", back).read_bytes() == p.read_bytes()
    big = random_events(5, 200, 200)
    assert read(write(tmp_path / "big.bin", big))[1] == (304, 240, 2)
    with pytest.raises(ValueError, match="23 bits"):
        write(tmp_path / "t.bin", make_events([0], [0], [1 << 23], [0]))
    with pytest.raises(ValueError, match="overflow marker"):
        write(tmp_path / "m.bin", make_events([0], [240], [0], [0]))


def test_nmnist_overflow_marker_adds_8192us(tmp_path):
    raw = bytes([1, 2, 0x80, 0, 10]) + bytes([0, 240, 0, 0, 0]) + bytes([3, 4, 0x00, 0, 20])
    (tmp_path / "o.bin").write_bytes(raw)
    ev, _ = read(tmp_path / "o.bin")
    assert [tuple(r) for r in ev.tolist()] == [(1, 2, 10, 1), (3, 4, 20 + 8192, 0)]


@pytest.mark.parametrize("layout, chip, size", [
    ("dvs128", "ch.unizh.ini.jaer.chip.retina.DVS128", (128, 128, 2)),
    ("davis", "eu.seebetter.ini.chips.davis.Davis346red", (346, 260, 2)),
    ("davis", "eu.seebetter.ini.chips.davis.DAVIS240C", (240, 180, 2)),
])
def test_aedat2_official_layouts_read_back_exactly(tmp_path, layout, chip, size):
    ev = random_events(400, size[0], size[1], seed=1)
    # DAVIS: an APS sample (bit 31) and an IMU sample (bit 10) are skipped; DVS128: an external event (bit 15)
    extra = [(0x80000000 | (5 << 12), 2_000_000), (1 << 10, 2_000_001)] if layout == "davis" else [(0x8000, 2_000_000)]
    path = tmp_path / "rec.aedat"
    path.write_bytes(aedat2_bytes(ev, chip, layout, extra))
    back, got = read(path)
    assert got == size
    np.testing.assert_array_equal(back, ev)


def test_aedat2_without_chip_line_guesses_layout(tmp_path):
    ev = random_events(50, 128, 128)
    (tmp_path / "a.aedat").write_bytes(aedat2_bytes(ev, None, "dvs128"))
    np.testing.assert_array_equal(read(tmp_path / "a.aedat")[0], ev)
    (tmp_path / "b.aedat").write_bytes(aedat2_bytes(ev, None, "davis"))
    back, size = read(tmp_path / "b.aedat", layout="davis", sensor_size=(128, 128, 2))
    np.testing.assert_array_equal(back, ev)


def test_aedat2_truncated_body(tmp_path):
    ev = random_events(10, 128, 128)
    data = aedat2_bytes(ev, "DVS128", "dvs128")
    (tmp_path / "t.aedat").write_bytes(data[:-3])
    with pytest.raises(EventFileError, match="multiple of 8"):
        read(tmp_path / "t.aedat")


def test_aedat3_packets_read_back_exactly(tmp_path):
    ev = random_events(300, 128, 128, seed=2)
    late = random_events(20, 128, 128, seed=3, tmax=1000)
    late["t"] += 5
    ts_late = late.copy()
    ts_late["t"] = late["t"] + (1 << 31)           # second packet after one timestamp overflow
    data = (AEDAT3_HEADER + aedat3_packet(ev[:100]) + aedat3_packet(ev[100:], capacity=250)
            + aedat3_other_packet() + aedat3_packet(late, ts_overflow=1))
    (tmp_path / "g.aedat").write_bytes(data)
    back, size = read(tmp_path / "g.aedat")
    assert size == (128, 128, 2)
    np.testing.assert_array_equal(back, np.concatenate([ev, ts_late]))


def test_aedat3_skips_invalid_events_and_rejects_truncation(tmp_path):
    ev = random_events(4, 128, 128)
    data = AEDAT3_HEADER + aedat3_packet(ev, valid=[True, False, True, False])
    (tmp_path / "v.aedat").write_bytes(data)
    np.testing.assert_array_equal(read(tmp_path / "v.aedat")[0], ev[[0, 2]])
    (tmp_path / "c.aedat").write_bytes(data[:-4])
    with pytest.raises(EventFileError, match="truncated"):
        read(tmp_path / "c.aedat")
    (tmp_path / "h.aedat").write_bytes(AEDAT3_HEADER[:-14])
    with pytest.raises(EventFileError, match="END-HEADER"):
        read(tmp_path / "h.aedat")


def test_detect_and_unknown_formats(tmp_path):
    p = tmp_path / "x.dat"
    p.write_bytes(b"hello")
    with pytest.raises(ValueError, match="cannot tell"):
        read(p)
    (tmp_path / "v1.aedat").write_bytes(b"#!AER-DAT1.0\r\n")
    with pytest.raises(EventFileError, match="not supported"):
        read(tmp_path / "v1.aedat")
    with pytest.raises(ValueError, match="known formats"):
        read(p, format="hdf5")
    with pytest.raises(ValueError, match="read-only"):
        write(tmp_path / "x.aedat", random_events(2, 4, 4), format="aedat2")
    with pytest.raises(TypeError, match="layout"):
        read(p, format="npz", layout="davis")
