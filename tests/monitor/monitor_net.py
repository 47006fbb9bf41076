"""The monitor tests' small net with hand-checkable spikes: Linear(1->2) - IFNode - Linear(2->1) - LIFNode(tau=2).

Input x = 1.0 (sample 0) and 1.5 (sample 1) at each of T = 5 steps. The first Linear has
weight [[0.4], [0.5]], so the IF neurons receive constant currents 0.4, 0.5 (sample 0) and
0.6, 0.75 (sample 1). With V_th = 1 and a hard reset to 0 they spike at

    sample 0: neuron 0 at t = 2; neuron 1 at t = 1, 3
    sample 1: both neurons at t = 1, 3

The second Linear sums the two IF spikes into the LIF (tau = 2, decay_input):
sample 0 gets X = 0, 1, 1, 1, 0 -> V = 0, 0.5, 0.75, 0.875, 0.4375, no spike;
sample 1 gets X = 0, 2, 0, 2, 0 -> H = 1 at t = 1, 3 -> spikes there, V = 0 throughout.
Everything runs in float64.
"""

from __future__ import annotations

import torch
from torch import nn

from spikesmith import neuron

T = 5

IF_SPIKES = torch.tensor(
    [
        [[0, 0], [0, 0]],
        [[0, 1], [1, 1]],
        [[1, 0], [0, 0]],
        [[0, 1], [1, 1]],
        [[0, 0], [0, 0]],
    ],
    dtype=torch.float64,
)  # T x N x 2
IF_V = torch.tensor(
    [
        [[0.4, 0.5], [0.6, 0.75]],
        [[0.8, 0.0], [0.0, 0.0]],
        [[0.0, 0.5], [0.6, 0.75]],
        [[0.4, 0.0], [0.0, 0.0]],
        [[0.8, 0.5], [0.6, 0.75]],
    ],
    dtype=torch.float64,
)
LIF_SPIKES = torch.tensor([[[0], [0]], [[0], [1]], [[0], [0]], [[0], [1]], [[0], [0]]], dtype=torch.float64)
LIF_V = torch.tensor(
    [[[0.0], [0.0]], [[0.5], [0.0]], [[0.75], [0.0]], [[0.875], [0.0]], [[0.4375], [0.0]]], dtype=torch.float64
)


def build_net(step_mode: str) -> nn.Sequential:
    net = nn.Sequential(
        nn.Linear(1, 2, bias=False),
        neuron.IFNode(step_mode=step_mode),
        nn.Linear(2, 1, bias=False),
        neuron.LIFNode(tau=2.0, step_mode=step_mode),
    ).double()
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[0.4], [0.5]]))
        net[2].weight.fill_(1.0)
    return net


def run(net: nn.Sequential, x_seq: torch.Tensor, step_mode: str) -> torch.Tensor:
    """Run the whole sequence in either step mode; returns T x N x 1."""
    if step_mode == "m":
        return net(x_seq)
    return torch.stack([net(x) for x in x_seq.unbind(0)])
