"""spoken_digits made with a fake espeak-ng (a stub on PATH that writes a synthetic WAV): the recipe's
draws, the held-out speakers, the cache and its key, the progress bar and the errors."""

from __future__ import annotations

import dataclasses
import os
import shutil
import stat
import wave

import numpy as np
import pytest
import torch

from spikesmith.data import dataset_info
from spikesmith.data import spoken_digits as sd

STUB = """#!/bin/sh
# a fake espeak-ng: logs its arguments, then copies the WAV the test made for the word to the -w file
echo "$*" >> "$FAKE_ESPEAK_LOG"
if [ -n "$FAKE_ESPEAK_FAIL" ]; then echo "voice not found" >&2; exit 1; fi
while [ $# -gt 1 ]; do
    if [ "$1" = "-w" ]; then out="$2"; shift; fi
    shift
done
cp "$FAKE_ESPEAK_WAVS/$1.wav" "$out"
"""


def _write_word_wavs(folder):
    """One 22.05 kHz WAV per word: a two-note chord (notes set by the word's index) with silence around."""
    folder.mkdir()
    rate = 22050
    t = np.arange(int(0.1 * rate)) / rate
    for k, word in enumerate(sd.ENGLISH + sd.GERMAN):
        x = np.sin(2 * np.pi * (300 + 40 * k) * t) + 0.5 * np.sin(2 * np.pi * (1200 + 90 * k) * t)
        x = np.concatenate([np.zeros(500), x * np.hanning(len(t)), np.zeros(500)]) * 0.3
        with wave.open(str(folder / f"{word}.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes((x * 32767).astype("<i2").tobytes())


TINY = dataclasses.replace(
    sd.RECIPE, train_speakers=("m1", "f1"), test_speakers=("m2",), train_repeats=2, test_repeats=1,
    duration=0.2, sample_rate=8000, channels=24, n_bins=10,
    voices=(("en", ("en-us", "en-gb")), ("de", ("de",))))


@pytest.fixture
def fake_espeak(tmp_path, monkeypatch):
    """A stub espeak-ng first on PATH; returns a function reading the calls it logged."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "espeak-ng"
    stub.write_text(STUB)
    stub.chmod(stub.stat().st_mode | stat.S_IEXEC)
    _write_word_wavs(tmp_path / "wavs")
    log = tmp_path / "espeak.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_ESPEAK_LOG", str(log))
    monkeypatch.setenv("FAKE_ESPEAK_WAVS", str(tmp_path / "wavs"))

    def calls():
        out = []
        for line in (log.read_text().splitlines() if log.exists() else []):
            args = line.split()
            opts = dict(zip(args[:-1:2], args[1:-1:2]))
            out.append({"voice": opts["-v"], "rate": int(opts["-s"]), "pitch": int(opts["-p"]),
                        "amplitude": int(opts["-a"]), "word": args[-1]})
        return out

    return calls


def test_generation_cache_key_split_and_progress(tmp_path, fake_espeak, capfd):
    cache = tmp_path / "cache"
    x, y = sd.load_spoken_digits("train", TINY, cache)
    assert x.shape == (2 * 20 * 2, 10, 24) and x.dtype == torch.uint8 and int(x.sum()) > 0
    assert torch.equal(torch.bincount(y, minlength=20), torch.full((20,), 4))          # 2 speakers x 2 repeats
    train_calls = fake_espeak()
    assert len(train_calls) == 80
    assert {c["voice"].split("+")[1] for c in train_calls} == {"m1", "f1"}             # the test voice held out
    words = sd.ENGLISH + sd.GERMAN
    for call in train_calls:
        language = "de" if words.index(call["word"]) >= 10 else "en"
        assert call["voice"].split("+")[0] in dict(TINY.voices)[language]
        assert TINY.rate[0] <= call["rate"] <= TINY.rate[1] and TINY.pitch[0] <= call["pitch"] <= TINY.pitch[1]
    err = capfd.readouterr().err
    assert "spoken_digits train: speaking" in err and "spoken_digits train: encoding" in err

    xt, yt = sd.load_spoken_digits("test", TINY, cache)
    assert xt.shape == (20, 10, 24) and sorted(yt.tolist()) == list(range(20))
    assert {c["voice"].split("+")[1] for c in fake_espeak()[80:]} == {"m2"}

    # the cache: keyed files, nothing half-written, and a second load speaks nothing
    names = sorted(p.name for p in cache.iterdir())
    assert names == sorted(f"{part}-{split}-{TINY.key(part)}.npz" for part in ("audio", "spikes")
                           for split in ("train", "test"))
    again, y2 = sd.load_spoken_digits("train", TINY, cache)
    assert torch.equal(again, x) and torch.equal(y2, y) and len(fake_espeak()) == 100

    # the cochlea changes: re-encoded from the cached audio, nothing re-spoken; the audio changes: re-spoken
    louder = dataclasses.replace(TINY, cochlea=(("dt", 1e-3), ("gain", 60.0)))
    assert louder.key("audio") == TINY.key("audio") and louder.key("spikes") != TINY.key("spikes")
    x3, _ = sd.load_spoken_digits("train", louder, cache)
    assert len(fake_espeak()) == 100 and int(x3.sum()) > int(x.sum())
    faster = dataclasses.replace(TINY, rate=(300, 320))
    assert faster.key("audio") != TINY.key("audio")
    sd.load_spoken_digits("test", faster, cache)
    assert len(fake_espeak()) == 120


def test_generation_is_deterministic(tmp_path, fake_espeak):
    a, ya = sd.load_spoken_digits("test", TINY, tmp_path / "a")
    b, yb = sd.load_spoken_digits("test", TINY, tmp_path / "b")
    assert torch.equal(a, b) and torch.equal(ya, yb)
    other, _ = sd.load_spoken_digits("test", dataclasses.replace(TINY, seed=1), tmp_path / "c")
    assert not torch.equal(a, other)


def test_the_clip_holds_the_word_at_its_level_with_noise_at_its_snr(fake_espeak):
    recipe = dataclasses.replace(TINY, reverb_probability=0.0, snr_db=(10.0,))
    u = sd.draw_utterances(recipe, "test")[0]
    clip = sd.render(u, recipe, 0).astype(np.float64)
    quiet = dataclasses.replace(recipe, snr_db=(200.0,))
    clean = sd.render(dataclasses.replace(u, snr_db=200.0), quiet, 0).astype(np.float64)
    noise = clip - clean
    word = np.flatnonzero(np.abs(clean) > 1e-6)
    speech_rms = np.sqrt(np.mean(clean[word[0]: word[-1] + 1] ** 2))
    assert 20 * np.log10(speech_rms) == pytest.approx(u.level_db, abs=0.5)
    assert 20 * np.log10(speech_rms / np.sqrt(np.mean(noise ** 2))) == pytest.approx(10.0, abs=0.5)


def test_missing_espeak_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    with pytest.raises(FileNotFoundError, match=r"apt-get install espeak-ng"):
        sd.load_spoken_digits("test", TINY, tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_espeak_failure_and_bad_recipes(tmp_path, fake_espeak, monkeypatch):
    monkeypatch.setenv("FAKE_ESPEAK_FAIL", "1")
    with pytest.raises(RuntimeError, match=r"espeak-ng failed for 'zero'|espeak-ng failed for '.*' with voice"):
        sd.load_spoken_digits("test", TINY, tmp_path)
    with pytest.raises(ValueError, match=r"speakers \['m1'\] are in both splits"):
        sd.load_spoken_digits("test", dataclasses.replace(TINY, test_speakers=("m1",)), tmp_path)
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        sd.load_spoken_digits("valid", TINY, tmp_path)
    monkeypatch.delenv("FAKE_ESPEAK_FAIL")
    with pytest.raises(ValueError, match="do not split into n_bins=7"):
        sd.load_spoken_digits("test", dataclasses.replace(TINY, n_bins=7), tmp_path)


def test_registered_like_shd():
    info = dataset_info("spoken-digits")
    assert info.name == "spoken_digits" and info.input_shape == (100, 700) and info.num_classes == 20
    assert info.class_names[0] == "english zero" and info.class_names[19] == "german neun"


def test_wav_reader_and_resampler():
    import io
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(22050)
        w.writeframes(np.array([0, 16384, -32768, 32767], dtype="<i2").tobytes())
    samples, rate = sd.read_wav(buf.getvalue())
    assert rate == 22050 and samples.tolist() == [0.0, 0.5, -1.0, 32767 / 32768]
    t = np.arange(22050) / 22050
    tone = np.sin(2 * np.pi * 440 * t)
    down = sd.resample(tone, 22050, 16000)
    assert len(down) == 16000
    np.testing.assert_allclose(down, np.sin(2 * np.pi * 440 * np.arange(16000) / 16000), atol=1e-6)


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_real_espeak_speaks_every_word():
    for word, voice in (("seven", "en-us+m3"), ("sieben", "de+f2")):
        samples, rate = sd.speak(word, voice, 175, 50, 100)
        spoken = sd.trim_silence(samples)
        assert rate > 8000 and 0.2 < len(spoken) / rate < 1.5 and np.abs(spoken).max() > 0.05


def test_get_dataset_and_train_through_the_registry(tmp_path, fake_espeak, monkeypatch):
    """``--dataset spoken_digits`` end to end on a short recipe of the registered shape (100 x 700)."""
    from spikesmith.data import get_dataset
    from spikesmith.run import train as run
    from spikesmith.training import make_config

    monkeypatch.setattr(sd, "RECIPE", dataclasses.replace(TINY, channels=700, n_bins=100, train_repeats=1))
    ds = get_dataset("spoken_digits", "test", data_dir=tmp_path / "data")
    assert ds.inputs.shape == (20, 100, 700) and ds.inputs.dtype == torch.uint8
    assert str(tmp_path / "data" / "spoken_digits") in ds.origin
    cfg = make_config(overrides={"dataset": "spoken_digits", "model": "fcsnn", "epochs": 1, "hidden": 16,
                                 "report": False, "device": "cpu", "data_dir": str(tmp_path / "data"),
                                 "out": str(tmp_path / "run")})
    assert (cfg.batch_size, cfg.lr, cfg.encoder) == (32, 5e-3, "none")          # the dataset's preset
    metrics = run(cfg)
    assert metrics["epochs_run"] == 1 and 0.0 <= metrics["test_accuracy"] <= 1.0
