"""The gammatone cochlea: ERB spacing by formula, filter gains, tones in the right channel, batching, errors."""

import math

import numpy as np
import pytest
import torch

from spikesmith.encoding import Cochlea, cochlea_encode, spikes_to_events
from spikesmith.encoding.cochlea import hair_cell_envelope, hair_cell_rectify, lif_spikes, rectified_power_mean
from spikesmith.encoding.gammatone import (
    envelope_chunks,
    envelope_rate_steps,
    erb,
    erb_rate,
    erb_rate_inverse,
    erb_space,
    fft_size,
    filter_chunks,
    gammatone_filter,
    gammatone_response,
)

SR = 16000.0


def _tone(freq, seconds=0.25, amplitude=0.03, sr=SR):
    """A sine with 10 ms raised-cosine ramps (no onset click to spread over the channels)."""
    t = torch.arange(int(seconds * sr), dtype=torch.float64) / sr
    ramp = torch.clamp(torch.minimum(t, t[-1] - t) / 0.01, max=1.0)
    return (amplitude * torch.sin(2 * math.pi * freq * t) * (0.5 - 0.5 * torch.cos(math.pi * ramp))).to(torch.float32)


def test_erb_by_hand():
    # Glasberg & Moore: ERB(1000) = 24.7 * 5.37 = 132.639 Hz; ERBrate(1000) = 21.4 log10(5.37)
    assert float(erb(1000.0)) == pytest.approx(132.639)
    assert float(erb_rate(1000.0)) == pytest.approx(21.4 * math.log10(5.37))
    assert float(erb_rate_inverse(erb_rate(3456.0))) == pytest.approx(3456.0)


def test_centre_frequencies_increase_and_are_evenly_spaced_in_erb_rate():
    cf = erb_space(50.0, 7200.0, 700)
    assert cf.shape == (700,)
    assert float(cf[0]) == pytest.approx(50.0) and float(cf[-1]) == pytest.approx(7200.0)
    assert bool((cf[1:] > cf[:-1]).all())
    steps = erb_rate(cf).diff()
    assert torch.allclose(steps, steps.mean().expand_as(steps), rtol=1e-9)
    assert torch.equal(Cochlea(channels=700).centre_frequencies, cf)


def test_response_unit_gain_at_centre_and_peak_there():
    cf = erb_space(100.0, 6000.0, 16)
    freqs = torch.linspace(0, SR / 2, 40001, dtype=torch.float64)
    gain = gammatone_response(cf, freqs).abs()
    at_cf = gammatone_response(cf, cf).diagonal().abs()
    assert torch.allclose(at_cf, torch.ones(16, dtype=torch.float64), atol=1e-12)
    peaks = freqs[gain.argmax(1)]
    assert torch.allclose(peaks, cf, rtol=0.01)
    # 4th order: one ERB/b away from f_c the gain is about (1 + 1)^-2 = 1/4 (the mirror pole adds little)
    one_erb = gammatone_response(cf[8:9], cf[8:9] + 1.019 * erb(cf[8:9])).abs()
    assert float(one_erb) == pytest.approx(0.25, rel=0.02)


