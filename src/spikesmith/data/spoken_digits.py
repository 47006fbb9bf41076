"""Spoken digits made here: espeak-ng says "zero".."nine" and "null".."neun", a cochlea turns them into spikes.

Twenty classes as the Spiking Heidelberg Digits (0..9 English "zero".."nine", 10..19 German
"null".."neun"), items ``[T, 700]`` of spike counts (uint8) like ``--dataset shd``. The recipe
(:class:`Recipe`) says everything that is drawn:

- **speakers** are espeak-ng voice variants (``m1``, ``f3``, ``klatt2``, ``Andy``, ...); each utterance
  is spoken through one of its language's voices (``en-us``, ``en-gb-scotland``, ``de``, ...) with
  that variant (``espeak-ng -v en-us+f3``). The test split's speakers are held out: no training
  utterance comes from them, as SHD holds out two speakers;
- per utterance: a speaking rate, a pitch and an amplitude drawn uniformly from their ranges, a
  random onset within the clip, a level, optional reverberation (an exponentially decaying noise
  tail) and background noise (white or pink) at an SNR drawn from ``snr_db``;
- the cochlea (:class:`spikesmith.encoding.Cochlea`) at ``sample_rate`` with ``channels`` channels and
  its options, and the binning of its spikes into ``n_bins`` frames.

Everything is generated once into ``$SPIKESMITH_DATA/spoken_digits`` (else
``~/.cache/spikesmith/spoken_digits``): the audio of a split in ``audio-<split>-<key>.npz`` and its
spikes in ``spikes-<split>-<key>.npz``, ``<key>`` a hash of the recipe's fields that produce them
(changing the cochlea re-encodes, it does not re-synthesise), each written atomically with a
progress bar. espeak-ng is found on ``PATH``; without it the error says how to install it.

Frozen recipe (:data:`RECIPE`, key ``9743afcd6753``), tuned until the feed-forward LIF baseline
scores between 60 and 80% on the held-out voices:

- speakers: 14 training variants (``m1``-``m5``, ``f1``-``f3``, ``klatt``, ``klatt3``, ``Andy``, ``Annie``,
  ``edward``, ``linda``), 4 held out for the test split (``m6``, ``f4``, ``klatt2``, ``max``); English
  through ``en-us``, ``en-gb``, ``en-gb-scotland``, ``en-gb-x-rp``, ``en-029``, ``en-us-nyc``,
  ``en-gb-x-gbclan``, German through ``de``;
- 3 utterances per speaker and word: 840 training and 240 test clips;
- rate 130-260 words/min, pitch 15-85, espeak amplitude 60-160; speech RMS -32 to -14 dB full
  scale; white or pink noise at 0, 5, 10 or 20 dB SNR; reverberation on half the clips (RT60
  0.1-0.5 s); 1 s clips at 16 kHz, the word at a uniformly random onset;
- the cochlea: 700 channels from 50 Hz to 7.2 kHz, envelope hair cell with exponent 0.6, LIF with
  tau 5 ms and gain 30 in 1 ms steps, counted in 100 bins of 10 ms (about 16,500 spikes a clip).

Measured: ``spikesmith train --dataset spoken_digits --model fcsnn --threads 1`` (the dataset's
preset: 80 epochs, batch 32, lr 5e-3; FCSNN 700-196-20, 141,120 parameters) reaches **62.08%**
on the held-out voices (training accuracy 83.45%) after 4.3 min of training, load average 5.8 to
7.3 on the 2-core development machine (the same figure with the flags spelled out, 3.8 min at load
9.2 to 6.8). Seeds 0, 1, 2 (``--seed``): 62.08, 62.92, 61.25% (mean 62.08, spread +-0.84), each
1.6-4.3 min of training at loads 4.4-9.2. Making the set: speaking 0.03 s and encoding 0.13 s a clip at load 6-8, so the 1,080
clips take about 3 minutes (the tutorial page ``docs/tutorials/audio_spikes.py`` times it and draws each
class).

Example::

    x, y = load_spoken_digits("test")        # uint8 [N, 100, 700] counts, int64 labels 0..19
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from spikesmith.atomic import atomic_write
from spikesmith.data.shd import NUM_UNITS, smallest_uint
from spikesmith.encoding.cochlea import Cochlea, decimation_factor

ENGLISH = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
GERMAN = ("null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun")
CLASS_NAMES: tuple[str, ...] = tuple(f"english {w}" for w in ENGLISH) + tuple(f"german {w}" for w in GERMAN)
"""Label ``k`` is ``CLASS_NAMES[k]``: 0..9 English, 10..19 German."""

ESPEAK = "espeak-ng"
INSTALL_HINT = ("spoken_digits is spoken by espeak-ng, which is not on PATH: install it with "
                "`sudo apt-get install espeak-ng` (Debian/Ubuntu; or `apt-get install espeak-ng` as root, "
                "or scripts/install_audio.sh), `brew install espeak-ng` (macOS), or put a spoken_digits cache "
                "made elsewhere in {cache}")


@dataclass(frozen=True)
class Recipe:
    """Everything drawn to make the dataset; the cache key is a hash of these fields (see the module doc)."""

    voices: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("en", ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc", "en-gb-x-gbclan")),
        ("de", ("de",)),
    )
    train_speakers: tuple[str, ...] = ("m1", "m2", "m3", "m4", "m5", "f1", "f2", "f3", "klatt", "klatt3",
                                       "Andy", "Annie", "edward", "linda")
    test_speakers: tuple[str, ...] = ("m6", "f4", "klatt2", "max")
    train_repeats: int = 3                   # utterances per (speaker, word) in the training split
    test_repeats: int = 3
    rate: tuple[int, int] = (130, 260)       # espeak-ng -s, words per minute
    pitch: tuple[int, int] = (15, 85)        # espeak-ng -p, 0..99
    amplitude: tuple[int, int] = (60, 160)   # espeak-ng -a, 0..200
    level_db: tuple[float, float] = (-32.0, -14.0)   # speech RMS in dB full scale after mixing
    snr_db: tuple[float, ...] = (0.0, 5.0, 10.0, 20.0)
    reverb_probability: float = 0.5
    reverb_rt60: tuple[float, float] = (0.1, 0.5)    # seconds
    duration: float = 1.0                    # seconds per clip
    sample_rate: int = 16000
    channels: int = NUM_UNITS
    cochlea: tuple[tuple[str, object], ...] = (("dt", 1e-3), ("tau", 5e-3), ("gain", 30.0), ("exponent", 0.6),
                                               ("hair_cell", "envelope"))
    n_bins: int = 100
    seed: int = 0

    def speakers(self, split: str) -> tuple[str, ...]:
        return self.train_speakers if split == "train" else self.test_speakers

    def repeats(self, split: str) -> int:
        return self.train_repeats if split == "train" else self.test_repeats

    def size(self, split: str) -> int:
        return len(self.speakers(split)) * len(CLASS_NAMES) * self.repeats(split)

    def audio_fields(self) -> dict:
        skip = {"cochlea", "n_bins", "channels"}
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in skip}

    def key(self, part: str) -> str:
        fields = self.audio_fields() if part == "audio" else dataclasses.asdict(self)
        return hashlib.sha256(json.dumps(fields, sort_keys=True, default=list).encode()).hexdigest()[:12]


RECIPE = Recipe()
"""The frozen recipe of ``--dataset spoken_digits`` (see the module doc for the baseline it gives)."""


def default_cache_dir() -> Path:
    """``$SPIKESMITH_DATA/spoken_digits`` if that variable is set, else ``~/.cache/spikesmith/spoken_digits``."""
    base = os.environ.get("SPIKESMITH_DATA")
    return (Path(base) if base else Path.home() / ".cache" / "spikesmith") / "spoken_digits"


def check_split(split: str) -> str:
    if split not in ("train", "test"):
        raise ValueError(f"spoken_digits: split must be 'train' or 'test', got {split!r}")
    return split


def _check_recipe(recipe: Recipe) -> Recipe:
    overlap = set(recipe.train_speakers) & set(recipe.test_speakers)
    if overlap:
        raise ValueError(f"spoken_digits: speakers {sorted(overlap)} are in both splits; the test speakers "
                         f"must be held out")
    if not recipe.train_speakers or not recipe.test_speakers:
        raise ValueError("spoken_digits: give at least one training and one test speaker")
    return recipe


# ------------------------------------------------------------------------------------------- audio


def read_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Mono float32 samples in [-1, 1] and the sample rate of a 16-bit PCM WAV file's bytes."""
    with wave.open(io.BytesIO(data)) as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"expected 16-bit PCM audio, got {8 * w.getsampwidth()}-bit")
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0
        if w.getnchannels() > 1:
            samples = samples.reshape(-1, w.getnchannels()).mean(1)
        return samples, w.getframerate()


def resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Band-limited resampling by FFT (the spectrum cut or padded at the new Nyquist frequency)."""
    if rate_in == rate_out or len(x) == 0:
        return x.astype(np.float32)
    n_out = max(1, round(len(x) * rate_out / rate_in))
    spectrum = np.fft.rfft(x.astype(np.float64))
    return (np.fft.irfft(spectrum, n=n_out) * (n_out / len(x))).astype(np.float32)[:n_out]


def trim_silence(x: np.ndarray, threshold: float = 0.01) -> np.ndarray:
    """``x`` without its leading and trailing samples quieter than ``threshold`` times its peak."""
    loud = np.flatnonzero(np.abs(x) > threshold * (np.abs(x).max() if len(x) else 0.0))
    return x[loud[0]: loud[-1] + 1] if len(loud) else x[:0]


def espeak_command(word: str, voice: str, rate: int, pitch: int, amplitude: int, out: Path) -> list[str]:
    """The espeak-ng call that writes ``word`` to ``out`` (WAV)."""
    return [ESPEAK, "-v", voice, "-s", str(rate), "-p", str(pitch), "-a", str(amplitude), "-w", str(out), word]


def speak(word: str, voice: str, rate: int, pitch: int, amplitude: int) -> tuple[np.ndarray, int]:
    """espeak-ng's rendering of ``word``: float32 samples and their rate."""
    if shutil.which(ESPEAK) is None:
        raise FileNotFoundError(INSTALL_HINT.format(cache=default_cache_dir()))
    with tempfile.TemporaryDirectory(prefix="spikesmith-espeak-") as tmp:
        out = Path(tmp) / "word.wav"
        done = subprocess.run(espeak_command(word, voice, rate, pitch, amplitude, out), capture_output=True)
        if done.returncode != 0 or not out.is_file():
            raise RuntimeError(f"espeak-ng failed for {word!r} with voice {voice!r} (exit {done.returncode}): "
                               f"{done.stderr.decode(errors='replace').strip()}")
        return read_wav(out.read_bytes())


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Noise with a 1/f power spectrum (white noise shaped by FFT), unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1.0))
    x = np.fft.irfft(spectrum, n=n)
    return x / (np.sqrt(np.mean(x ** 2)) + 1e-12)


