"""Every transform on hand-made event arrays with results worked out by hand."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import spikesmith.events as E
from spikesmith.events import functional as F
from spikesmith.events import make_events

S = (4, 3, 2)  # W=4, H=3


def ev(*rows):
    """rows of (x, y, t, p)."""
    if not rows:
        return E.empty_events()
    x, y, t, p = zip(*rows)
    return make_events(x, y, t, p)


def rows(e):
    return [tuple(int(v) for v in r) for r in e.tolist()]


def test_denoise_keeps_supported_events_only():
    e = ev((1, 1, 0, 1),      # alone at t=0: no neighbour before -> dropped
           (2, 1, 5, 0),      # neighbour (1,1) at t=0, 5 <= 10 -> kept
           (0, 0, 100, 1),    # neighbour (1,1) at 0, too old -> dropped
           (3, 2, 101, 1),    # neighbour (2,1) at 5, too old -> dropped
           (3, 2, 102, 1))    # only the same pixel -> dropped
    assert rows(F.denoise(e, S, 10)) == [(2, 1, 5, 0)]
    # same-time neighbours support each other
    assert len(E.Denoise(S, 0)(ev((0, 0, 7, 1), (1, 1, 7, 0)))) == 2
    assert len(E.Denoise(S, 10)(E.empty_events())) == 0


def test_refractory_period_uses_last_kept_event():
    e = ev((0, 0, 0, 1), (0, 0, 4, 1), (0, 0, 8, 0), (0, 0, 11, 1), (1, 0, 1, 1), (1, 0, 2, 1))
    # pixel (0,0): keep 0, drop 4 (<10), drop 8 (<10 after 0), keep 11; pixel (1,0): keep 1, drop 2
    assert rows(E.RefractoryPeriod(10)(e)) == [(0, 0, 0, 1), (1, 0, 1, 1), (0, 0, 11, 1)]
    assert len(E.RefractoryPeriod(0)(e)) == 6


def test_downsample_space_and_time():
    e = ev((3, 2, 1000, 1), (1, 1, 1999, 0))
    out = E.Downsample(S, spatial_factor=0.5, time_factor=0.001)(e)
    assert rows(out) == [(1, 1, 1, 1), (0, 0, 1, 0)]
    assert E.Downsample(S, 0.5).out_sensor_size == (2, 2, 2)
    assert F.downsample_sensor_size((34, 34, 2), 0.5) == (17, 17, 2)
    with pytest.raises(ValueError, match="spatial_factor"):
        E.Downsample(S, 2.0)(e)


def test_center_and_random_crop():
    e = ev((0, 0, 0, 1), (1, 1, 1, 1), (2, 1, 2, 0), (3, 2, 3, 1))
    assert rows(E.CenterCrop(S, (2, 1))(e)) == [(0, 0, 1, 1), (1, 0, 2, 0)]  # origin (1, 1)
    out = E.RandomCrop(S, (4, 3), seed=0)(e)  # the only window: identity
    assert rows(out) == rows(e)
    # a 1 x 1 window keeps the event of the pixel it lands on, or nothing; seeds pick different windows
    kept = {tuple(map(tuple, rows(E.RandomCrop(S, 1, seed=s)(e)))) for s in range(40)}
    assert len(kept) > 2
    with pytest.raises(ValueError, match="larger than the sensor"):
        E.CenterCrop(S, 5)(e)


def test_flips():
    e = ev((0, 0, 0, 1), (3, 2, 1, 0))
    assert rows(E.RandomFlipLR(S, p=1.0)(e)) == [(3, 0, 0, 1), (0, 2, 1, 0)]
    assert rows(E.RandomFlipUD(S, p=1.0)(e)) == [(0, 2, 0, 1), (3, 0, 1, 0)]
    assert rows(E.RandomFlipLR(S, p=0.0)(e)) == rows(e)
    flips = [rows(E.RandomFlipLR(S, p=0.5)(e, rng=s))[0][0] for s in range(50)]
    assert set(flips) == {0, 3}


def test_time_jitter_skew():
    e = ev((0, 0, 100, 1), (1, 0, 200, 0))
    assert rows(E.TimeJitter(0.0)(e)) == rows(e)
    j = E.TimeJitter(5.0, seed=1)(e)
    assert np.all(np.abs(j["t"] - np.array([100, 200])) < 40) and E.is_sorted(j)
    neg = E.TimeJitter(1000.0, clip_negative=True, seed=3)(e)
    assert np.all(neg["t"] >= 0)
    assert rows(E.TimeSkew(2.0, 5)(e)) == [(0, 0, 205, 1), (1, 0, 405, 0)]
    r = E.TimeSkew((1.0, 2.0), seed=0)(e)
    assert 100 <= r["t"][0] <= 200 and r["t"][1] == pytest.approx(2 * r["t"][0], abs=1)
    with pytest.raises(ValueError, match="coefficient"):
        E.TimeSkew(0.0)(e)


def test_spatial_jitter_drop_and_clip():
    e = ev(*[(0, 0, i, 1) for i in range(200)])
    dropped = E.SpatialJitter(S, 2.0, 2.0, seed=0)(e)
    clipped = E.SpatialJitter(S, 2.0, 2.0, outside="clip", seed=0)(e)
    assert 0 < len(dropped) < 200 and len(clipped) == 200
    E.check_events(dropped, S)
    E.check_events(clipped, S)
    assert rows(E.SpatialJitter(S, 0.0, 0.0)(e)) == rows(e)


def test_drop_event_and_merge():
    e = ev(*[(0, 0, i, i % 2) for i in range(1000)])
    assert len(E.DropEvent(0.0)(e)) == 1000 and len(E.DropEvent(1.0)(e)) == 0
    kept = len(E.DropEvent(0.3, seed=0)(e))
    assert 620 < kept < 780
    assert set(E.MergePolarities()(e)["p"].tolist()) == {0}
    with pytest.raises(ValueError, match="probability"):
        E.DropEvent(1.5)(e)


def test_seeded_transforms_repeat_and_advance():
    e = ev(*[(i % 4, i % 3, i, i % 2) for i in range(100)])
    a, b = E.DropEvent(0.5, seed=7), E.DropEvent(0.5, seed=7)
    first_a, first_b = a(e), b(e)
    assert rows(first_a) == rows(first_b)
    assert rows(a(e)) != rows(first_a)  # the generator advances between calls
    assert rows(E.DropEvent(0.5)(e, rng=3)) == rows(E.DropEvent(0.5)(e, rng=3))
    again = pickle.loads(pickle.dumps(b))
    assert rows(again(e)) == rows(b(e))


def test_compose_order_and_rng():
    e = ev((0, 0, 0, 1), (1, 1, 10, 0))
    t = E.Compose([E.RandomFlipLR(S, p=1.0), E.MergePolarities(), E.ToFrame(S, n_time_bins=1)])
    frames = t(e)
    assert frames.shape == (1, 2, 3, 4)
    assert frames[0, 0, 0, 3] == 1 and frames[0, 0, 1, 2] == 1 and frames.sum() == 2
    t2 = E.Compose([E.DropEvent(0.5), E.SpatialJitter(S, 1.0, 1.0)])
    assert rows(t2(e, rng=5)) == rows(t2(e, rng=5))
    with pytest.raises(TypeError):
        E.Compose([1])


def test_transforms_reject_out_of_range_input():
    bad = ev((4, 0, 0, 1))  # x = 4 on a W = 4 sensor
    for t in (E.Denoise(S, 5), E.Downsample(S, 0.5), E.CenterCrop(S, 2), E.RandomCrop(S, 2),
              E.RandomFlipLR(S), E.RandomFlipUD(S), E.SpatialJitter(S), E.ToFrame(S, n_time_bins=2),
              E.ToVoxelGrid(S, 2)):
        with pytest.raises(ValueError, match="outside the sensor"):
            t(bad)


def test_transform_rejects_bad_sensor_size_early():
    with pytest.raises(ValueError, match="ToFrame: sensor_size"):
        E.ToFrame((4, 3), n_time_bins=2)
