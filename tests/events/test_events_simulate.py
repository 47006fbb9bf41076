"""Static images to events: saccades (edges only, fewer events at higher thresholds), flash, Poisson."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import spikesmith.events as E
from spikesmith.events.simulate import saccade_path


def square(size=28, lo=8, hi=20, value=255):
    img = np.zeros((size, size), dtype=np.uint8)
    img[lo:hi, lo:hi] = value
    return img


def test_saccade_events_only_near_edges():
    img = square()
    ev, size = E.saccade_events(img, threshold=0.2)
    assert size == (34, 34, 2) and len(ev) > 0 and E.is_sorted(ev)
    E.check_events(ev, size)
    # image pixel (i, j) sits at sensor (i + 3, j + 3); edges at sensor rows/cols 11 and 22/23;
    # the image moves by at most 1.5 px either way, so only pixels within 2 px of an edge may fire
    xs, ys = ev["x"].astype(int), ev["y"].astype(int)
    near = lambda v: (np.abs(v - 11) <= 2) | (np.abs(v - 22.5) <= 2.5)   # noqa: E731
    inside_band = lambda v: (v >= 9) & (v <= 25)                          # noqa: E731
    assert np.all((near(xs) & inside_band(ys)) | (near(ys) & inside_band(xs)))
    # the square's flat inside (sensor 15..18) and the black border far away make nothing
    assert not np.any((xs >= 15) & (xs <= 18) & (ys >= 15) & (ys <= 18))
    assert len(E.saccade_events(np.zeros((28, 28), np.uint8))[0]) == 0
    assert len(E.saccade_events(np.full((28, 28), 200, np.uint8), margin=0)[0]) > 0  # image border = edge


def test_saccade_polarity_both_and_time_span():
    ev, _ = E.saccade_events(square(), steps_per_saccade=50)
    assert set(np.unique(ev["p"])) == {0, 1}
    assert ev["t"].min() > 0 and ev["t"].max() == 300_000


def test_event_count_falls_as_threshold_rises():
    img = np.random.default_rng(0).integers(0, 256, (28, 28)).astype(np.uint8)
    counts = [len(E.saccade_events(img, threshold=c, steps_per_saccade=30)[0]) for c in (0.05, 0.1, 0.2, 0.4, 0.8)]
    assert all(a > b for a, b in zip(counts, counts[1:])), counts


def test_refractory_and_noise_and_batch_equivalence():
    img = square()
    base, _ = E.saccade_events(img, steps_per_saccade=50)
    refr, _ = E.saccade_events(img, steps_per_saccade=50, refractory_us=20_000)
    assert len(refr) < len(base)
    assert np.all(np.diff(np.sort(E.RefractoryPeriod(20_000)(refr)["t"])) >= 0)
    assert len(E.RefractoryPeriod(20_000)(refr)) == len(refr)   # no pixel fires within its period
    noisy, _ = E.saccade_events(img, steps_per_saccade=50, noise_rate=50.0, rng=0)
    assert len(noisy) > len(base)
    again, _ = E.saccade_events(img, steps_per_saccade=50, noise_rate=50.0, rng=0)
    np.testing.assert_array_equal(noisy, again)
    batch, _ = E.saccade_events_batch(np.stack([img, img.T, np.zeros_like(img)]), steps_per_saccade=50)
    np.testing.assert_array_equal(batch[0], base)
    assert len(batch[2]) == 0 and len(batch[1]) == len(base)


def test_saccade_path_is_a_closed_triangle():
    path = saccade_path(3.0, 10)
    assert path.shape == (30, 2)
    np.testing.assert_allclose(path[9], [1.5, 3.0])
    np.testing.assert_allclose(path[19], [3.0, 0.0])
    np.testing.assert_allclose(path[-1], [0.0, 0.0])


def test_flash_events_counts_and_times():
    img = np.zeros((4, 5), dtype=np.float64)
    img[1, 2] = 1.0
    ev, size = E.flash_events(img, threshold=0.5, on_us=100_000, ramp_us=10_000, log_eps=0.1)
    assert size == (5, 4, 2)
    levels = int(np.floor((np.log(1.1) - np.log(0.1)) / 0.5))          # 4
    assert len(ev) == 2 * levels
    on, off = ev[ev["p"] == 1], ev[ev["p"] == 0]
    assert len(on) == len(off) == levels
    assert np.all(on["t"] <= 10_000) and np.all(off["t"] >= 100_000)
    assert np.all((ev["x"] == 2) & (ev["y"] == 1))
    t1 = round(10_000 * 0.1 * (np.exp(0.5) - 1))                          # first ON crossing
    assert on["t"][0] == t1


def test_poisson_events_rates():
    img = np.zeros((10, 10))
    img[:, 5:] = 1.0
    ev, size = E.poisson_events(img, duration_us=1_000_000, max_rate=100.0, rng=0)
    assert size == (10, 10, 2) and np.all(ev["p"] == 1) and np.all(ev["x"] >= 5)
    assert 4500 < len(ev) < 5500          # 50 pixels x 100 Hz x 1 s
    torch_ev, _ = E.poisson_events(torch.from_numpy(img), duration_us=1_000_000, max_rate=100.0, rng=0)
    np.testing.assert_array_equal(ev, torch_ev)


@pytest.mark.parametrize("bad, match", [
    (np.full((3, 3), 2.0), r"\[0, 1\]"), (np.zeros((2, 2, 2, 2)), "images must be"), (np.array(["a"]), "images must be"),
])
def test_bad_images(bad, match):
    with pytest.raises(ValueError, match=match):
        E.flash_events(bad)


def test_frames_from_simulated_sample_shapes():
    ev, size = E.saccade_events(square(), steps_per_saccade=30)
    f = E.ToFrame(size, n_time_bins=10)(ev)
    assert f.shape == (10, 2, 34, 34) and f.dtype == np.int32 and f.sum() == len(ev)
