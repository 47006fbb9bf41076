# %% [markdown]
# # STDP, lateral inhibition and Diehl & Cook; STDP and gradient descent in one network
#
# Spike-timing-dependent plasticity changes a synapse by the timing of the spikes on its two sides:
# a presynaptic spike shortly *before* a postsynaptic one strengthens it (by \(A_+ e^{-\Delta t/\tau_+}\)),
# one shortly *after* weakens it (by \(A_- e^{-\Delta t/\tau_-}\)). Each side keeps a *trace*, a decaying
# memory of its spikes, so the rule is local in space and time. `learning.STDPLearner` attaches to
# a synapse (a `Linear` or `Conv2d`) and the neuron it feeds, records their spikes through hooks, and
# computes the change when asked.

# %%
import math
import os
import tempfile
from pathlib import Path

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import torch

from spikesmith import functional, layer, learning, neuron, run

QUICK = os.environ.get("SPIKESMITH_DOCS_QUICK") == "1"   # the docs build's smallest settings
torch.manual_seed(0)
torch.set_num_threads(1)

# %% [markdown]
# ## One synapse, checked by hand
#
# One input with weight 0.5 drives an IF neuron with threshold 1. Input spikes at steps 2 and 4
# make it fire at step 4. With \(A_+ = 0.01\), \(A_- = 0.012\) and \(\tau = 20\) steps:
#
# - potentiation at the post spike (step 4): the pre trace is \(e^{-2/20} + 1\), so
#   \(+0.01\,(e^{-0.1} + 1)\);
# - depression at the pre spike of step 4: the post trace is 1 (a spike of the same step counts as
#   \(\Delta t = 0\)), so \(-0.012\).

# %%
synapse = layer.Linear(1, 1, bias=False)
torch.nn.init.constant_(synapse.weight, 0.5)
cell = neuron.IFNode(v_threshold=1.0)
net = torch.nn.Sequential(synapse, cell)
functional.set_step_mode(net, "m")
stdp = learning.STDPLearner(synapse, cell, a_plus=0.01, a_minus=0.012, tau_plus=20.0, tau_minus=20.0)
x = torch.zeros(10, 1, 1)
x[2] = x[4] = 1.0
post = net(x)
print("post spikes at steps", post.flatten().nonzero().flatten().tolist())
dw = stdp.step()                       # computes and applies the change
expected = 0.01 * (math.exp(-2 / 20) + 1) - 0.012
print(f"dw = {dw.item():.6f}, by hand {expected:.6f}; new weight {synapse.weight.item():.6f}")
stdp.remove()

# %% [markdown]
# ## Diehl & Cook (2015): unsupervised digit recognition
#
# Poisson-coded images drive excitatory LIF neurons through STDP synapses; each excitatory neuron
# inhibits all the others (lateral inhibition, a soft winner-take-all), and an adaptive threshold
# \(\theta\) grows with every spike so that no neuron wins everything. After training, each neuron is
# labelled with the class it answers most, and a test image is classified by the votes of the
# neurons that fire. `spikesmith stdp` runs it: `spikesmith stdp --dataset digits` from the command
# line, or `run.run_stdp` from Python.

# %%
out = Path(tempfile.mkdtemp(prefix="spikesmith-stdp-"))
cfg = run.make_stdp_config(overrides={"dataset": "digits", "epochs": 1 if QUICK else 3, "threads": 1,
                                      "out": str(out / "dc")})
metrics = run.run_stdp(cfg)
print(f"Diehl & Cook, {cfg.n_neurons} neurons: test accuracy {metrics['test_accuracy']:.3f} "
      f"after {metrics['epochs_run']} epoch(s), {metrics['train_time_s']:.1f} s of training")

# %%
fig, ax = plt.subplots(figsize=(6, 6))
ax.imshow(mpimg.imread(out / "dc" / "report" / "receptive_fields.png"))
ax.axis("off")

# %% [markdown]
# The receptive fields are the learned input weights of each excitatory neuron: each has become a
# prototype of a digit, without ever seeing a label.
#
# ## STDP and gradient descent in one network
#
# The hybrid model learns a convolution by STDP (with lateral inhibition between its maps) while a
# readout on top of it learns by gradient descent, in the same training loop. `--a-plus 0
# --a-minus 0` freezes the convolution at its random start, the baseline it must beat.

# %%
hybrid = run.make_stdp_config(overrides={"dataset": "digits", "model": "hybrid", "threads": 1,
                                         "out": str(out / "hybrid")})
metrics = run.run_stdp(hybrid)
print(f"hybrid STDP conv + GD readout: test accuracy {metrics['test_accuracy']:.3f}")
