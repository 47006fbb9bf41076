"""Audio to spikes: a gammatone cochlea, a hair-cell stage and LIF (bushy-cell-like) spike generation.

Three stages, each a pure function, and :class:`Cochlea`, the module over them:

1. **Basilar membrane** (:mod:`spikesmith.encoding.gammatone`): ``channels`` 4th-order gammatones with
   centre frequencies evenly spaced on the ERB-rate scale (Glasberg & Moore), 700 by default as the
   Spiking Heidelberg Digits; ``y[n, c, s]``.
2. **Hair cell** (:func:`hair_cell`): half-wave rectification, power-law compression and a low-pass
   (the mean over each output step of ``D = sample_rate * dt`` samples: a boxcar, then decimation)::

       r[n, c, t] = mean_{s in step t} max(y[n, c, s], 0) ** exponent

3. **Spike generation** (:func:`lif_spikes`): one leaky integrate-and-fire neuron per channel, reset
   to zero after a spike::

       v[t] = beta v[t-1] + (1 - beta) gain r[t],   beta = exp(-dt / tau)
       s[t] = v[t] >= threshold,                      v[t] <- 0 where s[t]

   A channel whose steady drive ``gain r`` stays below ``threshold`` never fires, so silence is
   silent; a loud channel fires at most once a step.

Audio is float in [-1, 1] (full scale), ``[S]`` or ``[N, S]`` (a batch of clips of one length; pad
shorter clips with zeros). Spikes are ``[T, N, channels]`` with ``T = ceil(S / D)``, time first as
every spikesmith input, or event lists (``output="events"``): per clip ``(times, units)``, spike
times in seconds (the start of the step) and channel indices, sorted by time then unit.

Example::

    >>> cochlea = Cochlea(sample_rate=16000, channels=700, dt=1e-3)
    >>> spikes = cochlea(torch.randn(4, 16000) * 0.1)     # 1 s of noise, 4 clips
    >>> spikes.shape
    torch.Size([1000, 4, 700])
    >>> times, units = spikes_to_events(spikes, dt=cochlea.dt)[0]
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor, nn

from ._checks import check_choice, check_float_tensor, check_real
from .gammatone import erb_space, filter_chunks

__all__ = ["Cochlea", "cochlea_encode", "hair_cell", "lif_spikes", "spikes_to_events", "decimation_factor"]

_OUTPUTS = ("spikes", "events")


def decimation_factor(sample_rate: float, dt: float, where: str = "Cochlea") -> int:
    """Audio samples per spike step: ``round(sample_rate * dt)``, which must be at least 1."""
    factor = round(sample_rate * dt)
    if factor < 1:
        raise ValueError(f"{where}: dt={dt} s is shorter than one sample at {sample_rate} Hz; "
                         f"use dt >= {1.0 / sample_rate:g}")
    return factor


def hair_cell(y: Tensor, factor: int, exponent: float = 0.3) -> Tensor:
    """Rectify, compress and low-pass ``y`` ``[..., S]`` into ``[..., ceil(S / factor)]`` (module doc, stage 2)."""
    r = y.clamp_min(0.0).pow_(exponent) if exponent != 1.0 else y.clamp_min(0.0)
    steps = -(-y.shape[-1] // factor)
    pad = steps * factor - y.shape[-1]
    if pad:
        r = torch.nn.functional.pad(r, (0, pad))
    return r.unflatten(-1, (steps, factor)).mean(-1)


def lif_spikes(drive: Tensor, beta: float, gain: float, threshold: float = 1.0) -> Tensor:
    """LIF spikes ``[T, ...]`` (0/1 in drive's dtype) from a drive ``[T, ...]`` (module doc, stage 3)."""
    v = torch.zeros_like(drive[0])
    spikes = torch.empty_like(drive)
    scaled = drive * ((1.0 - beta) * gain)
    for t in range(drive.shape[0]):
        v.mul_(beta).add_(scaled[t])
        fired = v >= threshold
        spikes[t] = fired
        v.masked_fill_(fired, 0.0)
    return spikes


def spikes_to_events(spikes: Tensor, dt: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Event lists from spikes ``[T, N, C]``: per clip ``(times float64 s, units int64)``, by time then unit.

    A step holding ``k > 1`` spikes (a count) gives ``k`` events at its time.
    """
    if spikes.dim() != 3:
        raise ValueError(f"spikes_to_events expects spikes [T, N, C], got shape {list(spikes.shape)}")
    events = []
    for n in range(spikes.shape[1]):
        counts = spikes[:, n].round().to(torch.int64)
        steps, units = torch.nonzero(counts > 0, as_tuple=True)
        repeat = counts[steps, units]
        steps, units = steps.repeat_interleave(repeat), units.repeat_interleave(repeat)
        events.append((steps.numpy().astype(np.float64) * dt, units.numpy().astype(np.int64)))
    return events


def _check_audio(audio: object, where: str) -> tuple[Tensor, bool]:
    audio = check_float_tensor(audio, where, "audio")
    if audio.dim() not in (1, 2):
        raise ValueError(f"{where}: audio must be [samples] or [N, samples], got shape {list(audio.shape)}; "
                         f"pad clips of different lengths with zeros to one length")
    if audio.shape[-1] == 0 or audio.numel() == 0:
        raise ValueError(f"{where}: the audio clip is empty (shape {list(audio.shape)}): there is nothing to "
                         f"encode; give at least one sample per clip")
    if not torch.isfinite(audio).all():
        raise ValueError(f"{where}: audio contains inf; clean it first, e.g. torch.nan_to_num(audio)")
    return (audio[None], True) if audio.dim() == 1 else (audio, False)


def cochlea_encode(audio: Tensor, sample_rate: float, *, channels: int = 700, f_min: float = 50.0,
                   f_max: float | None = None, dt: float = 1e-3, exponent: float = 0.3, tau: float = 5e-3,
                   gain: float = 20.0, threshold: float = 1.0, centre_frequencies: Tensor | None = None,
                   output: str = "spikes", cache: dict | None = None):
    """Spikes ``[T, N, channels]`` (or ``[T, channels]`` for a clip ``[S]``) of ``audio``; see the module doc.

    Args:
        audio: float ``[S]`` or ``[N, S]``, full scale [-1, 1], at ``sample_rate`` Hz.
        channels: number of gammatone channels (ignored when ``centre_frequencies`` is given).
        f_min, f_max: the lowest and highest centre frequency (Hz); ``f_max`` defaults to 0.45 sample_rate.
        dt: spike step in seconds (rounded to a whole number of samples).
        exponent: the hair cell's compression ``r = max(y, 0) ** exponent``.
        tau: the LIF membrane time constant in seconds.
        gain, threshold: the LIF's input gain and threshold (fires while ``gain * r`` stays above it).
        output: ``'spikes'`` (a tensor) or ``'events'`` (a list of ``(times, units)`` per clip).
        cache: a dict kept between calls that holds the filter responses (clips of one length reuse them).
    """
    where = "cochlea_encode"
    audio, single = _check_audio(audio, where)
    sample_rate = check_real(sample_rate, where, "sample_rate")
    if not sample_rate > 0:
        raise ValueError(f"{where}: sample_rate must be positive (Hz), got {sample_rate}")
    check_choice(output, where, "output", _OUTPUTS)
    for name, value in (("dt", dt), ("tau", tau), ("exponent", exponent), ("gain", gain), ("threshold", threshold)):
        if not check_real(value, where, name) > 0:
            raise ValueError(f"{where}: {name} must be positive, got {value}")
    if centre_frequencies is None:
        f_max = 0.45 * sample_rate if f_max is None else f_max
        if f_max >= sample_rate / 2:
            raise ValueError(f"{where}: f_max={f_max} Hz must lie below the Nyquist frequency {sample_rate / 2} Hz")
        centre_frequencies = erb_space(f_min, f_max, channels)
    factor = decimation_factor(sample_rate, dt, where)
    steps = -(-audio.shape[-1] // factor)
    drive = torch.empty(steps, audio.shape[0], centre_frequencies.numel(), dtype=audio.dtype)
    for part, y in filter_chunks(audio, sample_rate, centre_frequencies, cache=cache):
        drive[:, :, part] = hair_cell(y, factor, exponent).permute(2, 0, 1)
    beta = math.exp(-(factor / sample_rate) / tau)
    spikes = lif_spikes(drive, beta, gain, threshold)
    if output == "events":
        return spikes_to_events(spikes, factor / sample_rate)
    return spikes[:, 0] if single else spikes


class Cochlea(nn.Module):
    """Audio ``[N, S]`` -> spikes ``[T, N, channels]`` (or event lists): :func:`cochlea_encode` with its options held.

    ``centre_frequencies`` (float64 ``[channels]``, Hz, increasing) and ``dt`` (the spike step in
    seconds, a whole number of samples) are attributes, so a raster can be labelled with them.
    """

    def __init__(self, sample_rate: float = 16000.0, channels: int = 700, f_min: float = 50.0,
                 f_max: float | None = None, dt: float = 1e-3, exponent: float = 0.3, tau: float = 5e-3,
                 gain: float = 20.0, threshold: float = 1.0, output: str = "spikes"):
        super().__init__()
        where = "Cochlea"
        self.sample_rate = check_real(sample_rate, where, "sample_rate")
        if not self.sample_rate > 0:
            raise ValueError(f"{where}: sample_rate must be positive (Hz), got {sample_rate}")
        f_max = 0.45 * self.sample_rate if f_max is None else f_max
        if f_max >= self.sample_rate / 2:
            raise ValueError(f"{where}: f_max={f_max} Hz must lie below the Nyquist frequency "
                             f"{self.sample_rate / 2} Hz")
        self.centre_frequencies = erb_space(f_min, f_max, channels)
        self.dt = decimation_factor(self.sample_rate, dt, where) / self.sample_rate
        self.options = dict(exponent=exponent, tau=tau, gain=gain, threshold=threshold,
                            output=check_choice(output, where, "output", _OUTPUTS))
        self._responses: dict = {}

    @property
    def channels(self) -> int:
        return self.centre_frequencies.numel()

    def forward(self, audio: Tensor):
        return cochlea_encode(audio, self.sample_rate, dt=self.dt, centre_frequencies=self.centre_frequencies,
                              cache=self._responses, **self.options)

    def extra_repr(self) -> str:
        cf = self.centre_frequencies
        return (f"sample_rate={self.sample_rate:g}, channels={self.channels}, "
                f"f={float(cf[0]):.0f}..{float(cf[-1]):.0f} Hz, dt={self.dt:g}, "
                + ", ".join(f"{k}={v}" for k, v in self.options.items()))
