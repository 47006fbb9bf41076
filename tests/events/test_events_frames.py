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


# --------------------------------------------------------------------------- output size (issue 14)
import os  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

DATA = Path(os.environ.get("SPIKESMITH_SHARED", Path(__file__).resolve().parents[3] / "shared")) / "data" / "events"


def _fails_small_and_fast(call, match):
    tracemalloc.start()
    try:
        start = time.perf_counter()
        with pytest.raises(ValueError, match=match) as err:
            call()
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 1.0 and peak < 64 << 20, (elapsed, peak)
    return str(err.value)


def test_one_stray_timestamp_cannot_force_a_huge_frame_tensor():
    # one event 10 s late on a 320 x 240 sensor: time_window=1000 would ask for 10,001 frames = 6.1 GB
    e = make_events([0, 1, 2], [0, 0, 0], [0, 500, 10_000_000], [1, 0, 1])
    msg = _fails_small_and_fast(lambda: to_frame(e, (320, 240, 2), time_window=1000, include_incomplete=True),
                                r"to_frame: the output would be \[10001, 2, 240, 320\] int32 = 6144614400 bytes")
    assert "max_bytes=" in msg
    # the same call goes through when the caller raises the limit (here on a small sensor)
    assert to_frame(e, (3, 1, 2), time_window=1000, include_incomplete=True).shape == (10001, 2, 1, 3)


def test_hostile_time_span_fails_before_the_window_arrays():
    # a span of 2**62 µs with 1 µs windows: even the per-frame window arrays would not fit
    e = make_events([0, 0], [0, 0], [0, 1 << 62], [0, 0])
    _fails_small_and_fast(lambda: to_frame(e, (1, 1, 1), time_window=1), "to_frame: the output would be")
    _fails_small_and_fast(lambda: E.ToFrame((1, 1, 1), time_window=1)(e), "max_bytes")


def test_max_bytes_is_the_limit_and_none_lifts_it():
    e = stream([0, 1, 2])
    assert to_frame(e, S, n_time_bins=2, max_bytes=2 * 2 * 2 * 3 * 4).shape == (2, 2, 2, 3)
    with pytest.raises(ValueError, match="96 bytes.*max_bytes=95"):
        to_frame(e, S, n_time_bins=2, max_bytes=95)
    assert to_frame(e, S, n_time_bins=2, max_bytes=None).shape == (2, 2, 2, 3)
    with pytest.raises(ValueError, match="max_bytes must be a positive int or None"):
        to_frame(e, S, n_time_bins=2, max_bytes=0)


def test_voxel_grid_size_is_checked_first():
    e = stream([0, 1, 2])
    _fails_small_and_fast(lambda: to_voxel_grid(e, (1000, 1000, 2), n_time_bins=10**6),
                          r"to_voxel_grid: the output would be \[1000000, 1, 1000, 1000\] float32")
    with pytest.raises(ValueError, match="max_bytes"):
        E.ToVoxelGrid((3, 2, 2), n_time_bins=100, max_bytes=100)(e)


@pytest.mark.skipif(not (DATA / "sample.aedat4").is_file(), reason="real recordings not present")
def test_real_aedat4_sample_with_one_timestamp_moved_ten_seconds():
    pytest.importorskip("aedat")
    ev, size = E.read(DATA / "sample.aedat4")
    ev = ev.copy()
    ev["t"][len(ev) // 2] += 10_000_000       # the case: this passed 2.2 GB
    msg = _fails_small_and_fast(lambda: to_frame(ev, size, time_window=1000), "to_frame: the output would be")
    assert "[10589, 2, 240, 320]" in msg or "GiB" in msg
