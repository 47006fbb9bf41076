# %% [markdown]
# # Encoders: values to spike trains
#
# A spiking network needs its input as spikes over time, `T x N x ...`. `spikesmith.encoding`
# holds the usual codes, each as a pure function (`poisson_encode`, ...) and as a module
# (`PoissonEncoder`, ...). They check their input: values outside the code's range or non-finite
# values are errors that say so, unless `clamp=True`.
#
# | code | a value becomes | good for |
# |---|---|---|
# | Poisson (rate) | a spike with probability `x` at each step | robustness, rate-coded nets |
# | deterministic rate | evenly spaced spikes, `round(x T)` of them | reproducible rate codes |
# | latency | one spike, earlier for larger values | time-to-first-spike nets, STDP |
# | population | spikes from Gaussian receptive fields over the range | scalars, control |
# | delta | a spike when the value changed by more than a threshold | sequences, sensors |
# | direct | the value itself at every step (the first layer makes the spikes) | deep SNN training |

# %%
import matplotlib.pyplot as plt
import torch

from spikesmith import encoding
from spikesmith.data.digits import load_digits

torch.manual_seed(0)
images, labels = load_digits("test")
image = images[0]                                 # 8 x 8 in [0, 1]
T = 20

# %%
poisson = encoding.poisson_encode(image, T, seed=0)
rate = encoding.rate_encode(image, T)
latency = encoding.latency_encode(image, T)
print("shapes:", tuple(poisson.shape), tuple(latency.shape))
print("Poisson: mean rate", round(poisson.mean().item(), 3), "for a mean pixel of", round(image.mean().item(), 3))
print("latency: spikes per pixel at most", int(latency.sum(0).max().item()))
print("rate: brightest pixel fires", int(rate.sum(0).max().item()), "times in", T, "steps")

# %%
fig, axes = plt.subplots(1, 4, figsize=(10, 2.6))
axes[0].imshow(image, cmap="gray")
axes[0].set_title(f"digit {int(labels[0])}")
for ax, (name, spikes) in zip(axes[1:], (("Poisson", poisson), ("rate", rate), ("latency", latency))):
    t, pixel = spikes.flatten(1).nonzero(as_tuple=True)
    ax.scatter(t, pixel, marker="|", s=8)
    ax.set_title(name)
    ax.set_xlabel("step")
axes[1].set_ylabel("pixel")
fig.tight_layout()

# %% [markdown]
# ## Latency codes
#
# `latency_encode` places one spike per value: linear in the value (`code='linear'`) or, as for a
# capacitor charging towards a threshold, `code='log'` with a time constant `tau`, which keeps
# most values early and spreads only the faintest ones. Values below `threshold` never fire.

# %%
values = torch.tensor([1.0, 0.75, 0.5, 0.25, 0.1, 0.05, 0.02, 0.0])
print("values:", [round(v, 2) for v in values.tolist()])
for code in ("linear", "log"):
    spikes = encoding.latency_encode(values, 10, code=code, tau=20.0)
    times = [int(s.nonzero()[0]) if s.any() else None for s in spikes.T]
    print(f"{code:6s} code, spike step of each value: {times}")

# %% [markdown]
# ## Population codes
#
# A scalar becomes the activity of `n_neurons` neurons with Gaussian receptive fields spread over
# `[x_min, x_max]`; neighbouring values excite overlapping neurons.

# %%
xs = torch.linspace(0, 1, 5)
code = encoding.population_encode(xs, None, 8, output="current")
print("responses of 8 neurons for x =", [round(v, 2) for v in xs.tolist()])
print(code.numpy().round(2))

# %% [markdown]
# ## Delta codes
#
# For a signal over time, `delta_encode` emits an ON spike when the value rose by more than the
# threshold since the last spike, and an OFF spike (`-1`, or a separate channel with
# `split_polarity=True`) when it fell.

# %%
t = torch.linspace(0, 4 * torch.pi, 200)
signal = torch.sin(t)
spikes = encoding.delta_encode(signal.unsqueeze(1), threshold=0.2).squeeze(1)
print("ON spikes:", int((spikes > 0).sum()), "OFF spikes:", int((spikes < 0).sum()))
fig, ax = plt.subplots(figsize=(7, 2.6))
ax.plot(signal, color="grey", label="signal")
ax.vlines((spikes > 0).nonzero().squeeze(1), 1.1, 1.3, color="tab:green", label="ON")
ax.vlines((spikes < 0).nonzero().squeeze(1), -1.3, -1.1, color="tab:red", label="OFF")
ax.legend(fontsize=8, ncol=3)
ax.set_xlabel("step")

# %% [markdown]
# ## Bad input is named
#
# Encoders refuse what they cannot code, and say how to fix it.

# %%
for bad in (torch.tensor([0.5, 1.5]), torch.tensor([0.2, float("nan")])):
    try:
        encoding.poisson_encode(bad, 4)
    except ValueError as err:
        print(type(err).__name__ + ":", err)
print("with clamp=True:", encoding.poisson_encode(torch.tensor([1.5]), 4, clamp=True, seed=0).flatten().tolist())
