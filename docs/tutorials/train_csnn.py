# %% [markdown]
# # Train a convolutional SNN on Fashion-MNIST
#
# The main job trains a spiking CNN (conv-BN-LIF blocks with pooling, then a linear readout of
# LIF neurons) on Fashion-MNIST with surrogate-gradient backpropagation through time, and writes a
# checkpoint, a log, `metrics.json` and a report of plots. From the command line it is one line:
#
# ```bash
# spikesmith train --dataset fashion_mnist --model csnn --epochs 12 --out runs/main
# spikesmith eval --checkpoint runs/main/checkpoint.pt
# spikesmith train --model csnn --help        # the model's own options and their defaults
# ```
#
# The same run from Python goes through `training.make_config` and `run.train`. On this page it
# runs on a small subset, so that the documentation build stays fast; the README gives the figures
# of full runs (93.18% after 40 minutes of training on a 2-core CPU).

# %%
import json
import os
import tempfile
from pathlib import Path

import torch

import spikesmith
from spikesmith import run, training
from spikesmith.data import load_fashion_mnist

QUICK = os.environ.get("SPIKESMITH_DOCS_QUICK") == "1"   # the docs build's smallest settings
torch.manual_seed(0)
torch.set_num_threads(1)
try:
    load_fashion_mnist(split="test")
    dataset = "fashion_mnist"
except FileNotFoundError:           # no Fashion-MNIST on this machine: scikit-learn's digits instead
    dataset = "digits"
print("dataset:", dataset)

# %% [markdown]
# A config is a `TrainConfig` dataclass. `make_config` starts from the dataset's preset and applies
# overrides, with the same names as the command-line flags; a wrong name or value is an error that
# says what would be accepted.

# %%
out = Path(tempfile.mkdtemp(prefix="spikesmith-tutorial-"))
cfg = training.make_config(overrides={
    "dataset": dataset, "model": "csnn", "channels": 8, "T": 4,
    "epochs": 1 if QUICK else 2, "batch_size": 64,
    "train_subset": 2048 if QUICK else 8192, "test_subset": 1000 if QUICK else 2000,
    "threads": 1, "out": str(out), "report": True,
})
print(cfg.model, cfg.T, cfg.epochs, cfg.model_options)
try:
    training.make_config(overrides={"dataset": dataset, "model": "csnn", "chanels": 8})
except ValueError as err:
    print("a misspelt option:", err)

# %%
metrics = run.train(cfg)
print(f"test accuracy {metrics['test_accuracy']:.4f} after {cfg.epochs} epoch(s)")
print(sorted(p.name for p in out.iterdir()))

# %% [markdown]
# `spikesmith.load` turns any checkpoint the project writes back into its network, in eval mode, and
# checks the file's checksum on the way. The network is an ordinary `nn.Module` in multi-step mode.

# %%
net, config = spikesmith.load(out / "checkpoint.pt", config=True)
print(type(net).__name__, "T =", config.T)
print(json.loads((out / "metrics.json").read_text())["test_accuracy"] == metrics["test_accuracy"])

# %% [markdown]
# The report folder holds the training curves, the firing rates per layer, a raster and a confusion
# matrix. Here are two of them.

# %%
import matplotlib.image as mpimg
import matplotlib.pyplot as plt

report = out / "report"
pngs = sorted(report.glob("*.png"))
print([p.name for p in pngs])
for name in ("training_curves.png", "spike_raster.png"):
    path = report / name
    if path.is_file():
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.imshow(mpimg.imread(path))
        ax.axis("off")
