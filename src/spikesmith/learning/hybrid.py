"""STDP and gradient descent in one network and one loop.

The learners own their synapses (``freeze=True`` stops their gradients), the optimiser gets
the rest. One training step:

    out = net(x_seq)                      # STDP learners record as the network runs
    loss = criterion(out, y); opt.zero_grad(); loss.backward(); opt.step()
    for learner in learners: learner.step()      # averaged over the batch (and the replicas)
    functional.reset_net(net); reset_learners(learners)

Under torchrun (DistributedDataParallel) gradients are averaged by DDP and the STDP weight
changes by the learners (``sync='auto'``), so every replica holds the same weights.
"""

from __future__ import annotations

from typing import Iterable

from torch import nn

from .stdp import TraceLearner


def stdp_parameters(learners: Iterable[TraceLearner]) -> list[nn.Parameter]:
    """The parameters owned by the learners' synapses (weights and biases)."""
    seen, out = set(), []
    for learner in learners:
        for p in learner.synapse.parameters(recurse=False):
            if id(p) not in seen:
                seen.add(id(p))
                out.append(p)
    return out


def gd_parameters(model: nn.Module, learners: Iterable[TraceLearner] = ()) -> list[nn.Parameter]:
    """The model's parameters for the optimiser: those that require gradients and no learner owns."""
    owned = {id(p) for p in stdp_parameters(learners)}
    return [p for p in model.parameters() if p.requires_grad and id(p) not in owned]


def step_learners(learners: Iterable[TraceLearner]) -> None:
    for learner in learners:
        learner.step()


def reset_learners(learners: Iterable[TraceLearner]) -> None:
    for learner in learners:
        learner.reset()
