"""Victor–Purpura distance: hand-computed values, the vectorised recursion against a plain one, the
alignment behind it, binned trains, and bad input."""

import random

import pytest
import torch

from spikesmith.metrics import (victor_purpura, victor_purpura_alignment, victor_purpura_batch,
                                victor_purpura_binned)

pytestmark = pytest.mark.usefixtures("one_thread")


def plain_vp(a, b, q):
    """The textbook O(n m) recursion with Python floats (the oracle)."""
    d = [[0.0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = float(i)
    for j in range(len(b) + 1):
        d[0][j] = float(j)
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + q * abs(a[i - 1] - b[j - 1]))
    return d[-1][-1]


def test_hand_computed_values():
    assert victor_purpura([1.0], [1.5], q=1.0) == pytest.approx(0.5)
    assert victor_purpura([], [1.0, 2.0], q=1.0) == 2.0
    assert victor_purpura([1.0], [4.0], q=1.0) == 2.0                 # moving 3 would cost 3: delete + insert
    assert victor_purpura([1.0, 2.0], [5.0], q=0.0) == 1.0            # q = 0 counts the difference in number


def test_symmetric_and_zero_on_identical_trains():
    a, b = [1.0, 3.0, 7.5], [0.5, 3.2, 9.0, 12.0]
    assert victor_purpura(a, a, 2.0) == 0.0
    assert victor_purpura(a, b, 0.7) == pytest.approx(victor_purpura(b, a, 0.7))


def test_vectorised_batch_equals_the_plain_recursion():
    rng = random.Random(0)
    trains_a, trains_b = [], []
    for _ in range(30):
        trains_a.append(sorted(rng.uniform(0, 20) for _ in range(rng.randint(0, 7))))
        trains_b.append(sorted(rng.uniform(0, 20) for _ in range(rng.randint(0, 7))))
    got = victor_purpura_batch(trains_a, trains_b, q=0.6)
    want = torch.tensor([plain_vp(a, b, 0.6) for a, b in zip(trains_a, trains_b)], dtype=torch.float64)
    torch.testing.assert_close(got, want)


def test_alignment_accounts_for_the_distance():
    a, b, q = [1.0, 2.0, 3.0], [1.1, 5.0, 9.0, 9.5], 0.5
    al = victor_purpura_alignment(a, b, q)
    cost = sum(q * abs(a[i] - b[j]) for i, j in al.pairs) + len(al.only_a) + len(al.only_b)
    assert cost == pytest.approx(al.distance) and al.distance == pytest.approx(plain_vp(a, b, q))
    assert (0, 0) in al.pairs
    assert sorted([i for i, _ in al.pairs] + list(al.only_a)) == [0, 1, 2]
    assert sorted([j for _, j in al.pairs] + list(al.only_b)) == [0, 1, 2, 3]


def test_binned_trains_give_one_distance_per_neuron():
    a, b = torch.zeros(40, 2), torch.zeros(40, 2)
    a[10, 0], b[12, 0] = 1, 1                                         # moved by 2 steps of 0.5 -> 1.0 * q
    b[30, 1] = 1
    got = victor_purpura_binned(a, b, q=0.25, dt=0.5)
    torch.testing.assert_close(got, torch.tensor([0.25, 1.0], dtype=torch.float64))


@pytest.mark.parametrize("call, match", [
    (lambda: victor_purpura([2.0, 1.0], [1.0], 1.0), "must be sorted"),
    (lambda: victor_purpura([1.0], [1.0], -1.0), "q must be a finite number >= 0"),
    (lambda: victor_purpura([[1.0]], [1.0], 1.0), "1-D list of spike times"),
    (lambda: victor_purpura([float("nan")], [1.0], 1.0), "NaN or infinite"),
    (lambda: victor_purpura_batch([[1.0]], [], 1.0), "same number of trains"),
    (lambda: victor_purpura_binned(torch.zeros(3, 2), torch.zeros(3, 3), 1.0, 1.0), "same shape"),
    (lambda: victor_purpura_binned(torch.zeros(3), torch.zeros(3), 1.0, 0.0), "dt must be > 0"),
])
def test_bad_input_is_refused_with_the_fix(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_non_number_cost_is_a_type_error():
    with pytest.raises(TypeError, match="q must be a number"):
        victor_purpura([1.0], [1.0], "1")
