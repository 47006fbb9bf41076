"""Which spikes of a reference train are matched by a spike of another train within a tolerance.

``matched_spikes(target, output, 2.0)[j]`` is True when some output spike lies within 2 (time units)
of target spike j; ``extra_spikes`` counts the output spikes near no target spike. Each reference spike is
tested on its own (one output spike may match two target spikes closer than twice the tolerance).

>>> matched_spikes([10.0, 50.0], [11.5, 80.0], tolerance=2.0)
tensor([ True, False])
>>> extra_spikes([10.0, 50.0], [11.5, 80.0], tolerance=2.0)
1
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from ._checks import non_negative, spike_times


def matched_spikes(reference: Sequence, other: Sequence, tolerance: float) -> Tensor:
    """A bool tensor, one entry per spike of ``reference``: is a spike of ``other`` within ``tolerance``?"""
    where = "matched_spikes"
    tolerance = non_negative(tolerance, where, "tolerance")
    ref, oth = spike_times(reference, where, "reference"), spike_times(other, where, "other")
    if oth.numel() == 0:
        return ref < ref                                                     # all False, shape of ref
    # both sorted: the nearest spike of ``other`` is one of the two around each reference spike
    right = torch.searchsorted(oth, ref).clamp(max=oth.numel() - 1)
    left = (right - 1).clamp(min=0)
    nearest = torch.minimum((oth[right] - ref).abs(), (oth[left] - ref).abs())
    return nearest <= tolerance


def extra_spikes(reference: Sequence, other: Sequence, tolerance: float) -> int:
    """How many spikes of ``other`` lie farther than ``tolerance`` from every spike of ``reference``."""
    return int((~matched_spikes(other, reference, tolerance)).sum())
