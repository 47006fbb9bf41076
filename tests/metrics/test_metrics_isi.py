"""ISI distance: hand-computed pieces, identity and symmetry, and the window's errors."""

import pytest

from spikesmith.metrics import isi_distance

pytestmark = pytest.mark.usefixtures("one_thread")


def test_hand_computed_pieces():
    assert isi_distance([], [5.0], 0.0, 10.0) == pytest.approx(0.5)        # 10 vs 5 everywhere
    # a: intervals 0-4, 4-10; b: 0-10. On [0, 4]: |4 - 10| / 10; on [4, 10]: |6 - 10| / 10
    assert isi_distance([4.0], [], 0.0, 10.0) == pytest.approx((4 * 0.6 + 6 * 0.4) / 10)
    # same rate, shifted: intervals of 2 against 2 except at the edges
    assert isi_distance([2.0, 4.0, 6.0, 8.0], [2.0, 4.0, 6.0, 8.0], 0.0, 10.0) == 0.0


def test_symmetric_and_below_one():
    a, b = [1.0, 1.5, 2.0, 7.0], [3.0, 9.5]
    assert isi_distance(a, b, 0.0, 10.0) == pytest.approx(isi_distance(b, a, 0.0, 10.0))
    assert 0.0 < isi_distance(a, b, 0.0, 10.0) < 1.0


@pytest.mark.parametrize("args, match", [
    (([1.0], [2.0], 5.0, 5.0), "t_end > t_start"),
    (([1.0, 12.0], [2.0], 0.0, 10.0), "outside the window"),
    (([3.0, 1.0], [2.0], 0.0, 10.0), "must be sorted"),
    (([1.0], [2.0], 0.0, float("inf")), "t_end must be a finite number"),
])
def test_bad_windows_and_trains_are_refused(args, match):
    with pytest.raises(ValueError, match=match):
        isi_distance(*args)


def test_spike_distance_by_hand_and_its_properties():
    from spikesmith.metrics import spike_distance

    # a has only the edges; b adds a spike at 5, 5 from both edges. On [0, 5]: S_a = 0, S_b(t) = t,
    # x_a = 10, x_b = 5, so S(t) = 10 t / (2 * 7.5^2); both halves integrate to 250/225: D = 2/9
    assert spike_distance([], [5.0], 0.0, 10.0) == pytest.approx(2 / 9)
    assert spike_distance([2.0, 6.0], [2.0, 6.0], 0.0, 10.0) == 0.0
    a, b = [1.0, 3.0, 7.5], [1.2, 5.0, 9.0]
    assert spike_distance(a, b, 0.0, 10.0) == pytest.approx(spike_distance(b, a, 0.0, 10.0))
    near, far = spike_distance([3.0], [3.5], 0.0, 10.0), spike_distance([3.0], [6.0], 0.0, 10.0)
    assert 0 < near < far
    with pytest.raises(ValueError, match="outside the window"):
        spike_distance([11.0], [], 0.0, 10.0)
