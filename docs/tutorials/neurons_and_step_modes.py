# %% [markdown]
# # Neurons, surrogate gradients, step modes and state
#
# A spiking neuron is a tiny recurrent cell. Its state is the membrane potential \(V\). At every time
# step it does three things:
#
# 1. **charge**: the input \(X[t]\) moves the potential to \(H[t] = f(V[t-1], X[t])\);
# 2. **fire**: it spikes when the charged potential reaches the threshold,
#    \(S[t] = \Theta(H[t] - V_{th})\), with \(\Theta(0) = 1\);
# 3. **reset**: after a spike the potential returns to \(V_{reset}\) (a *hard* reset) or drops by
#    \(V_{th}\) (a *soft* reset, `v_reset=None`).
#
# The neurons differ only in the charge equation. The integrate-and-fire neuron adds its input,
# \(H = V + X\); the leaky one also decays towards rest,
# \(H = V + (X - (V - V_{reset}))/\tau\).
#
# This page runs every line it shows, during the documentation build.

# %%
import matplotlib.pyplot as plt
import torch

from spikesmith import functional, layer, neuron, surrogate

torch.manual_seed(0)
torch.set_num_threads(1)

# %% [markdown]
# ## One neuron, step by step
#
# A neuron starts in single-step mode (`step_mode='s'`): each call is one time step, and the neuron
# keeps its potential between calls in `.v`. Here an IF and a LIF neuron get the same constant
# input of 0.3 for 12 steps.

# %%
if_node = neuron.IFNode()
lif_node = neuron.LIFNode(tau=4.0)
x = torch.full((1,), 0.3)
trace = {"IF": [], "LIF": []}
spikes = {"IF": [], "LIF": []}
for t in range(12):
    for name, node in (("IF", if_node), ("LIF", lif_node)):
        s = node(x)
        spikes[name].append(int(s.item()))
        trace[name].append(node.v.item())
print("IF  spikes:", spikes["IF"])
print("LIF spikes:", spikes["LIF"])

# %% [markdown]
# The IF neuron needs four steps of 0.3 to cross 1.0 and fires every fourth step after its hard
# reset to 0. The LIF neuron leaks: with \(\tau = 4\) its potential approaches 0.3 and never
# reaches the threshold, so a constant input that is too weak gives no spike at all.

# %%
fig, ax = plt.subplots(figsize=(6, 2.6))
ax.plot(trace["IF"], marker="o", label="IF")
ax.plot(trace["LIF"], marker="s", label="LIF, tau = 4")
ax.axhline(1.0, color="grey", linestyle="--", linewidth=1, label="threshold")
ax.set_xlabel("time step")
ax.set_ylabel("V after reset")
ax.legend(loc="upper right", fontsize=8)
ax.set_title("membrane potential for a constant input of 0.3")

# %% [markdown]
# ## Hard and soft reset
#
# With a hard reset the charge above the threshold is thrown away; with a soft reset
# (`v_reset=None`) it is kept, so the firing rate of an IF neuron equals its input exactly, which is
# what ANN-to-SNN conversion relies on.

# %%
for v_reset, label in ((0.0, "hard"), (None, "soft")):
    node = neuron.IFNode(v_reset=v_reset)
    count = sum(int(node(torch.tensor([0.35])).item()) for _ in range(100))
    print(f"{label} reset: {count} spikes in 100 steps for an input of 0.35")

# %% [markdown]
# ## Multi-step mode and `reset_net`
#
# In multi-step mode (`step_mode='m'`) a call takes a whole sequence `T x N x ...` and returns the
# spikes of every step. Both modes run the same step function, so they give the same spikes. Before
# the next, unrelated sample the state must be cleared with `functional.reset_net`.

# %%
T, N = 8, 4
x_seq = torch.rand(T, N, 5)
single = neuron.LIFNode(tau=2.0)
by_step = torch.stack([single(x_seq[t]) for t in range(T)])
multi = neuron.LIFNode(tau=2.0, step_mode="m")
whole = multi(x_seq)
print("same spikes in both modes:", torch.equal(by_step, whole))
functional.reset_net(multi)
print("state after reset_net:", multi.v)

# %% [markdown]
# ## Surrogate gradients
#
# The Heaviside step has a zero derivative almost everywhere. A surrogate keeps the step in the
# forward pass and uses the derivative of a smooth function in the backward pass; `ATan`'s is
# \(\frac{\alpha/2}{1 + (\pi \alpha x / 2)^2}\).

# %%
xs = torch.linspace(-2, 2, 201, requires_grad=True)
fig, ax = plt.subplots(figsize=(6, 2.6))
for fn in (surrogate.ATan(), surrogate.Sigmoid(), surrogate.Rectangle()):
    xs.grad = None
    fn(xs).sum().backward()
    ax.plot(xs.detach(), xs.grad, label=type(fn).__name__)
ax.set_xlabel("H - V_th")
ax.set_ylabel("surrogate derivative")
ax.legend(fontsize=8)
ax.set_title("the backward pass of three surrogates")
x0 = torch.tensor([0.0], requires_grad=True)
surrogate.ATan(alpha=2.0)(x0).backward()
print("ATan(alpha=2) derivative at 0:", round(x0.grad.item(), 4), "(alpha / 2 = 1.0)")

# %% [markdown]
# ## A network, trained through time
#
# Layers from `spikesmith.layer` fold time into the batch in multi-step mode, so a whole sequence
# goes through a convolution or a linear layer in one call. `functional.set_step_mode` switches a
# whole network. Backpropagation through time then works as for any PyTorch model.

# %%
net = torch.nn.Sequential(
    layer.Flatten(),
    layer.Linear(16, 32),
    neuron.LIFNode(tau=2.0, surrogate_function=surrogate.ATan()),
    layer.Linear(32, 2),
    neuron.LIFNode(tau=2.0),
)
functional.set_step_mode(net, "m")
images = torch.rand(64, 4, 4)                          # 64 samples of 4 x 4
labels = (images[:, :2].mean((1, 2)) > images[:, 2:].mean((1, 2))).long()   # top half brighter?
inputs = (2 * images).unsqueeze(0).repeat(8, 1, 1, 1)   # direct input, T = 8
optimiser = torch.optim.Adam(net.parameters(), lr=0.01)
for epoch in range(60):
    rate = net(inputs).mean(0)                        # firing rate per class
    loss = torch.nn.functional.cross_entropy(rate * 10, labels)
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()
    functional.reset_net(net)
    if epoch % 20 == 0 or epoch == 59:
        accuracy = (rate.argmax(1) == labels).float().mean().item()
        print(f"epoch {epoch:2d}: loss {loss.item():.3f}, training accuracy {accuracy:.2f}")
