"""Encoders: images and signals -> spike trains, time first.

Static inputs ``[N, ...]`` (float, usually in [0, 1]) become ``[T, N, ...]`` trains in the input's
dtype; every encoder is a pure function plus a thin ``nn.Module`` holding ``T`` and the options:

- ``poisson``: poisson_encode / PoissonEncoder -- Bernoulli spikes with P = x * max_rate (seeded)
- ``rate``: rate_encode / RateEncoder -- evenly spaced spikes, exactly floor(x T) (or rounded)
- ``latency``: latency_encode / LatencyEncoder -- one spike, linear or log time-to-first-spike
- ``population``: population_encode / PopulationEncoder -- Gaussian receptive fields,
  ``[T, N, ..., n_neurons]``
- ``delta``: delta_encode / DeltaEncoder -- +1/-1 on changes of a ``[T, N, ...]`` signal
- ``direct``: direct_encode / DirectEncoder -- the analog input repeated over T
- ``none``: IdentityEncoder -- already-temporal ``[T, N, ...]`` data passed through

Audio: ``Cochlea`` / ``cochlea_encode`` turn clips ``[N, samples]`` into ``[T, N, channels]`` spikes
(a gammatone filterbank, a hair cell, LIF spike generation; :mod:`.cochlea`), not in ``ENCODERS``
(its input is a waveform, not a value to encode over T).

``get_encoder(name, T, **options)`` builds a module by name.
"""

from .cochlea import Cochlea, cochlea_encode, spikes_to_events
from .delta import DeltaEncoder, delta_encode
from .direct import DirectEncoder, IdentityEncoder, direct_encode
from .latency import LatencyEncoder, latency_encode, latency_times, times_to_spikes
from .poisson import PoissonEncoder, poisson_encode
from .population import (
    PopulationEncoder,
    gaussian_receptive_fields,
    population_centres,
    population_encode,
)
from .rate import RateEncoder, rate_encode
from .registry import ENCODERS, get_encoder

__all__ = [
    "Cochlea",
    "cochlea_encode",
    "spikes_to_events",
    "poisson_encode",
    "PoissonEncoder",
    "rate_encode",
    "RateEncoder",
    "latency_times",
    "times_to_spikes",
    "latency_encode",
    "LatencyEncoder",
    "population_centres",
    "gaussian_receptive_fields",
    "population_encode",
    "PopulationEncoder",
    "delta_encode",
    "DeltaEncoder",
    "direct_encode",
    "DirectEncoder",
    "IdentityEncoder",
    "ENCODERS",
    "get_encoder",
]
