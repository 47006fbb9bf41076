"""Property-based tests (hypothesis): transforms on any stream, empty ones included."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import spikesmith.events as E
from spikesmith.events import functional as F
from spikesmith.events import make_events

W, H = 7, 5
S = (W, H, 2)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def streams(draw, max_size=40, inside=True):
    n = draw(st.integers(0, max_size))
    lo_x, hi_x = (0, W - 1) if inside else (-3, W + 3)
    lo_y, hi_y = (0, H - 1) if inside else (-3, H + 3)
    xs = draw(st.lists(st.integers(lo_x, hi_x), min_size=n, max_size=n))
    ys = draw(st.lists(st.integers(lo_y, hi_y), min_size=n, max_size=n))
    ts = sorted(draw(st.lists(st.integers(0, 10_000), min_size=n, max_size=n)))
    ps = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    return make_events(xs, ys, ts, ps)


EVENT_TRANSFORMS = [
    E.Denoise(S, 500), E.RefractoryPeriod(300), E.Downsample(S, 0.5, 0.5), E.CenterCrop(S, (3, 3)),
    E.RandomCrop(S, (4, 2), seed=0), E.RandomFlipLR(S, seed=0), E.RandomFlipUD(S, seed=0),
    E.TimeJitter(50.0, seed=0), E.TimeSkew((0.5, 2.0), (0, 100), seed=0), E.SpatialJitter(S, 1.5, 1.5, seed=0),
    E.SpatialJitter(S, 1.5, 1.5, outside="clip", seed=0), E.DropEvent(0.3, seed=0), E.MergePolarities(),
]


@SETTINGS
@given(streams())
def test_event_transforms_keep_dtype_and_never_grow(events):
    for t in EVENT_TRANSFORMS:
        out = t(events)
        assert out.dtype == E.EVENT_DTYPE and out.ndim == 1
        assert len(out) <= len(events), t
        if not isinstance(t, (E.TimeJitter,)) or t.sort:
            assert E.is_sorted(out), t


def test_empty_stream_through_everything():
    empty = E.empty_events()
    for t in EVENT_TRANSFORMS:
        assert len(t(empty)) == 0
    assert E.ToFrame(S, n_time_bins=3)(empty).shape == (3, 2, H, W)
    assert E.ToFrame(S, time_window=10)(empty).shape == (0, 2, H, W)
    assert E.ToVoxelGrid(S, 3)(empty).shape == (3, 1, H, W)


@SETTINGS
@given(streams(inside=False))
def test_out_of_range_input_is_rejected_or_passes_when_inside(events):
    inside = bool(len(events) == 0 or (
        (events["x"] >= 0).all() and (events["x"] < W).all() and (events["y"] >= 0).all() and (events["y"] < H).all()))
    for t in [E.Denoise(S, 500), E.CenterCrop(S, 3), E.SpatialJitter(S), E.ToFrame(S, n_time_bins=2),
              E.RandomFlipLR(S), E.Downsample(S, 0.5)]:
        if inside:
            t(events)
        else:
            with pytest.raises(ValueError, match="outside the sensor"):
                t(events)


@SETTINGS
@given(streams(), st.integers(1, 6), st.floats(0, 0.9))
def test_frames_count_every_event(events, bins, overlap):
    f = E.ToFrame(S, n_time_bins=bins)(events)
    assert f.shape == (bins, 2, H, W) and f.sum() == len(events)
    g = E.ToFrame(S, n_time_bins=bins, overlap=overlap)(events)
    assert g.sum() >= len(events)                 # overlap counts some events twice, never drops one
    assert np.issubdtype(g.dtype, np.integer)


@SETTINGS
@given(streams(), st.integers(0, 1000))
def test_denoise_matches_a_naive_loop(events, filter_time):
    got = F.denoise(events, S, filter_time)
    ev = events.tolist()
    keep = []
    for i, (x, y, t, _) in enumerate(ev):
        ok = any(max(abs(x2 - x), abs(y2 - y)) == 1 and t - filter_time <= t2 <= t for x2, y2, t2, _ in ev)
        if ok:
            keep.append(i)
    np.testing.assert_array_equal(got, events[keep])


@SETTINGS
@given(streams(), st.integers(0, 2000))
def test_refractory_matches_a_naive_loop(events, period):
    got = F.refractory_period(events, period)
    last: dict[tuple[int, int], int] = {}
    keep = []
    for i, (x, y, t, _) in enumerate(events.tolist()):
        if (x, y) not in last or t - last[(x, y)] >= period:
            last[(x, y)] = t
            keep.append(i)
    np.testing.assert_array_equal(got, events[keep])


@SETTINGS
@given(streams(), st.floats(0, 3), st.floats(0, 3))
def test_spatial_jitter_outputs_stay_inside(events, sx, sy):
    for outside in ("drop", "clip"):
        out = F.spatial_jitter(events, S, sx, sy, outside, rng=1)
        E.check_events(out, S)
        if outside == "clip":
            assert len(out) == len(events)


@SETTINGS
@given(streams())
def test_npz_and_nmnist_round_trip(tmp_path_factory, events):
    d = tmp_path_factory.mktemp("rt")
    back, size = E.read(E.write(d / "e.npz", events, sensor_size=S))
    np.testing.assert_array_equal(back, events)
    assert size == S
    back2, _ = E.read(E.write(d / "e.bin", events))
    np.testing.assert_array_equal(back2, events)
