"""snnTorch tutorial 5's network on real Fashion-MNIST: snnTorch against spikesmith.compat.snntorch.

    python bench/snntorch_tutorial5.py --threads 1                 # one batch of 128, 5 training steps
    python bench/snntorch_tutorial5.py --batches 4 --train-steps 20

The network of snnTorch's tutorial 5 (784-1000-10, two ``Leaky(beta=0.95)``, 25 steps, batch 128), fed
``spikegen.rate`` spikes of real Fashion-MNIST images (spikesmith's loader; MNIST is not on this machine).
Three networks with the same weights and the same input spikes: snnTorch itself, the same net after
``compat.from_snntorch`` (its own class and forward kept), and the best hand mapping onto spikesmith's own
``neuron.LIFNode`` (tau = 1 / (1 - beta), decay_input=False, soft reset). It prints the spike counts of
both layers and the number of spikes that differ from snnTorch's (target 0 for the compat net), then
trains snnTorch and the compat net for ``--train-steps`` steps of the tutorial's loss (cross entropy of
the output membrane at every step, Adam lr 5e-4) on fresh batches and prints the largest weight
difference and the spikes that differ afterwards.

Measured 2026-12-04 on a shared 2-core x86_64 (load ~17), 1 thread, ``--batches 4 --train-steps 20``:
512 images, snnTorch 1,000,190 hidden / 6,011 output spikes; compat the same, 0 differing (and 0 input
spikes differing); the hand mapping onto LIFNode 669,820 / 8,181 differing; forward per batch snnTorch
296 ms, compat 283 ms, own LIF 187 ms; after 20 Adam steps the largest weight difference is 0 and
0 of 674,257 hidden / 7,655 output spikes differ.
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import time

import torch
from torch import nn

import spikesmith.compat.snntorch as ss
from spikesmith import functional, neuron
from spikesmith.compat import from_snntorch
from spikesmith.data.datasets import get_dataset

STEPS, BATCH, BETA = 25, 128, 0.95


class Tutorial5Net(nn.Module):
    """Linear(784, 1000) - Leaky - Linear(1000, 10) - Leaky, stepped over a rate-coded input."""

    def __init__(self, leaky):
        super().__init__()
        self.fc1, self.lif1 = nn.Linear(784, 1000), leaky(beta=BETA)
        self.fc2, self.lif2 = nn.Linear(1000, 10), leaky(beta=BETA)

    def forward(self, x_seq):
        mem1, mem2 = self.lif1.init_leaky(), self.lif2.init_leaky()
        hidden, spikes, membranes = [], [], []
        for x in x_seq:
            spk1, mem1 = self.lif1(self.fc1(x), mem1)
            spk2, mem2 = self.lif2(self.fc2(spk1), mem2)
            hidden.append(spk1)
            spikes.append(spk2)
            membranes.append(mem2)
        return torch.stack(hidden), torch.stack(spikes), torch.stack(membranes)


class OwnLIFNet(nn.Module):
    """The same layers on spikesmith's own LIFNode: H = V - V / tau + X (= 0.95 V + X), fire on H >= 1,
    V = H - 1 at once (snnTorch: fire on U > 1, subtract at the next step)."""

    def __init__(self, source: Tutorial5Net):
        super().__init__()
        self.fc1, self.fc2 = copy.deepcopy(source.fc1), copy.deepcopy(source.fc2)
        self.lif1, self.lif2 = (neuron.LIFNode(tau=1 / (1 - BETA), decay_input=False, v_reset=None,
                                               step_mode="m") for _ in range(2))

    def forward(self, x_seq):
        functional.reset_net(self)
        hidden = self.lif1(self.fc1(x_seq))
        return hidden, self.lif2(self.fc2(hidden))


def _batches(images: torch.Tensor, labels: torch.Tensor, count: int, offset: int = 0):
    for i in range(offset, offset + count):
        yield images[i * BATCH:(i + 1) * BATCH].flatten(1), labels[i * BATCH:(i + 1) * BATCH]


def _rate(snn_spikegen, images, seed):
    torch.manual_seed(seed)
    theirs = snn_spikegen.rate(images, num_steps=STEPS)
    torch.manual_seed(seed)
    ours = ss.spikegen.rate(images, num_steps=STEPS)
    return theirs, ours


def _differ(a: torch.Tensor, b: torch.Tensor) -> int:
    return int((a != b).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=1, help="batches of 128 compared (default 1)")
    parser.add_argument("--train-steps", type=int, default=5, help="training steps of both nets (default 5)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    import snntorch as snn
    import snntorch.spikegen as snn_spikegen

    data = get_dataset("fashion_mnist", "train", download=False)
    images, labels = data.tensors
    print(f"Fashion-MNIST from {data.origin}; {platform.machine()}, {args.threads} thread(s), "
          f"load {os.getloadavg()[0]:.1f}")
    torch.manual_seed(args.seed)
    theirs = Tutorial5Net(snn.Leaky)
    ours = from_snntorch(copy.deepcopy(theirs))
    own = OwnLIFNet(theirs)
    print(f"converted: {type(ours).__name__} with {type(ours.lif1).__module__}.{type(ours.lif1).__name__}")

    totals = {"snntorch": [0, 0], "compat": [0, 0], "own LIF": [0, 0]}
    differ = {"compat": [0, 0], "own LIF": [0, 0]}
    input_differ, seconds = 0, {"snntorch": 0.0, "compat": 0.0, "own LIF": 0.0}

    def timed(name, net, x_seq):
        start = time.perf_counter()
        out = net(x_seq)
        seconds[name] += time.perf_counter() - start
        return out

    with torch.no_grad():
        for b, (x, _) in enumerate(_batches(images, labels, args.batches)):
            x_theirs, x_ours = _rate(snn_spikegen, x, args.seed + 1 + b)
            input_differ += _differ(x_theirs, x_ours)
            want = timed("snntorch", theirs, x_theirs)
            for name, got in (("compat", timed("compat", ours, x_ours)), ("own LIF", timed("own LIF", own, x_ours))):
                for layer in range(2):
                    differ[name][layer] += _differ(got[layer], want[layer])
                    totals[name][layer] += int(got[layer].sum())
            for layer in range(2):
                totals["snntorch"][layer] += int(want[layer].sum())
    n = args.batches * BATCH
    print(f"{n} images x {STEPS} steps; input spikes differing snnTorch vs compat spikegen.rate: {input_differ}")
    print(f"{'network':<10} {'hidden spikes':>14} {'output spikes':>14} {'hidden differ':>14} {'output differ':>14}")
    for name, (hidden, output) in totals.items():
        diff = differ.get(name, ["-", "-"])
        print(f"{name:<10} {hidden:>14,} {output:>14,} {diff[0]:>14} {diff[1]:>14}")
    print("forward time per batch: " + ", ".join(f"{name} {1e3 * t / args.batches:.0f} ms"
                                                  for name, t in seconds.items()))

    if args.train_steps:
        opts = [torch.optim.Adam(net.parameters(), lr=5e-4, betas=(0.9, 0.999)) for net in (theirs, ours)]
        loss_fn = nn.CrossEntropyLoss()
        for step, (x, y) in enumerate(_batches(images, labels, args.train_steps, offset=args.batches)):
            x_theirs, x_ours = _rate(snn_spikegen, x, 1000 + step)
            losses = []
            for net, opt, x_seq in ((theirs, opts[0], x_theirs), (ours, opts[1], x_ours)):
                _, _, mem = net(x_seq)
                loss = sum(loss_fn(mem[t], y) for t in range(STEPS))
                opt.zero_grad()
                loss.backward()
                opt.step()
                losses.append(float(loss.detach()))
            if step == 0 or step == args.train_steps - 1:
                print(f"train step {step + 1}: loss snnTorch {losses[0]:.6f}, compat {losses[1]:.6f}")
        worst = max(float((p - q).detach().abs().max()) for p, q in zip(theirs.parameters(), ours.parameters()))
        x, _ = next(_batches(images, labels, 1))
        x_theirs, x_ours = _rate(snn_spikegen, x, 99)
        with torch.no_grad():
            want, got = theirs(x_theirs), ours(x_ours)
        print(f"after {args.train_steps} training steps: largest weight difference {worst:.3g}; spikes differing "
              f"hidden {_differ(got[0], want[0])} / {int(want[0].sum()):,}, output {_differ(got[1], want[1])} / "
              f"{int(want[1].sum()):,}")


if __name__ == "__main__":
    main()
