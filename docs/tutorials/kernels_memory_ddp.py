# %% [markdown]
# # Fast kernels, bounded memory in T, and distributed training
#
# A neuron layer in multi-step mode is a loop over T steps of a few element-wise operations. Run as
# separate PyTorch operations, each step reads and writes the whole state several times and keeps
# every intermediate for the backward pass. spikesmith's fused kernels run the whole loop in one
# pass: C++/OpenMP on the CPU, compiled once on first use and cached (`SPIKESMITH_CACHE`), and Triton
# on the GPU. `backend='auto'` (the default) uses them where they apply and falls back to the
# reference loop `dynamics.scan`, which is also the oracle the kernels are tested against.

# %%
import os
import subprocess
import sys
import tempfile
import time

import torch

from spikesmith import functional, kernels, layer, neuron

QUICK = os.environ.get("SPIKESMITH_DOCS_QUICK") == "1"   # the docs build's smallest settings
torch.manual_seed(0)
torch.set_num_threads(1)
print("fused CPU kernels available:", kernels.cpu.available())

# %% [markdown]
# ## The same spikes, faster
#
# The fused kernel and the reference loop give the same spikes, and gradients equal within float
# rounding.

# %%
T, N, C = 32, 16, 4096
x = torch.randn(T, N, C) * 0.6 + 0.5


def run_once(backend, x):
    node = neuron.LIFNode(tau=2.0, step_mode="m", backend=backend)
    x = x.clone().requires_grad_(True)
    start = time.perf_counter()
    spikes = node(x)
    spikes.sum().backward()
    return spikes.detach(), x.grad, time.perf_counter() - start


run_once("auto", x)                                # first call compiles (or loads) the kernel
fused, fused_grad, fused_s = min((run_once("auto", x) for _ in range(3)), key=lambda r: r[2])
ref, ref_grad, ref_s = min((run_once("torch", x) for _ in range(3)), key=lambda r: r[2])
print("spikes identical:", torch.equal(fused, ref))
print("largest gradient difference:", f"{(fused_grad - ref_grad).abs().max().item():.2e}")
print(f"forward+backward, T={T} x {N} x {C}: fused {fused_s * 1e3:.1f} ms, step-by-step {ref_s * 1e3:.1f} ms "
      f"({ref_s / fused_s:.1f}x), one thread, measured during the docs build")

# %% [markdown]
# `bench/bench_lif.py` measures the same against SpikingJelly, snnTorch and Norse in one run.
#
# ## Memory that stays low as T grows
#
# Backpropagation through time normally keeps every step's activations. `kernels.time_checkpoint`
# runs a multi-step network chunk by chunk and recomputes each chunk's activations in the backward
# pass. Besides the input sequence itself, what it keeps for backward is the state at each chunk's
# start and one chunk's activations while that chunk is recomputed. The gradients are the same.

# %%
net = torch.nn.Sequential(layer.Linear(256, 256), neuron.LIFNode(tau=2.0), layer.Linear(256, 10), neuron.LIFNode(tau=2.0))
functional.set_step_mode(net, "m")
x_seq = torch.rand(64, 8, 256)


def gradient(use_checkpoint):
    net.zero_grad()
    functional.reset_net(net)
    out = kernels.time_checkpoint(net, x_seq, time_chunk=8) if use_checkpoint else net(x_seq)
    out.sum().backward()
    functional.reset_net(net)
    return net[0].weight.grad.clone()


def saved_bytes(use_checkpoint, x_seq=x_seq):
    sizes = []
    def pack(t):
        sizes.append(t.numel() * t.element_size())
        return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        functional.reset_net(net)
        out = kernels.time_checkpoint(net, x_seq, time_chunk=8) if use_checkpoint else net(x_seq)
    out.sum().backward()
    functional.reset_net(net)
    return sum(sizes)


print("same gradient with time_checkpoint:", torch.allclose(gradient(False), gradient(True), atol=1e-6))
lengths = [16, 32, 64, 128]
plain = [saved_bytes(False, torch.rand(t, 8, 256)) / 1e6 for t in lengths]
chunked = [saved_bytes(True, torch.rand(t, 8, 256)) / 1e6 for t in lengths]
for t, a, b in zip(lengths, plain, chunked):
    print(f"T={t:3d}: saved for backward, plain {a:.2f} MB, time_checkpoint {b:.2f} MB")

import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(5.5, 3))
ax.plot(lengths, plain, marker="o", label="plain BPTT")
ax.plot(lengths, chunked, marker="s", label="time_checkpoint, chunk 8")
ax.set_xlabel("T")
ax.set_ylabel("MB saved for backward")
ax.set_title("a 256-256-10 LIF network, batch 8")
ax.legend(fontsize=8)

# %% [markdown]
# ## Distributed training with `torchrun`
#
# `spikesmith train` runs under `torchrun` with PyTorch's DistributedDataParallel: each process
# trains on its shard of the data, gradients are averaged, and only rank 0 writes the checkpoint and
# report. A rank that stops answering ends the job after `--dist-timeout` seconds with an error that
# names it. Here two processes train on the digits on this machine's CPU (the gloo backend).

# %%
out = tempfile.mkdtemp(prefix="spikesmith-ddp-")
command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29517",
           "-m", "spikesmith", "train", "--dataset", "digits", "--epochs", "5" if QUICK else "20",
           "--threads", "1", "--report", "false", "--out", out]
print("$", "torchrun --nproc_per_node=2 -m spikesmith train --dataset digits ...")
done = subprocess.run(command, capture_output=True, text=True, timeout=600)
lines = [line for line in (done.stdout + done.stderr).splitlines() if line.startswith("[spikesmith]")]
print("\n".join(lines[-3:]))
print("exit code", done.returncode, "| written:", sorted(os.listdir(out)))
assert done.returncode == 0, done.stderr[-2000:]
