# %% [markdown]
# # Moving over from SpikingJelly and snnTorch
#
# Code written for SpikingJelly or snnTorch runs on spikesmith by changing its imports. The
# compatibility packages keep the peers' exact semantics (names, arguments, defaults, tie rules and
# reset timing); [the migration guide](../migration.md) maps every name and lists the remaining
# differences. This page runs the switch on small programs and, where the peer is installed,
# compares the outputs with the peer's own on the same weights and inputs.

# %%
import importlib.util

import torch

torch.manual_seed(0)
have_sj = importlib.util.find_spec("spikingjelly") is not None
have_snntorch = importlib.util.find_spec("snntorch") is not None
print("SpikingJelly installed:", have_sj, "| snnTorch installed:", have_snntorch)

# %% [markdown]
# ## SpikingJelly: `spikingjelly.` becomes `spikesmith.compat.spikingjelly.`
#
# The program below is written exactly as for SpikingJelly's `activation_based` API, but imports
# from the compatibility tree.

# %%
from spikesmith.compat.spikingjelly.activation_based import functional, layer, neuron, surrogate

net = torch.nn.Sequential(
    layer.Conv2d(1, 8, 3, padding=1, bias=False), layer.BatchNorm2d(8),
    neuron.LIFNode(tau=2.0, surrogate_function=surrogate.ATan(), detach_reset=True),
    layer.MaxPool2d(2), layer.Flatten(), layer.Linear(8 * 4 * 4, 10),
    neuron.LIFNode(tau=2.0, surrogate_function=surrogate.ATan(), detach_reset=True),
)
functional.set_step_mode(net, "m")
x = torch.rand(4, 2, 1, 8, 8) * 4
ours = net(x)
functional.reset_net(net)
print("output:", tuple(ours.shape), "spikes:", int(ours.sum()))

# %% [markdown]
# The same network built with SpikingJelly itself, given the same weights, gives the same spikes:

# %%
if have_sj:
    from spikingjelly.activation_based import functional as sj_functional
    from spikingjelly.activation_based import layer as sj_layer
    from spikingjelly.activation_based import neuron as sj_neuron
    from spikingjelly.activation_based import surrogate as sj_surrogate

    sj_net = torch.nn.Sequential(
        sj_layer.Conv2d(1, 8, 3, padding=1, bias=False), sj_layer.BatchNorm2d(8),
        sj_neuron.LIFNode(tau=2.0, surrogate_function=sj_surrogate.ATan(), detach_reset=True),
        sj_layer.MaxPool2d(2), sj_layer.Flatten(), sj_layer.Linear(8 * 4 * 4, 10),
        sj_neuron.LIFNode(tau=2.0, surrogate_function=sj_surrogate.ATan(), detach_reset=True),
    )
    sj_net.load_state_dict(net.state_dict())
    sj_functional.set_step_mode(sj_net, "m")
    theirs = sj_net(x)
    print("identical to SpikingJelly:", torch.equal(ours, theirs))
else:
    print("SpikingJelly is not installed here: the comparison is skipped")

# %% [markdown]
# Unmodified `import spikingjelly...` code can also run on spikesmith after one call,
# `spikesmith.compat.install_spikingjelly_alias()` (undone by `uninstall_spikingjelly_alias()`).
# The old `clock_driven` API is there too: `MultiStepLIFNode(..., backend='cupy')` maps onto our
# kernels with a one-line notice.

# %%
from spikesmith.compat.spikingjelly.clock_driven import neuron as old_neuron

old = old_neuron.MultiStepLIFNode(tau=2.0, backend="cupy")
print("clock_driven MultiStepLIFNode ->", type(old).__name__, "| spikes:", int(old(torch.rand(4, 3, 5) * 2).sum()))

# %% [markdown]
# ## snnTorch: `snntorch` becomes `spikesmith.compat.snntorch`
#
# snnTorch's `Leaky` fires on a strict `>` and subtracts the reset at the *next* step, without
# decay. The compatibility neuron does the same, so snnTorch's tutorial-5 network gives the same
# spikes (checked spike for spike in `tests/compat/` and `bench/snntorch_tutorial5.py`).

# %%
from spikesmith.compat import snntorch as ss

beta = 0.95
fc = torch.nn.Linear(20, 5)
lif = ss.Leaky(beta=beta)
inputs = (torch.rand(25, 3, 20) < 0.3).float()
mem = lif.init_leaky()
ours = []
for step in range(25):
    spk, mem = lif(fc(inputs[step]), mem)
    ours.append(spk)
ours = torch.stack(ours)
print("spikes:", int(ours.sum()))
if have_snntorch:
    import snntorch

    peer = snntorch.Leaky(beta=beta)
    mem = peer.init_leaky()
    theirs = []
    for step in range(25):
        spk, mem = peer(fc(inputs[step]), mem)
        theirs.append(spk)
    print("identical to snnTorch:", torch.equal(ours, torch.stack(theirs)))
else:
    print("snnTorch is not installed here: the comparison is skipped")

# %%
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 2.4))
t, n = ours[:, 0].nonzero(as_tuple=True)
ax.scatter(t, n, marker="|", s=80)
ax.set_xlabel("time step")
ax.set_ylabel("neuron")
ax.set_title("compat.snntorch.Leaky, first sample")
