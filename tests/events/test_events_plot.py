"""The event-stream figure: colours by polarity, PNG written atomically."""

from __future__ import annotations

import numpy as np
import pytest

import spikesmith.events as E


def test_event_images_colours():
    ev = E.make_events([0, 1], [0, 0], [0, 10], [1, 0])
    img = E.event_images(ev, (2, 1, 2), n_frames=1)
    assert img.shape == (1, 1, 2, 3)
    on, off = img[0, 0, 0], img[0, 0, 1]
    assert on[0] > on[2] and off[2] > off[0]   # ON reddish, OFF bluish
    empty = E.event_images(E.empty_events(), (2, 1, 2), n_frames=2)
    assert np.all(empty == 1.0)                 # white


def test_plot_events_writes_png(tmp_path):
    pytest.importorskip("matplotlib")
    ev, size = E.saccade_events(np.pad(np.full((10, 10), 255, np.uint8), 9), steps_per_saccade=20)
    out = E.plot_events(ev, size, tmp_path / "figs" / "ev.png", n_frames=4)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in out.parent.iterdir()] == ["ev.png"]
    with pytest.raises(ValueError, match=".png"):
        E.plot_events(ev, size, tmp_path / "ev.jpg")
    E.plot_events(E.empty_events(), size, tmp_path / "empty.png")
