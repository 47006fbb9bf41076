"""Spike-train metrics: pure functions on spike-time lists and on binned ``T x ...`` trains.

Victor–Purpura (an edit distance, with its alignment), van Rossum (L2 of exponentially filtered trains),
Schreiber correlation (cosine of Gaussian-filtered trains), the ISI and SPIKE distances (Kreuz), and
``matched_spikes`` / ``extra_spikes`` (spikes matched within a tolerance).

Spike-time lists are sorted 1-D sequences (list, numpy array or tensor) in any time unit; the
parameters ``q`` (cost per unit time), ``tau`` and ``sigma`` are in the same unit. Binned trains are
time first, with the step ``dt`` in that unit, and give one value per trailing element.

>>> from spikesmith import metrics
>>> metrics.victor_purpura([1.0], [1.5], q=1.0)                 # move one spike by 0.5
0.5
>>> metrics.van_rossum([10.0], [], tau=5.0)                     # one spike against none
1.0
>>> metrics.van_rossum_binned(out_spikes, target_spikes, tau=5.0, dt=0.5)   # doctest: +SKIP
"""

from ._checks import spike_times as as_spike_times
from .isi import isi_distance
from .matching import extra_spikes, matched_spikes
from .spike_distance import spike_distance
from .schreiber import schreiber_correlation, schreiber_correlation_binned
from .van_rossum import van_rossum, van_rossum_binned
from .victor_purpura import (Alignment, victor_purpura, victor_purpura_alignment, victor_purpura_batch,
                             victor_purpura_binned)

__all__ = [
    "Alignment", "as_spike_times", "extra_spikes", "isi_distance", "matched_spikes", "schreiber_correlation",
    "schreiber_correlation_binned", "spike_distance", "van_rossum", "van_rossum_binned", "victor_purpura",
    "victor_purpura_alignment", "victor_purpura_batch", "victor_purpura_binned",
]
