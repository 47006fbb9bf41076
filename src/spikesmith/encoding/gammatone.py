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
           "gammatone_filter", "filter_chunks", "fft_size", "envelope_chunks", "envelope_rate_steps", "GAMMATONE_ORDER", "GAMMATONE_B"]

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
    """Complex frequency response ``[C, F]`` (complex128) of the gammatones at ``cf``, unit gain at each f_c.

    ``freqs`` is ``[F]`` (one grid for all channels) or ``[C, F]`` (a grid per channel).
    """
    cf = cf.to(torch.float64)[:, None]
    a = _decay(cf)
    f = freqs.to(torch.float64)
    f = f[None, :] if f.dim() == 1 else f
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


def envelope_rate_steps(cf: Tensor, dt: float) -> Tensor:
    """Samples per spike step ``q`` (int64 ``[C]``) of each channel's envelope: ``q / dt`` covers the band
    ``f_c +- 3 b ERB(f_c)`` (the gammatone is 40 dB down at its edges), and ``q >= 2``."""
    band = 6.0 * GAMMATONE_B * erb(cf)
    return torch.clamp(torch.ceil(band * dt), min=2).to(torch.int64)


def envelope_chunks(audio: Tensor, sample_rate: float, cf: Tensor, factor: int, cache: dict | None = None,
                    max_numbers: int = 1 << 23):
    """Yield ``(channel indices, z [N, c, steps * q])``: each channel's complex envelope at ``q`` samples a step.

    ``z`` is the analytic signal of the channel's output shifted down by its centre frequency,
    ``y(t) = Re(z(t) exp(2 pi i f_c t))``, so ``|z|`` is the envelope of ``y``. It is computed from the
    ``M = q m`` FFT bins around ``f_c`` alone (``m`` steps in the padded clip): an inverse FFT of length
    ``M`` instead of the full clip's, which is what makes the envelope hair cell fast. ``factor`` is
    the samples per step (``sample_rate * dt``). Channels with one ``q`` are done together.
    """
    n_items, n_samples = audio.shape
    steps = -(-n_samples // factor)
    m = fft_size(-(-(n_samples + math.ceil(tail_seconds(cf) * sample_rate)) // factor))
    n_fft = factor * m
    work = torch.float64 if audio.dtype == torch.float64 else torch.float32
    spectrum = torch.fft.rfft(audio.to(work), n=n_fft)
    q_all = envelope_rate_steps(cf, factor / sample_rate)
    for q in sorted(set(q_all.tolist())):
        channels = torch.nonzero(q_all == q).flatten()
        M = q * m
        key = ("envelope", n_fft, float(sample_rate), spectrum.dtype, cf.numel(), float(cf[0]), float(cf[-1]), q)
        entry = None if cache is None else cache.get(key)
        if entry is None:
            offsets = (torch.arange(M) + M // 2) % M - M // 2              # ifft position -> bin offset
            centre = torch.round(cf[channels] * n_fft / sample_rate).to(torch.int64)
            bins = centre[:, None] + offsets[None, :]
            valid = (bins > 0) & (bins < spectrum.shape[-1])
            bins = bins.clamp(0, spectrum.shape[-1] - 1)
            response = gammatone_response(cf[channels], bins.to(torch.float64) * (sample_rate / n_fft))
            response = (response * valid * (2.0 * M / n_fft)).to(spectrum.dtype)
            entry = (bins, response)
            if cache is not None:
                cache[key] = entry
        bins, response = entry
        chunk = max(1, max_numbers // max(1, n_items * M))
        for start in range(0, len(channels), chunk):
            part = slice(start, start + chunk)
            z = torch.fft.ifft(spectrum[:, bins[part]] * response[None, part], dim=-1)[..., : steps * q]
            yield channels[part], z
