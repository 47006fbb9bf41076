"""Matching target spikes within a tolerance, and the alignment's size guard."""

import pytest
import torch

from spikesmith.metrics import extra_spikes, matched_spikes, victor_purpura_alignment

pytestmark = pytest.mark.usefixtures("one_thread")


def test_each_reference_spike_looks_for_the_nearest_other_spike():
    got = matched_spikes([10.0, 50.0, 90.0, 95.0], [7.9, 11.5, 52.5, 93.0], tolerance=2.0)
    assert got.tolist() == [True, False, False, True]          # 90 is 3 ms from 93; 95 is 2 ms from it
    assert matched_spikes([10.0], [], 2.0).tolist() == [False]
    assert matched_spikes([], [1.0], 2.0).tolist() == []
    assert extra_spikes([10.0, 50.0], [7.0, 11.5, 80.0], tolerance=2.0) == 2


def test_matching_agrees_with_all_pairs_on_random_trains():
    g = torch.Generator().manual_seed(0)
    ref = torch.sort(torch.rand(200, generator=g, dtype=torch.float64) * 500).values
    oth = torch.sort(torch.rand(150, generator=g, dtype=torch.float64) * 500).values
    want = ((ref[:, None] - oth[None, :]).abs() <= 1.5).any(1)
    assert torch.equal(matched_spikes(ref, oth, 1.5), want)


def test_bad_tolerance_and_unsorted_trains_are_refused():
    with pytest.raises(ValueError, match="tolerance must be a finite number >= 0"):
        matched_spikes([1.0], [1.0], -1.0)
    with pytest.raises(ValueError, match="must be sorted"):
        matched_spikes([1.0], [3.0, 2.0], 1.0)


def test_alignment_refuses_a_table_too_big_to_keep():
    long = torch.arange(5000, dtype=torch.float64)
    with pytest.raises(ValueError, match="align shorter windows"):
        victor_purpura_alignment(long, long, 1.0)