def reverberate(x: np.ndarray, rt60: float, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """``x`` convolved with a room: the direct sound plus noise decaying by 60 dB in ``rt60`` seconds."""
    n = max(1, int(rt60 * sample_rate))
    t = np.arange(n) / sample_rate
    tail = rng.standard_normal(n) * np.power(10.0, -3.0 * t / rt60) * 0.3
    tail[0] = 1.0
    size = len(x) + n - 1
    wet = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(tail, size), size)[: len(x)]
    return wet * (np.abs(x).max() / (np.abs(wet).max() + 1e-12))


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) if len(x) else 0.0


@dataclass(frozen=True)
class Utterance:
    """One drawn utterance: what is said, by whom, how, and what is done to it."""

    label: int
    speaker: str
    voice: str
    rate: int
    pitch: int
    amplitude: int
    level_db: float
    snr_db: float
    noise: str
    rt60: float                      # 0: no reverberation
    onset: float                     # fraction of the free time before the word


def draw_utterances(recipe: Recipe, split: str) -> list[Utterance]:
    """The split's utterances, every (speaker, word) ``repeats`` times, in a seeded shuffled order."""
    rng = np.random.default_rng([recipe.seed, 0 if check_split(split) == "train" else 1])
    voices = dict(recipe.voices)
    out = []
    for speaker in recipe.speakers(split):
        for label in range(len(CLASS_NAMES)):
            language = "en" if label < 10 else "de"
            for _ in range(recipe.repeats(split)):
                reverb = rng.random() < recipe.reverb_probability
                out.append(Utterance(
                    label=label, speaker=speaker, voice=f"{voices[language][rng.integers(len(voices[language]))]}"
                                                        f"+{speaker}",
                    rate=int(rng.integers(recipe.rate[0], recipe.rate[1] + 1)),
                    pitch=int(rng.integers(recipe.pitch[0], recipe.pitch[1] + 1)),
                    amplitude=int(rng.integers(recipe.amplitude[0], recipe.amplitude[1] + 1)),
                    level_db=float(rng.uniform(*recipe.level_db)),
                    snr_db=float(recipe.snr_db[rng.integers(len(recipe.snr_db))]),
                    noise=("white", "pink")[int(rng.integers(2))],
                    rt60=float(rng.uniform(*recipe.reverb_rt60)) if reverb else 0.0,
                    onset=float(rng.random())))
    order = rng.permutation(len(out))
    return [out[i] for i in order]