def test_fft_filter_matches_direct_convolution_with_impulse_response():
    cf = torch.tensor([300.0, 1500.0], dtype=torch.float64)
    x = torch.randn(1, 800, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    y = gammatone_filter(x, SR, cf)
    t = torch.arange(4000, dtype=torch.float64) / SR
    for c, f in enumerate(cf.tolist()):
        a = 2 * math.pi * 1.019 * float(erb(f))
        g = t ** 3 * torch.exp(-a * t) * torch.cos(2 * math.pi * f * t)
        # the transform of g is 3!/2 [(a + 2 pi i (f - f_c))^-4 + ...]; the bank divides by its value at f_c
        peak = 3.0 * ((complex(a, 0.0)) ** -4 + complex(a, 4 * math.pi * f) ** -4)
        direct = np.convolve(x[0].numpy(), g.numpy())[:800] / SR / abs(peak)
        np.testing.assert_allclose(y[0, c].numpy(), direct, atol=2e-3 * np.abs(direct).max())


@pytest.mark.parametrize("hair_cell", ["envelope", "rectify"])
@pytest.mark.parametrize("freq", [440.0, 1234.0, 2950.0])
def test_pure_tone_nearest_channel_fires_most(freq, hair_cell):
    cochlea = Cochlea(channels=48, f_min=100.0, f_max=6000.0, hair_cell=hair_cell)
    counts = cochlea(_tone(freq)).sum(0)
    # nearest on the cochlea's own axis, the ERB-rate scale (where the filters are evenly spread)
    nearest = int((erb_rate(cochlea.centre_frequencies) - erb_rate(freq)).abs().argmin())
    assert int(counts.argmax()) == nearest
    assert float(counts.max()) > 10
    assert float(counts[(torch.arange(48) - nearest).abs() > 6].sum()) == 0     # far channels silent


@pytest.mark.parametrize("hair_cell", ["envelope", "rectify"])
def test_tone_between_two_channels_drives_both_most(hair_cell):
    # 3000 Hz lies 0.47 ERB above channel 36 (2900 Hz) and 0.41 ERB below channel 37 (3102 Hz):
    # the two fire most, within a spike or two of each other
    counts = Cochlea(channels=48, f_min=100.0, f_max=6000.0, hair_cell=hair_cell)(_tone(3000.0)).sum(0)
    assert set(counts.topk(2).indices.tolist()) == {36, 37}


@pytest.mark.parametrize("hair_cell", ["envelope", "rectify"])
def test_tone_on_a_centre_frequency_of_the_700_channel_bank(hair_cell):
    cochlea = Cochlea(hair_cell=hair_cell)
    k = 400
    y = gammatone_filter(_tone(float(cochlea.centre_frequencies[k]))[None], SR, cochlea.centre_frequencies)
    assert int(y[0, :, 800:].pow(2).sum(-1).argmax()) == k
    counts = cochlea(_tone(float(cochlea.centre_frequencies[k]))).sum(0)
    assert abs(int(counts.argmax()) - k) <= 3 and float(counts[k]) >= 0.95 * float(counts.max())


def test_silence_is_silent_and_louder_fires_more():
    cochlea = Cochlea(channels=32)
    assert float(cochlea(torch.zeros(4000)).sum()) == 0.0
    quiet, loud = cochlea(torch.stack([_tone(1000.0, amplitude=0.003), _tone(1000.0, amplitude=0.1)])).sum((0, 2))
    assert float(loud) > float(quiet)


@pytest.mark.parametrize("hair_cell", ["envelope", "rectify"])
def test_batch_equals_per_item(hair_cell):
    g = torch.Generator().manual_seed(1)
    clips = torch.randn(3, 3000, generator=g) * torch.tensor([[0.02], [0.1], [0.3]])
    cochlea = Cochlea(channels=40, hair_cell=hair_cell)
    batch = cochlea(clips)
    assert batch.shape == (188, 3, 40)        # ceil(3000 / 16) steps of 1 ms
    for n in range(3):
        assert torch.equal(batch[:, n], cochlea(clips[n]))


def test_hair_cell_and_lif_by_hand():
    y = torch.tensor([[1.0, -1.0, 4.0, 0.0, 9.0]])
    # rectify, ** 0.5, mean over blocks of 2 (the last padded with 0): (1+0)/2, (2+0)/2, (3+0)/2
    assert torch.allclose(hair_cell_rectify(y, 2, exponent=0.5), torch.tensor([[0.5, 1.0, 1.5]]))
    # beta = 0.5, gain = 2: v = 0.5 v + 0.5 * 2 d
    drive = torch.tensor([[0.6], [0.6], [0.6], [0.0], [1.0]])
    # v: 0.6, 0.9, 1.05 -> spike, v = 0.05; 0.025; 0.0125 + 1.0 -> spike
    assert lif_spikes(drive, 0.5, 2.0).flatten().tolist() == [0, 0, 1, 0, 1]
    # the residue after the reset counts: 1.9 -> spike, 0.9; 0.45; 0.225 + 0.8 = 1.025 -> spike
    # (a reset to zero would leave 0.8 at the third step, and no spike)
    drive = torch.tensor([[1.9], [0.0], [0.8]], dtype=torch.float64)
    assert lif_spikes(drive, 0.5, 2.0).flatten().tolist() == [1, 0, 1]


def test_rectified_power_mean_by_formula():
    assert rectified_power_mean(1.0) == pytest.approx(1 / math.pi)          # mean of max(cos, 0)
    phi = torch.linspace(0, 2 * math.pi, 200001, dtype=torch.float64)[:-1]
    for p in (0.3, 0.5, 2.0):
        assert rectified_power_mean(p) == pytest.approx(float(torch.cos(phi).clamp_min(0).pow(p).mean()), rel=1e-6)


def test_envelope_hair_cell_matches_the_full_rate_one():
    """Tones, a mixture and noise: the envelope path's drive equals the rectified one (above 1 / dt exactly,
    averaged over the clip below it)."""
    g = torch.Generator().manual_seed(2)
    t = torch.arange(8000) / SR
    x = (0.05 * torch.sin(2 * math.pi * 3000 * t) + 0.05 * torch.sin(2 * math.pi * 300 * t)
         + 0.01 * torch.randn(8000, generator=g))[None]
    cf = erb_space(50.0, 7200.0, 64)
    rect = torch.cat([hair_cell_rectify(y, 16) for _, y in filter_chunks(x, SR, cf)], dim=1)[0, :, 50:450]
    q = envelope_rate_steps(cf, 1e-3)
    env = torch.zeros(64, 500)
    for channels, z in envelope_chunks(x, SR, cf, 16):
        env[channels] = hair_cell_envelope(z, int(q[channels[0]]))[0]
    env = env[:, 50:450]
    assert torch.allclose(env.mean(1), rect.mean(1), rtol=0.08)
    assert torch.allclose(env.mean(1)[cf > 500], rect.mean(1)[cf > 500], rtol=0.02)
    high = cf > 2000                      # many carrier cycles a step: equal step by step
    assert float(((env[high] - rect[high]).abs().mean() / rect[high].abs().mean())) < 0.08


def test_events_round_trip_to_spikes():
    cochlea = Cochlea(channels=24)
    spikes = cochlea(torch.stack([_tone(500.0), _tone(2000.0)]))
    events = cochlea_encode(torch.stack([_tone(500.0), _tone(2000.0)]), SR, channels=24, output="events")
    again = spikes_to_events(spikes, cochlea.dt)
    for (times, units), (t2, u2), n in zip(events, again, range(2)):
        np.testing.assert_array_equal(times, t2)
        np.testing.assert_array_equal(units, u2)
        assert len(times) == int(spikes[:, n].sum())
        assert np.all(np.diff(times) >= 0)
        rebuilt = torch.zeros(spikes.shape[0], 24)
        rebuilt[torch.from_numpy(np.round(times / cochlea.dt).astype(np.int64)), torch.from_numpy(units)] = 1
        assert torch.equal(rebuilt, spikes[:, n])


def test_fft_size_is_smooth_and_close():
    for n in (1, 7, 1000, 17250, 32769):
        size = fft_size(n)
        assert n <= size <= 1.25 * n + 1
        m = size
        for p in (2, 3, 5):
            while m % p == 0:
                m //= p
        assert m == 1


def test_empty_clip_error():
    with pytest.raises(ValueError, match="empty"):
        Cochlea()(torch.zeros(0))
    with pytest.raises(ValueError, match="empty"):
        Cochlea()(torch.zeros(3, 0))


@pytest.mark.parametrize("bad, match", [
    (dict(audio=torch.zeros(2, 2, 100)), "samples"),
    (dict(audio=torch.zeros(100, dtype=torch.int16)), "floating-point"),
    (dict(audio=torch.full((100,), float("inf"))), "inf"),
    (dict(dt=1e-6), "shorter than one sample"),
    (dict(f_max=9000.0), "Nyquist"),
    (dict(tau=0.0), "tau must be positive"),
    (dict(output="raster"), "output"),
    (dict(hair_cell="inner"), "hair_cell"),
])
def test_bad_arguments(bad, match):
    kwargs = dict(audio=torch.zeros(100), sample_rate=SR, channels=8)
    kwargs.update(bad)
    with pytest.raises((ValueError, TypeError), match=match):
        cochlea_encode(**kwargs)
