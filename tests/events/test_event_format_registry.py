"""Event formats are registry entries: a new format plugs in with one ``FORMATS.register`` call."""

from __future__ import annotations

import numpy as np
import pytest

from spikesmith.events import EVENT_DTYPE
from spikesmith.events.formats import FORMATS, WRITABLE, EventFormat, detect_format, read, write


@pytest.fixture
def toy_format():
    """A text format: magic line ``#TOY``, then one ``x y t p`` line per event; sensor 8 x 8 x 2."""

    def read_toy(path, sensor_size, scale=1):
        rows = np.loadtxt(path, comments="#", ndmin=2, dtype=np.int64)
        events = np.zeros(len(rows), EVENT_DTYPE)
        for i, key in enumerate("xytp"):
            events[key] = rows[:, i] * (scale if key == "t" else 1)
        return events, sensor_size or (8, 8, 2)

    def write_toy(path, events, sensor_size):
        lines = ["#TOY"] + [f"{e['x']} {e['y']} {e['t']} {e['p']}" for e in events]
        path.write_text("\n".join(lines) + "\n")

    FORMATS.register("toy", EventFormat(read_toy, write_toy, extensions=(".toy",), magic=(b"#TOY",),
                                        options=("scale",)), aliases=("toy-text",))
    yield
    FORMATS.unregister("toy")


def test_registered_formats_and_their_metadata():
    assert list(FORMATS) == ["nmnist", "aedat2", "aedat3", "aedat4", "npz"]
    assert WRITABLE == ("nmnist", "npz")
    assert FORMATS.canonical("ATIS") == "nmnist" and FORMATS.canonical("aedat4.0") == "aedat4"
    assert FORMATS["aedat2"].options == ("layout",) and FORMATS["npz"].stores_sensor_size


def test_a_new_format_is_detected_read_and_written_through_the_registry(tmp_path, toy_format):
    events = np.zeros(2, EVENT_DTYPE)
    events["x"], events["y"], events["t"], events["p"] = [1, 7], [2, 0], [5, 9], [0, 1]
    path = tmp_path / "a.txt"
    write_toy = FORMATS["toy"].write
    write_toy(path, events, None)
    assert detect_format(path) == "toy"                                   # by magic, not extension
    got, size = read(path, scale=10)
    assert size == (8, 8, 2) and got["t"].tolist() == [50, 90] and got["x"].tolist() == [1, 7]
    out = write(tmp_path / "b.toy", events)                               # by extension
    assert read(out, format="TOY-TEXT")[0].tolist() == events.tolist()
    with pytest.raises(TypeError, match="format 'toy' takes no option\\(s\\) \\['layout'\\]; it takes \\['scale'\\]"):
        read(path, layout="davis")


def test_unknown_format_lists_the_registered_ones(tmp_path):
    with pytest.raises(ValueError, match=r"unknown event file format 'hdf5'; known formats: aedat2 \(aliases: aedat2.0\)"):
        read(tmp_path / "x.bin", format="hdf5")
    with pytest.raises(ValueError, match=r"cannot tell the format from .*writable extensions: .bin, .npz"):
        write(tmp_path / "x.dat", np.zeros(0, EVENT_DTYPE))