def render(utterance: Utterance, recipe: Recipe, index: int) -> np.ndarray:
    """The clip of ``utterance``: float32 ``[duration * sample_rate]``, speech placed, reverberated, noised."""
    word = (ENGLISH + GERMAN)[utterance.label]
    speech, rate = speak(word, utterance.voice, utterance.rate, utterance.pitch, utterance.amplitude)
    speech = trim_silence(resample(speech, rate, recipe.sample_rate))
    n = int(round(recipe.duration * recipe.sample_rate))
    if len(speech) == 0:
        raise RuntimeError(f"espeak-ng said nothing for {word!r} with voice {utterance.voice!r}")
    rng = np.random.default_rng([recipe.seed, 2, index])
    speech = speech[:n]
    clip = np.zeros(n)
    start = int(utterance.onset * (n - len(speech)))
    clip[start: start + len(speech)] = speech
    if utterance.rt60 > 0:
        clip = reverberate(clip, utterance.rt60, recipe.sample_rate, rng)
    clip *= 10.0 ** (utterance.level_db / 20.0) / (_rms(clip[start: start + len(speech)]) + 1e-12)
    noise = rng.standard_normal(n) if utterance.noise == "white" else pink_noise(n, rng)
    noise *= _rms(clip[start: start + len(speech)]) / (_rms(noise) + 1e-12) * 10.0 ** (-utterance.snr_db / 20.0)
    return np.clip(clip + noise, -1.0, 1.0).astype(np.float32)


# ------------------------------------------------------------------------------------------- cache


def _save_npz(path: Path, **arrays) -> None:
    with atomic_write(path) as f:
        np.savez_compressed(f, **arrays)


def _progress(iterable, total, desc, unit="clip"):
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, leave=False, mininterval=1.0)


def make_audio(recipe: Recipe, split: str, cache: Path) -> Path:
    """Synthesise the split's clips into ``cache/audio-<split>-<key>.npz`` (kept if there); return its path."""
    path = cache / f"audio-{split}-{recipe.key('audio')}.npz"
    if path.is_file():
        return path
    if shutil.which(ESPEAK) is None:
        raise FileNotFoundError(INSTALL_HINT.format(cache=cache))
    utterances = draw_utterances(recipe, split)
    n = int(round(recipe.duration * recipe.sample_rate))
    audio = np.zeros((len(utterances), n), dtype=np.int16)
    for i, u in enumerate(_progress(utterances, len(utterances), f"spoken_digits {split}: speaking")):
        audio[i] = np.round(render(u, recipe, i) * 32767.0).astype(np.int16)
    _save_npz(path, audio=audio, labels=np.array([u.label for u in utterances], dtype=np.int64),
              speakers=np.array([u.speaker for u in utterances]),
              utterances=np.array(json.dumps([dataclasses.asdict(u) for u in utterances])),
              recipe=np.array(json.dumps(recipe.audio_fields(), default=list)))
    return path


