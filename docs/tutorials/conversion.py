# %% [markdown]
# # ANN to SNN conversion, with calibration and QCFS
#
# A ReLU network can become a spiking one: each ReLU becomes an integrate-and-fire neuron with a
# soft reset, whose firing rate over T steps approximates the ReLU's output divided by its threshold.
# Conversion then has to choose the thresholds (*threshold balancing*) and correct the errors that
# remain at small T. `conversion.convert(ann, calibration_data, T, method)` does all of it:
#
# 1. trace the ANN and fold every BatchNorm into the layer before it;
# 2. replace each activation by IF neurons with soft reset;
# 3. set each layer's threshold: the maximum activation (`max`), a percentile (`robust`), or the
#    value that minimises the squared error per channel (`mse`);
# 4. optionally shift the initial potential by half a threshold, and calibrate bias, potential and
#    weights layer by layer on a few hundred inputs (`light`, `advanced`).
#
# The command-line form is `spikesmith convert --checkpoint ann.pt --method light --T 32`.

# %%
import os

import matplotlib.pyplot as plt
import torch
from torch import nn

from spikesmith import conversion
from spikesmith.conversion.evaluate import accuracy_over_time, ann_accuracy
from spikesmith.data.digits import load_digits
from spikesmith.models.activations import QCFS

QUICK = os.environ.get("SPIKESMITH_DOCS_QUICK") == "1"   # the docs build's smallest settings
torch.manual_seed(0)
torch.set_num_threads(1)
x_train, y_train = load_digits("train")
x_test, y_test = load_digits("test")
x_train, x_test = x_train.unsqueeze(1), x_test.unsqueeze(1)       # N x 1 x 8 x 8


def make_ann(activation):
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), activation(),
        nn.AvgPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), activation(),
        nn.AvgPool2d(2), nn.Flatten(),
        nn.Linear(32 * 2 * 2, 64), activation(), nn.Linear(64, 10),
    )


def train(ann, epochs):
    optimiser = torch.optim.Adam(ann.parameters(), lr=3e-3)
    for _ in range(epochs):
        ann.train()
        order = torch.randperm(len(x_train))
        for i in range(0, len(order), 64):
            batch = order[i:i + 64]
            loss = nn.functional.cross_entropy(ann(x_train[batch]), y_train[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return ann.eval()


epochs = 8 if QUICK else 25
ann = train(make_ann(nn.ReLU), epochs)
print(f"ReLU ANN: test accuracy {ann_accuracy(ann, x_test, y_test):.3f}")

# %% [markdown]
# ## Thresholds and calibration against T
#
# One converted network run for T steps gives the accuracy after every t <= T (the output averaged
# over the first t steps). For methods whose thresholds or calibration depend on T, this is only an
# approximation for other t; here each method is converted for T = 32 and read at every t.

# %%
T = 32
calibration = x_train[:256]
curves = {}
for method in ("max", "robust", "light"):
    snn = conversion.convert(ann, calibration, T=T, method=method)
    curves[method] = accuracy_over_time(snn, x_test, y_test, steps=[1, 2, 4, 8, 16, 32])
    print(f"{method:7s}", {t: round(a, 3) for t, a in curves[method].items()})

# %% [markdown]
# ## QCFS: train the ANN for the SNN
#
# The quantisation-clip-floor-shift activation (Bu et al., ICLR 2022) replaces ReLU during
# training by a staircase with L levels and a learned clip point \(\lambda\):
# \(y = \lambda \cdot \mathrm{clip}(\lfloor x L/\lambda + 1/2 \rfloor / L, 0, 1)\). An IF network run
# for T = L steps computes the same staircase, so the converted network is accurate at a handful of
# steps.

# %%
qcfs_ann = train(make_ann(lambda: QCFS(levels=4)), epochs)
print(f"QCFS ANN (L = 4): test accuracy {ann_accuracy(qcfs_ann, x_test, y_test):.3f}")
snn = conversion.convert(qcfs_ann, calibration, T=T, method="qcfs")
curves["qcfs"] = accuracy_over_time(snn, x_test, y_test, steps=[1, 2, 4, 8, 16, 32])
print("qcfs   ", {t: round(a, 3) for t, a in curves["qcfs"].items()})

# %%
fig, ax = plt.subplots(figsize=(6, 3.2))
for method, curve in curves.items():
    ax.plot(list(curve), list(curve.values()), marker="o", label=method)
ax.axhline(ann_accuracy(ann, x_test, y_test), color="grey", linestyle="--", linewidth=1, label="ReLU ANN")
ax.set_xscale("log", base=2)
ax.set_xlabel("time steps t")
ax.set_ylabel("test accuracy")
ax.set_title("converted SNN accuracy after t steps")
ax.legend(fontsize=8)

# %% [markdown]
# ## What conversion refuses
#
# Everything between two activations must be affine. A max pool after a spiking layer would pass the
# wrong values, so it is an error unless a gated spiking max pool is asked for.

# %%
bad = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(36, 10)).eval()
try:
    conversion.convert(bad, calibration, T=8, method="max")
except ValueError as err:
    print(type(err).__name__ + ":", str(err)[:300])
