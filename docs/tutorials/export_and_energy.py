# %% [markdown]
# # Export to NIR and Lava, hardware checks, and energy
#
# A trained network leaves PyTorch through one export pipeline with two targets:
#
# - **NIR** (the Neuromorphic Intermediate Representation), read by Norse, snnTorch, SpikingJelly,
#   Lava, Rockpool, Sinabs and hardware tool chains: `export.to_nir(model, example_input)`, then
#   `export.write_nir(graph, "net.nir")`; `export.from_nir` reads a graph back into spikesmith;
# - **Loihi through Lava-dl's netx** HDF5 format: `export.to_lava(model, "net.net", example_input)`.
#   Upstream Lava is archived, so this export is kept working, and new interchange work goes into NIR.
#
# Before exporting, `export.check(model, target)` lists every layer the target cannot take, with the
# reason and the fix, instead of failing on the first. `analysis.profile` counts synaptic operations
# and estimates the energy.

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from spikesmith import analysis, export, functional, layer, neuron

torch.manual_seed(0)
torch.set_num_threads(1)
net = torch.nn.Sequential(
    layer.Conv2d(2, 8, 3, padding=1, bias=False), neuron.LIFNode(tau=2.0),
    layer.AvgPool2d(2),
    layer.Flatten(), layer.Linear(8 * 8 * 8, 10, bias=False), neuron.LIFNode(tau=2.0),
)
functional.set_step_mode(net, "m")
x = (torch.rand(6, 4, 2, 16, 16) < 0.2).float()          # T = 6 steps of event frames, N = 4

# %% [markdown]
# ## Hardware checks

# %%
for target in ("nir", "loihi2"):
    issues = export.check(net, target, input_shape=(2, 16, 16))
    print(f"{target}: {len(issues)} issue(s)", *[f"\n  - {i}" for i in issues])
soft = torch.nn.Sequential(layer.Linear(4, 4), neuron.LIFNode(tau=2.0, v_reset=None))
for issue in export.check(soft, "nir", input_shape=(4,)):
    print("a soft-reset LIF for NIR:", issue)

# %% [markdown]
# ## NIR: export, write, read back, and compare
#
# The graph read back into spikesmith computes the same spikes as the original network.

# %%
folder = Path(tempfile.mkdtemp(prefix="spikesmith-export-"))
graph = export.to_nir(net, x[:, :1])
path = export.write_nir(graph, folder / "net.nir")
print("NIR nodes:", sorted(graph.nodes))
back = export.from_nir(export.read_nir(path))
functional.set_step_mode(back, "m")
with torch.no_grad():
    functional.reset_net(net)
    original = net(x)
    functional.reset_net(net)
    again = back(x)
print(f"{path.name}: {path.stat().st_size} bytes; spikes equal after the round trip: {torch.equal(original, again)}")

# %% [markdown]
# ## Lava-dl netx

# %%
lava = export.to_lava(net, folder / "net.net", x[:, :1])
print(type(lava).__name__, "->", Path(lava.path).name if hasattr(lava, "path") else lava)

# %% [markdown]
# ## Operations and energy
#
# A spike into a synapse costs one accumulate (AC) per outgoing weight; a real value, one
# multiply-accumulate (MAC). The estimate uses 0.9 pJ per AC and 4.6 pJ per MAC (45 nm, Horowitz
# 2014) against an ANN of the same layers. Sparse inputs are where the spiking network saves.

# %%
rates, ratios = [], []
for density in (0.02, 0.05, 0.1, 0.2, 0.4):
    spikes = (torch.rand(6, 16, 2, 16, 16) < density).float()
    report = analysis.profile(net, spikes)
    rates.append(density)
    ratios.append(report.energy_pj / report.ann_energy_pj)
    print(f"input density {density:.2f}: SNN/ANN energy {ratios[-1]:.3f}")
print(report.table())
fig, ax = plt.subplots(figsize=(5.5, 3))
ax.plot(rates, ratios, marker="o")
ax.axhline(1.0, color="grey", linestyle="--", linewidth=1)
ax.set_xlabel("input spike density")
ax.set_ylabel("E_SNN / E_ANN")
ax.set_title("estimated energy against an ANN of the same shape (T = 6)")
