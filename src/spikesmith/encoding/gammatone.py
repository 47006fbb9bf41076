"""A gammatone filterbank: ERB-spaced centre frequencies and 4th-order gammatone filters, applied by FFT.

Glasberg & Moore (1990) give the equivalent rectangular bandwidth of the auditory filter at ``f`` Hz
and the ERB-rate scale (the number of ERBs below ``f``)::

    ERB(f)     = 24.7 * (4.37 f / 1000 + 1)                 Hz
    ERBrate(f) = 21.4 * log10(1 + 4.37 f / 1000)             ERBs

Centre frequencies are evenly spaced on the ERB-rate scale from ``f_min`` to ``f_max``. Channel ``c``'s
gammatone of order ``n = 4`` has the impulse response::

    g(t) = t^(n-1) exp(-a t) cos(2 pi f_c t),     a = 2 pi b ERB(f_c),  b = 1.019,  t >= 0

whose Fourier transform is, exactly (the cosine is two complex exponentials)::

    G(f) = (n-1)!/2 * [ (a + 2 pi i (f - f_c))^-n + (a + 2 pi i (f + f_c))^-n ]

The bank uses ``G`` on the FFT grid, scaled to unit gain at ``f_c``; the signal is zero-padded by
``tail_seconds`` (15 time constants of the slowest filter, where ``g`` has fallen below 1e-3 of its
peak), so the circular convolution of the FFT equals the causal linear one to that precision.

Shapes: audio ``[N, S]`` -> filtered ``[N, C, S]``::

    >>> cf = erb_space(100.0, 4000.0, 32)
    >>> gammatone_filter(torch.randn(2, 1600), 16000, cf).shape
    torch.Size([2, 32, 1600])
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["erb", "erb_rate", "erb_rate_inverse", "erb_space", "gammatone_response", "tail_seconds",
           "gammatone_filter", "filter_chunks", "fft_size", "GAMMATONE_ORDER", "GAMMATONE_B"]

GAMMATONE_ORDER = 4
"""Order n of the gammatone filters (4, as in most auditory models)."""

GAMMATONE_B = 1.019
"""Bandwidth factor b: the filter's time constant is 1 / (2 pi b ERB(f_c))."""


def erb(f: Tensor | float) -> Tensor:
    """Equivalent rectangular bandwidth in Hz at frequency ``f`` Hz (Glasberg & Moore 1990)."""
    return 24.7 * (4.37 * torch.as_tensor(f, dtype=torch.float64) / 1000.0 + 1.0)


def erb_rate(f: Tensor | float) -> Tensor:
    """Number of ERBs below ``f`` Hz: ``21.4 log10(1 + 4.37 f / 1000)``."""
    return 21.4 * torch.log10(1.0 + 4.37 * torch.as_tensor(f, dtype=torch.float64) / 1000.0)


def erb_rate_inverse(e: Tensor | float) -> Tensor:
    """The frequency in Hz that lies ``e`` ERBs up: the inverse of :func:`erb_rate`."""
    return (torch.pow(10.0, torch.as_tensor(e, dtype=torch.float64) / 21.4) - 1.0) * 1000.0 / 4.37


def erb_space(f_min: float, f_max: float, channels: int) -> Tensor:
    """``channels`` centre frequencies (float64, Hz, increasing) evenly spaced in ERB-rate over [f_min, f_max]."""
    if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
        raise ValueError(f"erb_space: channels must be a positive int, got {channels!r}")
    if not (0.0 < f_min < f_max) or math.isinf(f_max):
        raise ValueError(f"erb_space: need 0 < f_min < f_max (Hz), got f_min={f_min}, f_max={f_max}")
    if channels == 1:
        return erb_rate_inverse(erb_rate(math.sqrt(f_min * f_max))).reshape(1)
    return erb_rate_inverse(torch.linspace(float(erb_rate(f_min)), float(erb_rate(f_max)), channels,
                                           dtype=torch.float64))


def _decay(cf: Tensor) -> Tensor:
    return 2.0 * math.pi * GAMMATONE_B * erb(cf)


def tail_seconds(cf: Tensor) -> float:
    """Zero padding the FFT filtering needs: 15 time constants of the slowest (lowest) filter."""
    return 15.0 / float(_decay(cf).min())


def gammatone_response(cf: Tensor, freqs: Tensor) -> Tensor:
    """Complex frequency response ``[C, F]`` (complex128) of the gammatones at ``cf``, unit gain at each f_c."""
    cf = cf.to(torch.float64)[:, None]
    a = _decay(cf)
    f = freqs.to(torch.float64)[None, :]
    n = GAMMATONE_ORDER

    def pole(shift: Tensor) -> Tensor:
        return torch.complex(a.expand_as(shift), 2.0 * math.pi * shift) ** (-n)

    peak = pole(torch.zeros_like(cf)) + pole(2.0 * cf)
    return (pole(f - cf) + pole(f + cf)) / peak


def fft_size(n: int) -> int:
    """The smallest ``2^a 3^b 5^c >= n``: an FFT length the FFT computes fast, at most about 1.1 n."""
    best = 1 << max(0, math.ceil(math.log2(max(n, 1))))
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            size = p35
            while size < n:
                size *= 2
            best = min(best, size)
            p35 *= 3
        p5 *= 5
    return best


def gammatone_filter(audio: Tensor, sample_rate: float, cf: Tensor, channel_chunk: int | None = None,
                     cache: dict | None = None) -> Tensor:
    """Filter ``audio`` ``[N, S]`` through the gammatones at ``cf``: ``[N, C, S]`` in audio's dtype.

    ``channel_chunk`` bounds memory: channels are filtered that many at a time (default: so that one
    chunk's complex spectra hold about 2^24 numbers). ``cache`` (a dict the caller keeps) holds the
    responses per FFT length, so clips of one length pay for them once. Use :func:`filter_chunks` to
    consume the chunks without holding ``[N, C, S]`` at once.
    """
    return torch.cat([y for _, y in filter_chunks(audio, sample_rate, cf, channel_chunk, cache)], dim=1)


def filter_chunks(audio: Tensor, sample_rate: float, cf: Tensor, channel_chunk: int | None = None,
                  cache: dict | None = None):
    """Yield ``(channel slice, filtered [N, c, S])`` over chunks of channels (see :func:`gammatone_filter`)."""
    n_items, n_samples = audio.shape
    n_fft = fft_size(n_samples + math.ceil(tail_seconds(cf) * sample_rate))
    work = torch.float64 if audio.dtype == torch.float64 else torch.float32
    spectrum = torch.fft.rfft(audio.to(work), n=n_fft)
    key = (n_fft, float(sample_rate), spectrum.dtype, cf.numel(), float(cf[0]), float(cf[-1]))
    response = None if cache is None else cache.get(key)
    if response is None:
        freqs = torch.fft.rfftfreq(n_fft, d=1.0 / sample_rate, dtype=torch.float64)
        response = gammatone_response(cf, freqs).to(spectrum.dtype)
        if cache is not None:
            cache.clear()
            cache[key] = response
    if channel_chunk is None:
        channel_chunk = max(1, (1 << 24) // max(1, n_items * spectrum.shape[-1]))
    for start in range(0, cf.numel(), channel_chunk):
        part = slice(start, min(start + channel_chunk, cf.numel()))
        y = torch.fft.irfft(spectrum[:, None, :] * response[None, part], n=n_fft)[..., :n_samples]
        yield part, y.to(audio.dtype)
