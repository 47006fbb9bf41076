"""The Schreiber correlation: the cosine similarity of two spike trains filtered by a Gaussian.

Each spike becomes a Gaussian of width ``sigma``; the correlation of the filtered trains is

    C = <f_a, f_b> / (|f_a| |f_b|),   <f_a, f_b> = sum_ij G(a_i - b_j),   G(x) = exp(-x^2 / (4 sigma^2))

1 for identical trains, near 0 for trains with no spikes within a few ``sigma`` of each other
(Schreiber et al. 2003). It is undefined for a train without spikes. The binned form evaluates the same
sums on ``T x ...`` trains with one FFT convolution over time (memory O(T N)).

>>> schreiber_correlation([1.0, 5.0], [1.0, 5.0], sigma=1.0)
1.0
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from ._checks import binned_pair, pair_sum, positive, spike_times


def _gauss_sum(x: Tensor, y: Tensor, sigma: float) -> Tensor:
    return pair_sum(x, y, lambda d: torch.exp(-(d / (2 * sigma)) ** 2), reach=40.0 * sigma)   # e^-400


def schreiber_correlation(a: Sequence, b: Sequence, sigma: float) -> float:
    """The Schreiber correlation in [0, 1] of two non-empty sorted spike-time lists."""
    where = "schreiber_correlation"
    sigma = positive(sigma, where, "sigma")
    ta = spike_times(a, where, "a", allow_empty=False)
    tb = spike_times(b, where, "b", allow_empty=False)
    value = _gauss_sum(ta, tb, sigma) / torch.sqrt(_gauss_sum(ta, ta, sigma) * _gauss_sum(tb, tb, sigma))
    return min(float(value), 1.0)


def schreiber_correlation_binned(spikes_a: Tensor, spikes_b: Tensor, sigma: float, dt: float) -> Tensor:
    """The correlation of binned trains ``T x ...``, one per trailing element (``[N]`` for a ``T x N`` pair)."""
    where = "schreiber_correlation_binned"
    sigma, dt = positive(sigma, where, "sigma"), positive(dt, where, "dt")
    a, b = binned_pair(spikes_a, spikes_b, where)
    T, shape = a.shape[0], a.shape[1:]
    fa, fb = a.reshape(T, -1), b.reshape(T, -1)
    for name, f in (("spikes_a", fa), ("spikes_b", fb)):
        if bool((f.abs().sum(0) == 0).any()):
            raise ValueError(f"{where}: {name} has a train without spikes, for which the correlation is undefined; "
                             f"drop the empty trains (spikes.sum(0) == 0) first")
    lags = torch.arange(T, dtype=torch.float64) * dt
    half = torch.exp(-(lags / (2 * sigma)) ** 2)                        # the kernel at lags 0 .. T-1
    kernel = torch.cat([half.flip(0), half[1:]])                            # lags -(T-1) .. T-1
    size = 3 * T                                                            # linear, not circular, convolution

    def smooth(f: Tensor) -> Tensor:                                        # [T, N] -> [T, N]: K @ f, by FFT
        spectrum = torch.fft.rfft(f, n=size, dim=0) * torch.fft.rfft(kernel, n=size)[:, None]
        return torch.fft.irfft(spectrum, n=size, dim=0)[T - 1 : 2 * T - 1]

    sa, sb = smooth(fa), smooth(fb)
    value = (fa * sb).sum(0) / torch.sqrt((fa * sa).sum(0) * (fb * sb).sum(0))
    return value.clamp(0.0, 1.0).reshape(shape)                           # FFT round-off stays inside [0, 1]
