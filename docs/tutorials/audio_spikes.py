"""Spoken digits as spikes: one utterance per class, its spectrogram and its cochlea raster, and timings.

    PYTHONPATH=src python docs/tutorials/audio_spikes.py [--out docs/tutorials/img] [--clips 64]

Needs espeak-ng (``bash scripts/install_audio.sh``). Draws the first test utterance of each of the 20
classes of :data:`spikesmith.data.spoken_digits.RECIPE` (held-out voices), renders it as the dataset
does (voice, rate, pitch, level, reverberation, noise), and writes

- ``audio_spectrograms.png``: log-power spectrograms (25 ms Hann windows, 10 ms hop), 4 x 5 classes;
- ``audio_rasters.png``: the cochlea's spikes (700 channels, 1 ms steps), 4 x 5 classes;
- ``audio_timing.json``: seconds per clip to speak and to encode (``--clips`` clips, one thread; the
  encoding with both hair cells), and the extrapolation to the recipe's whole set.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

from spikesmith.atomic import atomic_write, write_json
from spikesmith.data import spoken_digits as sd
from spikesmith.encoding import Cochlea


def _save(fig, path: Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    with atomic_write(path) as f:
        f.write(buf.getvalue())


def one_per_class(recipe: sd.Recipe) -> tuple[list[sd.Utterance], np.ndarray]:
    """The first test utterance of each class, rendered: (utterances, clips [20, S])."""
    utterances = sd.draw_utterances(recipe, "test")
    picked = {}
    for i, u in enumerate(utterances):
        picked.setdefault(u.label, (i, u))
    order = [picked[k] for k in range(len(sd.CLASS_NAMES))]
    return [u for _, u in order], np.stack([sd.render(u, recipe, i) for i, u in order])


def spectrogram(clip: np.ndarray, sample_rate: int) -> np.ndarray:
    """Log power (dB) ``[freqs, frames]`` of 25 ms Hann windows every 10 ms."""
    n_fft, hop = int(0.025 * sample_rate), int(0.010 * sample_rate)
    spec = torch.stft(torch.from_numpy(clip), n_fft=n_fft, hop_length=hop, window=torch.hann_window(n_fft),
                      return_complex=True).abs().pow(2)
    return (10 * torch.log10(spec + 1e-10)).numpy()


def figures(out: Path, recipe: sd.Recipe) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    utterances, clips = one_per_class(recipe)
    cochlea = Cochlea(sample_rate=recipe.sample_rate, channels=recipe.channels, **dict(recipe.cochlea))
    spikes = cochlea(torch.from_numpy(clips))                                    # [T, 20, 700]
    titles = [f"{sd.CLASS_NAMES[u.label]}\n{u.voice}, {u.snr_db:g} dB SNR" + (", reverb" if u.rt60 else "")
              for u in utterances]

    fig, axes = plt.subplots(4, 5, figsize=(15, 10), sharex=True, sharey=True)
    for ax, clip, title in zip(axes.flat, clips, titles):
        power = spectrogram(clip, recipe.sample_rate)
        ax.imshow(power, origin="lower", aspect="auto", cmap="magma", vmin=power.max() - 70, vmax=power.max(),
                  extent=(0, recipe.duration, 0, recipe.sample_rate / 2000))
        ax.set_title(title, fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("kHz")
    for ax in axes[-1]:
        ax.set_xlabel("s")
    fig.suptitle("spoken_digits: one held-out-voice utterance per class (log power, 70 dB range)")
    fig.tight_layout()
    _save(fig, out / "audio_spectrograms.png")
    plt.close(fig)

    fig, axes = plt.subplots(4, 5, figsize=(15, 10), sharex=True, sharey=True)
    counts = []
    for n, (ax, title) in enumerate(zip(axes.flat, titles)):
        t, c = spikes[:, n].nonzero(as_tuple=True)
        counts.append(len(t))
        ax.scatter(t.numpy() * cochlea.dt, c.numpy(), s=0.3, marker=".", c="k", linewidths=0)
        ax.set_title(f"{title}\n{len(t)} spikes", fontsize=8)
        ax.set_ylim(0, recipe.channels)
    for ax in axes[:, 0]:
        ax.set_ylabel("channel (low to high f)")
    for ax in axes[-1]:
        ax.set_xlabel("s")
    fig.suptitle(f"the cochlea's spikes ({recipe.channels} gammatone channels, "
                 f"{cochlea.dt * 1000:g} ms steps) of the same utterances")
    fig.tight_layout()
    _save(fig, out / "audio_rasters.png")
    plt.close(fig)
    return {"spikes_per_clip_shown": counts}


def timing(recipe: sd.Recipe, clips: int) -> dict:
    """Seconds per clip to speak and render, and to encode (both hair cells), on ``clips`` clips."""
    utterances = sd.draw_utterances(recipe, "train")[:clips]
    t0 = time.perf_counter()
    audio = torch.from_numpy(np.stack([sd.render(u, recipe, i) for i, u in enumerate(utterances)]))
    speak = (time.perf_counter() - t0) / len(utterances)
    result = {"clips_timed": len(utterances), "speak_s_per_clip": round(speak, 4)}
    for hair_cell in ("envelope", "rectify"):
        options = {**dict(recipe.cochlea), "hair_cell": hair_cell}
        cochlea = Cochlea(sample_rate=recipe.sample_rate, channels=recipe.channels, **options)
        cochlea(audio[:2])                                                       # the filter responses, once
        t0 = time.perf_counter()
        for start in range(0, len(audio), 32):
            cochlea(audio[start:start + 32])
        result[f"encode_s_per_clip_{hair_cell}"] = round((time.perf_counter() - t0) / len(audio), 4)
    total = recipe.size("train") + recipe.size("test")
    result["set_clips"] = total
    result["set_minutes_speak_and_encode"] = round(total * (speak + result["encode_s_per_clip_envelope"]) / 60, 2)
    result["load"] = os.getloadavg()
    return result


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "img")
    parser.add_argument("--clips", type=int, default=64, help="clips to time speaking and encoding on")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    recipe = sd.RECIPE
    summary = {"recipe_key": recipe.key("spikes"), **figures(args.out, recipe), **timing(recipe, args.clips)}
    write_json(args.out / "audio_timing.json", summary)
    print(json.dumps(summary, indent=1))
    return summary


if __name__ == "__main__":
    main()
