# %% [markdown]
# # Monitors, firing rates, rasters and class patterns
#
# A monitor attaches removable hooks to the layers of a network and records what passes through
# them: outputs, inputs, an attribute such as the membrane potential `v`, or gradients. It never
# changes what the network computes. This page trains a small spiking network on scikit-learn's
# 8 x 8 digits, then looks inside it: the spikes of every layer, firing rates, a raster, membrane
# traces, the mean activity per class, and an operation and energy count.

# %%
import matplotlib.pyplot as plt
import torch

from spikesmith import analysis, functional, layer, monitor, neuron
from spikesmith.data.digits import load_digits

torch.manual_seed(0)
torch.set_num_threads(1)
x_train, y_train = load_digits("train")
x_test, y_test = load_digits("test")
print(x_train.shape, x_test.shape)

# %%
T = 8
net = torch.nn.Sequential(
    layer.Flatten(), layer.Linear(64, 64), neuron.LIFNode(tau=2.0),
    layer.Linear(64, 10), neuron.LIFNode(tau=2.0),
)
functional.set_step_mode(net, "m")
optimiser = torch.optim.Adam(net.parameters(), lr=5e-3)
seq = lambda images: images.unsqueeze(0).repeat(T, *([1] * images.dim()))   # direct input, T x N x ...
for epoch in range(15):
    for i in range(0, len(x_train), 128):
        rate = net(seq(x_train[i:i + 128])).mean(0)
        loss = torch.nn.functional.cross_entropy(rate * 8, y_train[i:i + 128])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        functional.reset_net(net)
net.eval()
with torch.no_grad():
    accuracy = (net(seq(x_test)).mean(0).argmax(1) == y_test).float().mean().item()
functional.reset_net(net)
print(f"test accuracy {accuracy:.3f}")

# %% [markdown]
# ## Spikes and firing rates
#
# `SpikeMonitor` watches every spiking neuron by default (`instance=` picks others). Records are
# kept per layer, under the layer's name in the network; `firing_rates()` summarises them.

# %%
spikes = monitor.SpikeMonitor(net)
with torch.no_grad():
    net(seq(x_test[:100]))
functional.reset_net(net)
print("layers watched:", spikes.monitored_layers)
for name, rate in spikes.firing_rates().items():
    print(f"layer {name}: mean firing rate {float(rate):.3f}")
hidden = spikes.sequence(spikes.monitored_layers[0])     # T x N x 64, every recorded step
print("hidden spikes:", tuple(hidden.shape))
spikes.remove_hooks()

# %%
fig, ax = plt.subplots(figsize=(7, 3))
t, neuron_index = hidden[:, 0].nonzero(as_tuple=True)
ax.scatter(t, neuron_index, marker="|", s=60)
ax.set_xlabel("time step")
ax.set_ylabel("hidden neuron")
ax.set_title(f"raster of the hidden layer for one test digit (label {int(y_test[0])})")

# %% [markdown]
# ## Membrane potentials
#
# `MembraneMonitor` records `v` after every step (in multi-step mode the neuron keeps the whole
# sequence while it is watched).

# %%
membranes = monitor.MembraneMonitor(net)
with torch.no_grad():
    net(seq(x_test[:1]))
functional.reset_net(net)
v_out = membranes.sequence(membranes.monitored_layers[-1])[:, 0]   # T x 10
membranes.remove_hooks()
fig, ax = plt.subplots(figsize=(7, 3))
for k in range(10):
    ax.plot(v_out[:, k], label=str(k), linewidth=2 if k == int(y_test[0]) else 0.8)
ax.axhline(1.0, color="grey", linestyle="--", linewidth=1)
ax.set_xlabel("time step")
ax.set_ylabel("V of the output neurons")
ax.legend(ncol=5, fontsize=7)

# %% [markdown]
# ## Class patterns
#
# The mean hidden firing rate for each class shows which neurons code for which digit.

# %%
outputs = monitor.OutputMonitor(net, instance=neuron.LIFNode)
with torch.no_grad():
    net(seq(x_test))
functional.reset_net(net)
hidden_rates = outputs.sequence(outputs.monitored_layers[0]).mean(0)    # N x 64
outputs.remove_hooks()
pattern = torch.stack([hidden_rates[y_test == k].mean(0) for k in range(10)])
fig, ax = plt.subplots(figsize=(7, 3))
image = ax.imshow(pattern, aspect="auto", cmap="viridis")
ax.set_xlabel("hidden neuron")
ax.set_ylabel("class")
fig.colorbar(image, ax=ax, label="mean firing rate")

# %% [markdown]
# ## Operations and energy
#
# `analysis.profile` counts synaptic operations: a spike into a linear layer costs one accumulate
# per outgoing weight, a real-valued input one multiply-accumulate. With the default 45 nm costs
# (0.9 pJ per accumulate, 4.6 pJ per multiply-accumulate) it estimates the energy next to an ANN of
# the same shape. `spikesmith profile --checkpoint ...` prints the same table.

# %%
report = analysis.profile(net, seq(x_test[:64]))
print(report.table())
print(f"per sample: SNN {report.energy_pj / 1e3:.1f} nJ, ANN {report.ann_energy_pj / 1e3:.1f} nJ")

# %% [markdown]
# Here the spiking network costs *more* than its ANN: with direct (analog) input the first layer
# does its multiply-accumulates at every one of the T = 8 steps. The saving comes from layers fed by
# sparse spikes (the second row: accumulates only), so spike-encoded inputs, fewer steps or sparser
# activity are what make an SNN cheaper.
