"""Damaged event files (issue 14): times out of order, packet headers that lie, decoder panics.

Every reader takes ``timestamps="error" | "sort" | "keep"`` (default ``"error"``): a negative or
backward time is an EventFileError naming the file, the first bad event and the repair option.
"""

from __future__ import annotations

import os
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
from aedat_layouts import AEDAT3_HEADER, aedat2_bytes, aedat3_packet

from spikesmith.events import EventFileError, make_events, read, write
from spikesmith.events.formats import aedat2, aedat3, atis, npz

DATA = Path(os.environ.get("SPIKESMITH_SHARED", Path(__file__).resolve().parents[3] / "shared")) / "data" / "events"


def _stream(times):
    n = len(times)
    return make_events([i % 30 for i in range(n)], [i % 20 for i in range(n)], times, [i % 2 for i in range(n)])


def _write_raw(tmp_path: Path, fmt: str, ev: np.ndarray) -> Path:
    """``ev`` stored as is (any time order) in ``fmt``; the writers here do not check the order."""
    if fmt == "nmnist":
        path = tmp_path / "e.bin"
        path.write_bytes(atis.encode(ev))
    elif fmt == "aedat2":
        path = tmp_path / "e.aedat"
        path.write_bytes(aedat2_bytes(ev, "DVS128", "dvs128"))
    elif fmt == "aedat3":
        path = tmp_path / "e.aedat3"
        path.write_bytes(AEDAT3_HEADER + aedat3_packet(ev))
    else:
        path = write(tmp_path / "e.npz", ev, sensor_size=(128, 128, 2))
    return path


READERS = {"nmnist": atis.read, "aedat2": aedat2.read, "aedat3": aedat3.read, "npz": npz.read}


@pytest.mark.parametrize("fmt", list(READERS))
def test_backward_time_is_an_error_naming_file_index_value_and_repair(tmp_path, fmt):
    ev = _stream([10, 20, 30, 25, 40])
    path = _write_raw(tmp_path, fmt, ev)
    for reader in (lambda: read(path), lambda: READERS[fmt](path)):
        with pytest.raises(EventFileError, match=r"timestamps go backwards: event 3 is at 25 µs, event 2 at 30") as err:
            reader()
        assert str(path) in str(err.value) and "timestamps='sort'" in str(err.value)
    assert read(path, timestamps="sort")[0]["t"].tolist() == [10, 20, 25, 30, 40]
    assert READERS[fmt](path, timestamps="sort")[0]["t"].tolist() == [10, 20, 25, 30, 40]
    assert read(path, timestamps="keep")[0]["t"].tolist() == [10, 20, 30, 25, 40]


@pytest.mark.parametrize("fmt", ["aedat2", "npz"])     # the formats whose times can be negative
def test_negative_time_is_an_error(tmp_path, fmt):
    path = _write_raw(tmp_path, fmt, _stream([-5, 10, 20]))
    with pytest.raises(EventFileError, match=r"event 0 has a negative timestamp -5 µs.*timestamps='sort'"):
        read(path)
    assert read(path, timestamps="keep")[0]["t"].tolist() == [-5, 10, 20]


def test_timestamps_option_is_checked_once_for_every_format(tmp_path):
    path = _write_raw(tmp_path, "nmnist", _stream([1, 2]))
    with pytest.raises(ValueError, match=r"timestamps must be one of \('error', 'sort', 'keep'\), got 'fix'"):
        read(path, timestamps="fix")
    with pytest.raises(ValueError, match="timestamps must be one of"):
        atis.read(path, timestamps="fix")


@pytest.mark.skipif(not DATA.is_dir(), reason="real recordings not present")
def test_real_recordings_are_in_order_so_the_default_reads_them():
    assert np.all(np.diff(read(DATA / "sample_nmnist.bin")[0]["t"]) >= 0)
    if (DATA / "sample.aedat4").is_file():
        pytest.importorskip("aedat")
        ev, _ = read(DATA / "sample.aedat4")      # default timestamps="error"
        assert ev.size == 111954


# --------------------------------------------------------------------------- AEDAT 3.1 packet headers


def _aedat3(tmp_path, body: bytes) -> Path:
    path = tmp_path / "p.aedat"
    path.write_bytes(AEDAT3_HEADER + body)
    return path


def test_aedat3_packet_whose_event_number_exceeds_its_capacity(tmp_path):
    ev = _stream([1, 2, 3])
    packet = bytearray(aedat3_packet(ev))
    packet[20:24] = struct.pack("<i", 4)                  # eventNumber 4 > eventCapacity 3
    with pytest.raises(EventFileError, match="impossible header.*eventCapacity=3, eventNumber=4"):
        aedat3.read(_aedat3(tmp_path, bytes(packet)))


def test_aedat3_packet_announcing_more_bytes_than_remain(tmp_path):
    ev = _stream([1, 2, 3])
    packet = aedat3_packet(ev)
    with pytest.raises(EventFileError, match="announces 24 bytes of events but only 20 remain"):
        aedat3.read(_aedat3(tmp_path, packet[:-4]))