def encode_audio(audio: torch.Tensor, recipe: Recipe, batch_size: int = 32, desc: str | None = None) -> torch.Tensor:
    """Spike counts ``[N, n_bins, channels]`` (smallest int) of clips ``[N, S]`` float in [-1, 1]."""
    options = dict(recipe.cochlea)
    cochlea = Cochlea(sample_rate=recipe.sample_rate, channels=recipe.channels, **options)
    steps = -(-audio.shape[1] // decimation_factor(recipe.sample_rate, cochlea.dt))
    if steps % recipe.n_bins:
        raise ValueError(f"spoken_digits: {steps} cochlea steps do not split into n_bins={recipe.n_bins} bins; "
                         f"choose duration, dt and n_bins so that duration / dt is a multiple of n_bins")
    counts = torch.zeros(audio.shape[0], recipe.n_bins, recipe.channels, dtype=torch.int32)
    starts = range(0, audio.shape[0], batch_size)
    for start in _progress(starts, len(starts), desc or "spoken_digits: encoding", unit="batch"):
        spikes = cochlea(audio[start: start + batch_size])                 # [T, n, C]
        counts[start: start + batch_size] = spikes.unflatten(0, (recipe.n_bins, -1)).sum(1).transpose(0, 1).int()
    return counts.to(smallest_uint(int(counts.max()) if counts.numel() else 0))


def make_spikes(recipe: Recipe, split: str, cache: Path) -> Path:
    """The split's spike counts in ``cache/spikes-<split>-<key>.npz``, made from its audio if missing."""
    path = cache / f"spikes-{split}-{recipe.key('spikes')}.npz"
    if path.is_file():
        return path
    with np.load(make_audio(recipe, split, cache)) as data:
        audio = torch.from_numpy(data["audio"].astype(np.float32) / 32767.0)
        labels, speakers = data["labels"], data["speakers"]
    counts = encode_audio(audio, recipe, desc=f"spoken_digits {split}: encoding")
    _save_npz(path, counts=counts.numpy(), labels=labels, speakers=speakers,
              recipe=np.array(json.dumps(dataclasses.asdict(recipe), default=list)))
    return path


def load_spoken_digits(split: str = "train", recipe: Recipe | None = None,
                       cache_dir: str | os.PathLike | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Spike counts ``[N, n_bins, channels]`` (uint8 where they fit) and int64 labels of ``split``.

    Made on first use (espeak-ng needed then, see the module doc), read from the cache after.
    """
    recipe = _check_recipe(recipe if recipe is not None else RECIPE)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    with np.load(make_spikes(recipe, check_split(split), cache)) as data:
        return torch.from_numpy(data["counts"]), torch.from_numpy(data["labels"])


def available(recipe: Recipe | None = None, cache_dir: str | os.PathLike | None = None) -> bool:
    """Whether both splits are cached, or espeak-ng is here to make them."""
    cached = all(cache_file(split, recipe, cache_dir).is_file() for split in ("train", "test"))
    return cached or shutil.which(ESPEAK) is not None


def cache_file(split: str, recipe: Recipe | None = None, cache_dir: str | os.PathLike | None = None) -> Path:
    """Where the split's spikes are (or will be) cached."""
    recipe = recipe if recipe is not None else RECIPE
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return cache / f"spikes-{check_split(split)}-{recipe.key('spikes')}.npz"


__all__ = ["CLASS_NAMES", "RECIPE", "Recipe", "Utterance", "available", "cache_file", "default_cache_dir", "draw_utterances",
           "encode_audio", "load_spoken_digits", "make_audio", "make_spikes", "render", "speak"]
