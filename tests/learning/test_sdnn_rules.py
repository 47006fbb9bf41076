"""The SDNN's learning pieces: the simplified STDP on hand-checkable cases, the winner-take-all
(one winner per map, the others inhibited at its position) and the errors."""

import math

import pytest
import torch

from spikesmith.learning.simplified_stdp import convergence, simplified_stdp, stdp_conv_winners
from spikesmith.learning.winner_take_all import Winner, lateral_inhibition, select_winners

INF = math.inf


def test_simplified_stdp_hand_checked():
    w = torch.tensor([0.5, 0.5, 0.2, 0.9], dtype=torch.float64)
    pre_first = torch.tensor([True, False, True, False])
    dw = simplified_stdp(w, pre_first, a_plus=0.004, a_minus=0.003)
    # +a+ w(1-w) where the input fired before/with the neuron, -a- w(1-w) elsewhere
    assert dw.tolist() == pytest.approx([0.004 * 0.25, -0.003 * 0.25, 0.004 * 0.16, -0.003 * 0.09], abs=1e-15)
    assert convergence(w) == pytest.approx((0.25 + 0.25 + 0.16 + 0.09) / 4)
    assert simplified_stdp(torch.tensor([0.0, 1.0]), torch.tensor([True, True]), 0.5, 0.5).tolist() == [0.0, 0.0]


def test_conv_stdp_moves_the_winner_map_only_by_its_receptive_field():
    weight = torch.full((2, 1, 2, 2), 0.5, dtype=torch.float64)
    times = torch.tensor([[[0.0, 3.0, INF], [1.0, 2.0, 0.0], [INF, INF, INF]]], dtype=torch.float64)  # [C=1, 3, 3]
    new = stdp_conv_winners(weight, times, [Winner(map=1, y=0, x=0, time=1.0)], a_plus=0.1, a_minus=0.05)
    assert torch.equal(new[0], weight[0])                               # map 0 did not win
    up, down = 0.5 + 0.1 * 0.25, 0.5 - 0.05 * 0.25
    # field rows 0..1, cols 0..1: times 0, 3 / 1, 2 against the post spike at 1
    assert new[1, 0].tolist() == [[up, down], [up, down]]


def test_lateral_inhibition_keeps_the_first_map_at_each_position():
    times = torch.tensor([[[1.0, INF]], [[0.0, 2.0]], [[0.0, 2.0]]])    # [maps=3, 1, 2]
    pots = torch.tensor([[[9.0, 0.0]], [[5.0, 3.0]], [[6.0, 3.0]]])
    out = lateral_inhibition(times, pots)
    # position 0: maps 1 and 2 fire at 0, map 2 has the larger potential; position 1: a tie -> lower map (1)
    assert out[:, 0, 0].tolist() == [INF, INF, 0.0]
    assert out[:, 0, 1].tolist() == [INF, 2.0, INF]
    assert bool((torch.isfinite(lateral_inhibition(torch.rand(2, 4, 3, 3), torch.rand(2, 4, 3, 3))).sum(1) <= 1).all())


def test_winners_one_per_map_and_the_others_inhibited_at_that_position():
    t = torch.full((3, 4, 4), INF)
    v = torch.zeros(3, 4, 4)
    t[0, 1, 1], v[0, 1, 1] = 0.0, 5.0        # first, but map 1 beats it at this position
    t[0, 3, 3], v[0, 3, 3] = 0.0, 4.0        # map 0's winner
    t[1, 1, 1], v[1, 1, 1] = 0.0, 9.0        # as early as map 0 there, with a larger potential
    t[2, 1, 1], v[2, 1, 1] = 1.0, 7.0        # another map at the winner's position: inhibited
    t[2, 3, 0], v[2, 3, 0] = 2.0, 1.0        # elsewhere: wins for map 2
    winners = select_winners(t, v, k=None, radius=0)
    assert winners[0] == Winner(1, 1, 1, 0.0)                           # earliest, then the larger potential
    assert [w.map for w in winners] == [1, 0, 2]
    assert winners[1] == Winner(0, 3, 3, 0.0)                           # map 0's (1, 1) lost to map 1 there
    assert winners[2] == Winner(2, 3, 0, 2.0)
    assert len({w.map for w in winners}) == len(winners)
    assert select_winners(t, v, k=1) == winners[:1]
    assert select_winners(t, v, radius=1) == winners                   # (3, 3) and (3, 0) lie outside radius 1
    assert select_winners(t, v, radius=2) == winners[:1]               # every position lies within 2 of (1, 1)
    one_map = torch.full((1, 4, 4), 0.0)
    assert len(select_winners(one_map, torch.rand(1, 4, 4))) == 1      # one winner per map per image
    assert select_winners(torch.full((2, 3, 3), INF), torch.zeros(2, 3, 3)) == []


@pytest.mark.parametrize("call, match", [
    (lambda: simplified_stdp(torch.rand(3), torch.ones(3, dtype=torch.bool), 0.0, 0.1), "a_plus must be > 0"),
    (lambda: simplified_stdp(torch.rand(3), torch.ones(3, dtype=torch.bool), -0.1, 0.1), "a_plus must be > 0"),
    (lambda: simplified_stdp(torch.rand(3), torch.ones(3, dtype=torch.bool), 0.1, -0.1), "a_minus must be >= 0"),
    (lambda: simplified_stdp(torch.rand(3), torch.ones(2, dtype=torch.bool), 0.1, 0.1), "pre_first"),
    (lambda: select_winners(torch.rand(2, 3, 3), torch.rand(2, 3, 3), k=0), "k must be an int >= 1"),
    (lambda: select_winners(torch.rand(2, 3, 3), torch.rand(2, 3, 3), radius=-1), "radius must be"),
    (lambda: select_winners(torch.rand(2, 3, 3), torch.rand(2, 3)), "one shape"),
])
def test_bad_input_is_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()