def test_aedat3_valid_count_that_disagrees_with_the_valid_marks(tmp_path):
    ev = _stream([1, 2, 3])
    packet = bytearray(aedat3_packet(ev))
    packet[24:28] = struct.pack("<i", 2)                  # eventValid 2, but 3 events are marked valid
    with pytest.raises(EventFileError, match="eventValid=2 but 3 events are marked valid"):
        aedat3.read(_aedat3(tmp_path, bytes(packet)))


def test_aedat3_event_size_that_is_not_a_polarity_event(tmp_path):
    ev = _stream([1, 2])
    packet = bytearray(aedat3_packet(ev))
    packet[4:8] = struct.pack("<i", 16)                   # eventSize 16, capacity 2: 32 bytes needed
    packet += bytes(16)
    with pytest.raises(EventFileError, match="eventSize=16, eventTSOffset=4, but polarity events are 8 bytes"):
        aedat3.read(_aedat3(tmp_path, bytes(packet)))


# --------------------------------------------------------------------------- AEDAT 2.0 header


def test_aedat2_header_with_no_line_end_is_not_silently_read(tmp_path):
    path = tmp_path / "h.aedat"
    path.write_bytes(b"#!AER-DAT2.0\r\n# AEChip: DVS128\r\n# cut here")
    ev, size = aedat2.read(path)                          # a cut header: zero events, as stored
    assert ev.size == 0 and size == (128, 128, 2)


# --------------------------------------------------------------------------- npz


def test_npz_flipped_byte_in_a_member_fails_its_crc(tmp_path):
    path = write(tmp_path / "e.npz", _stream([1, 2, 3, 4]), sensor_size=(128, 128, 2))
    with zipfile.ZipFile(path) as zf:
        start = zf.getinfo("t.npy").header_offset
    data = bytearray(path.read_bytes())
    name_len, extra_len = struct.unpack("<HH", data[start + 26:start + 30])   # the local header's own
    data[start + 30 + name_len + extra_len + 40] ^= 0x55                      # inside the deflate data
    path.write_bytes(bytes(data))
    with pytest.raises(EventFileError):
        read(path)


# --------------------------------------------------------------------------- AEDAT 4 decoder panics


@pytest.mark.skipif(not (DATA / "sample.aedat4").is_file(), reason="real recordings not present")
def test_aedat4_decoder_panic_is_one_line_and_prints_nothing_on_stderr(tmp_path, capfd, monkeypatch):
    # the Rust panic hook writes "thread '<unnamed>' panicked at ..." (and, with RUST_BACKTRACE=1,
    # a full backtrace) to file descriptor 2; capfd sees fd 2, so without the fix this fails
    pytest.importorskip("aedat")
    monkeypatch.setenv("RUST_BACKTRACE", "1")
    data = bytearray((DATA / "sample.aedat4").read_bytes())
    data[18] = 0xC3                                       # the header size field: the decoder panics
    bad = tmp_path / "panic.aedat4"
    bad.write_bytes(bytes(data))
    with pytest.raises(EventFileError) as err:
        read(bad)
    captured = capfd.readouterr()
    assert "panicked" not in captured.err and "backtrace" not in captured.err, captured.err[:500]
    message = str(err.value)
    assert message.startswith(f"AEDAT 4 file {str(bad)!r}: the aedat decoder panicked: ") and "\n" not in message
    assert "panicked at" in err.value.decoder_output          # the full text is kept, not printed
    assert os.environ["RUST_BACKTRACE"] == "1"              # the caller's setting is restored


# --------------------------------------------------------------------------- datasets


def test_nmnist_dataset_names_a_damaged_sample_and_takes_the_repair(tmp_path):
    from spikesmith.data.events_datasets import NMNIST

    folder = tmp_path / "Train" / "4"
    folder.mkdir(parents=True)
    (folder / "00001.bin").write_bytes(atis.encode(_stream([10, 20, 15])))
    with pytest.raises(EventFileError, match=r"00001.bin.*timestamps go backwards.*timestamps='sort'"):
        NMNIST(tmp_path, "train").events(0)
    assert NMNIST(tmp_path, "train", timestamps="sort").events(0)["t"].tolist() == [10, 15, 20]


def test_dvsgesture_recording_with_packets_out_of_order_still_reads(tmp_path):
    # this loader always sorted a recording before cutting it into gestures; the default
    # timestamps="error" of the reader must not break that
    from spikesmith.data.events_datasets import DVSGesture

    folder = tmp_path / "DvsGesture"
    folder.mkdir()
    late, early = _stream([3_000_000 + i for i in range(5)]), _stream([1_000_000 + i for i in range(5)])
    (folder / "user01_led.aedat").write_bytes(AEDAT3_HEADER + aedat3_packet(late) + aedat3_packet(early))
    (folder / "user01_led_labels.csv").write_text("class,startTime_usec,endTime_usec\n2,1000000,1000005\n")
    (folder / "trials_to_train.txt").write_text("user01_led.aedat\n")
    ds = DVSGesture(tmp_path, "train")
    assert ds.events(0)["t"].tolist() == [1_000_000 + i for i in range(5)] and ds.label(0) == 1
