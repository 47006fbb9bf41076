# %% [markdown]
# # Event-camera data: files, transforms, and images turned into events
#
# An event camera reports, for each pixel on its own, when the log brightness changed by more than a
# threshold: a stream of events `(t, x, y, p)` with a timestamp in microseconds and a polarity (ON
# for brighter, OFF for darker). `spikesmith.events` holds them as a NumPy structured array
# (`EVENT_DTYPE`), reads the common formats (N-MNIST binary, AEDAT 2.0, 3.1 and 4,
# `.npz`; it writes N-MNIST binary and `.npz`), transforms them as Tonic does, and bins them into frames a network can take, `T x N x 2 x H x W`.
#
# Static images can be turned into events too, by moving a virtual sensor over them in small
# saccades, as N-MNIST was recorded: `events.saccade_events`.

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from spikesmith import events
from spikesmith.data.digits import load_digits

images, labels = load_digits("test")
ev, sensor = events.saccade_events(images[0].numpy(), rng=np.random.default_rng(0))
print("sensor (W, H, polarities):", sensor)
print(len(ev), "events; fields", ev.dtype.names)
print("first events:", ev[:3])
print("ON share:", round(float((ev["p"] == 1).mean()), 3), "| duration", int(ev["t"][-1] - ev["t"][0]), "us")

# %% [markdown]
# ## Files
#
# `events.write` and `events.read` pick the format from the suffix (or `format=`); every reader
# checks what it reads (a truncated or damaged file is an `EventFileError` that names the byte
# offset). A round trip through a format returns the same events.

# %%
folder = Path(tempfile.mkdtemp(prefix="spikesmith-events-"))
for name in ("digit.npz", "digit.bin"):             # .npz, and the N-MNIST binary format
    path = folder / name
    events.write(path, ev, sensor_size=sensor)
    back, back_sensor = events.read(path)
    same = all(np.array_equal(back[f], ev[f]) for f in ev.dtype.names)
    print(f"{name:14s} {path.stat().st_size:7d} bytes, {len(back)} events back, identical: {same}")

# %% [markdown]
# ## Transforms and frames
#
# Transforms compose, as in Tonic: denoising (drop events with no neighbour within a time window),
# spatial and temporal jitter, crops, flips, refractory periods. `ToFrame` bins the stream into a
# fixed number of frames (or by time window or event count), counting events per pixel and polarity.

# %%
transform = events.Compose([
    events.Denoise(sensor, filter_time=10_000),
    events.ToFrame(sensor, n_time_bins=8),
])
frames = transform(ev)
print("frames:", frames.shape, frames.dtype, "| events kept after denoising:", int(frames.sum()))
x = torch.from_numpy(frames).float().unsqueeze(1)     # T x N x 2 x H x W for a network, N = 1
print("network input:", tuple(x.shape))

# %%
fig, axes = plt.subplots(2, 8, figsize=(12, 3.4))
for t in range(8):
    for p, colour in ((0, "Blues"), (1, "Reds")):
        axes[p, t].imshow(frames[t, p], cmap=colour)
        axes[p, t].axis("off")
    axes[0, t].set_title(f"bin {t}", fontsize=8)
axes[0, 0].text(-8, 17, "OFF", rotation=90, fontsize=8)
axes[1, 0].text(-8, 17, "ON", rotation=90, fontsize=8)
fig.suptitle(f"a digit {int(labels[0])} seen by a saccading event sensor: 8 frames")

# %% [markdown]
# ## Datasets
#
# `spikesmith.data` reads N-MNIST and DVS128 Gesture from their official files (search paths,
# `SPIKESMITH_DATA`, a cache, and the download as a last resort that fails clearly offline), and
# makes a neuromorphic Fashion-MNIST here by the same saccades: `spikesmith train --dataset nfmnist`.
# Bad input is named:

# %%
bad = ev.copy()
bad["x"][0] = 1000
try:
    events.check_events(bad, sensor)
except ValueError as err:
    print(type(err).__name__ + ":", err)
