"""ToFrame (time window, event count, time bins, overlap) and ToVoxelGrid with hand-computed results."""

from __future__ import annotations

import numpy as np
import pytest

import spikesmith.events as E
from spikesmith.events import make_events, to_frame, to_voxel_grid

S = (3, 2, 2)


def stream(times, xs=None, ps=None):
    n = len(times)
    return make_events(xs if xs is not None else [0] * n, [0] * n, times, ps if ps is not None else [1] * n)


def per_frame(frames):
    return frames.sum(axis=(1, 2, 3)).tolist()


def test_time_window_complete_and_incomplete():
    e = stream(list(range(11)))            # t = 0..10
    f = to_frame(e, S, time_window=5)      # windows [0,5) [5,10); [10,15) is incomplete
    assert f.shape == (2, 2, 2, 3) and f.dtype == np.int32
    assert per_frame(f) == [5, 5]
    assert per_frame(to_frame(e, S, time_window=5, include_incomplete=True)) == [5, 5, 1]
    assert per_frame(to_frame(e, S, time_window=4, overlap=2)) == [4, 4, 4, 4]  # [0,4) [2,6) [4,8) [6,10)


def test_event_count_with_overlap():
    e = stream(list(range(10)))
    assert per_frame(to_frame(e, S, event_count=4)) == [4, 4]
    assert per_frame(to_frame(e, S, event_count=4, include_incomplete=True)) == [4, 4, 2]
    assert per_frame(to_frame(e, S, event_count=4, overlap=2)) == [4, 4, 4, 4]


def test_n_time_bins_cover_every_event_and_overlap():
    e = stream([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], xs=[0, 1, 2] * 3 + [0], ps=[0, 1] * 5)
    f = to_frame(e, S, n_time_bins=5)       # bins of 2 us
    assert per_frame(f) == [2] * 5 and f.sum() == 10
    assert f[0, 0, 0, 0] == 1 and f[0, 1, 0, 1] == 1     # t=0: x0 OFF; t=1: x1 ON
    g = to_frame(e, S, n_time_bins=3, overlap=0.5)       # length 10/2 = 5, stride 2.5
    assert per_frame(g) == [5, 5, 5]                      # [0,5) [2.5,7.5) [5,10)


def test_empty_streams_and_dtype():
    empty = E.empty_events()
    assert to_frame(empty, S, time_window=5).shape == (0, 2, 2, 3)
    assert to_frame(empty, S, event_count=5).shape == (0, 2, 2, 3)
    z = to_frame(empty, S, n_time_bins=4, dtype=np.uint8)
    assert z.shape == (4, 2, 2, 3) and z.dtype == np.uint8 and z.sum() == 0
    many = stream([0] * 300)
    with pytest.raises(ValueError, match="wider dtype"):
        to_frame(many, S, n_time_bins=1, dtype=np.uint8)


@pytest.mark.parametrize("kwargs, match", [
    (dict(), "exactly one"), (dict(time_window=5, event_count=3), "exactly one"),
    (dict(time_window=5, overlap=5), "overlap"), (dict(event_count=3, overlap=1.5), "overlap"),
    (dict(n_time_bins=0), "positive"), (dict(n_time_bins=3, overlap=1.0), "fraction"),
])
def test_to_frame_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        to_frame(stream([0, 1]), S, **kwargs)


def test_voxel_grid_linear_in_time():
    e = make_events([0, 1, 2], [0, 0, 1], [0, 5, 10], [1, 0, 1])
    g = to_voxel_grid(e, S, 3)          # s = 0, 1, 2
    assert g.shape == (3, 1, 2, 3) and g.dtype == np.float32
    assert g[0, 0, 0, 0] == 1 and g[1, 0, 0, 1] == -1 and g[2, 0, 1, 2] == 1 and np.abs(g).sum() == 3
    h = to_voxel_grid(make_events([0], [0], [0], [1]).repeat(1), S, 2)
    assert h[0, 0, 0, 0] == 1
    half = to_voxel_grid(make_events([0, 0, 1], [0, 0, 0], [0, 5, 10], [1, 1, 1]), S, 2)  # s = 0, .5, 1
    assert half[0, 0, 0, 0] == pytest.approx(1.5) and half[1, 0, 0, 0] == pytest.approx(0.5)
    assert to_voxel_grid(E.empty_events(), S, 2).sum() == 0
