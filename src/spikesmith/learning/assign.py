"""Reading out an unsupervised layer: label assignment by highest average response, and
classification by the most active group (Diehl & Cook 2015).

    rates[j, c]   = mean spike count of neuron j over the samples of class c
    label[j]      = argmax_c rates[j, c]             (-1 for a neuron that never fired)
    score[n, c]   = mean count of the neurons labelled c in sample n           (vote="mean")
                  = mean of count[n, j] * p[j, c] over the neurons j labelled c (vote="proportion",
                    p[j, c] = rates[j, c] / sum_c' rates[j, c]: how selective neuron j is for c)
    prediction[n] = argmax_c score[n, c]

>>> acc = ResponseAssigner(num_neurons=100, num_classes=10)
>>> acc.add(counts, labels)              # counts: [N, 100] spike counts, labels: [N]
>>> labels = acc.assign(); pred = classify(test_counts, labels, 10)
"""

from __future__ import annotations

import torch
from torch import Tensor


def _check_counts(counts: Tensor, where: str) -> Tensor:
    if not isinstance(counts, Tensor) or counts.dim() != 2:
        raise ValueError(f"{where}: counts must be a tensor [samples, neurons], got "
                         f"{list(counts.shape) if isinstance(counts, Tensor) else type(counts).__name__}")
    return counts.to(torch.float64)


class ResponseAssigner:
    """Accumulates per-class spike counts of each neuron; ``assign()`` gives each neuron a label."""

    def __init__(self, num_neurons: int, num_classes: int):
        self.num_neurons, self.num_classes = int(num_neurons), int(num_classes)
        self.sums = torch.zeros(self.num_classes, self.num_neurons, dtype=torch.float64)
        self.samples = torch.zeros(self.num_classes, dtype=torch.float64)

    def add(self, counts: Tensor, labels: Tensor) -> None:
        counts = _check_counts(counts, "ResponseAssigner.add").cpu()
        labels = labels.to(torch.long).cpu()
        if counts.shape != (labels.numel(), self.num_neurons):
            raise ValueError(f"ResponseAssigner.add: counts {list(counts.shape)} and labels {list(labels.shape)} must be "
                             f"[N, {self.num_neurons}] and [N]")
        if labels.numel() and (labels.min() < 0 or labels.max() >= self.num_classes):
            raise ValueError(f"ResponseAssigner.add: labels must lie in [0, {self.num_classes}), got "
                             f"[{int(labels.min())}, {int(labels.max())}]")
        self.sums.index_add_(0, labels, counts)
        self.samples += torch.bincount(labels, minlength=self.num_classes).to(torch.float64)

    def rates(self) -> Tensor:
        """``neurons x classes``: mean response of each neuron to each class (0 for unseen classes)."""
        return (self.sums / self.samples.clamp(min=1).unsqueeze(1)).t()

    def assign(self) -> Tensor:
        """The label of each neuron (int64 ``[neurons]``; -1 for neurons that never fired)."""
        return assign_labels(self.rates())

    def clear(self) -> None:
        self.sums.zero_()
        self.samples.zero_()


def assign_labels(rates: Tensor) -> Tensor:
    """``argmax_c rates[j, c]`` per neuron, -1 where a neuron never responded."""
    labels = rates.argmax(1)
    return torch.where(rates.sum(1) > 0, labels, torch.full_like(labels, -1))


VOTES = ("mean", "proportion")


def proportions(rates: Tensor) -> Tensor:
    """``neurons x classes``: each neuron's responses divided by their sum over classes (0 for silent ones)."""
    rates = rates.to(torch.float64)
    return rates / rates.sum(1, keepdim=True).clamp(min=1e-12)


def class_scores(counts: Tensor, labels: Tensor, num_classes: int, vote: str = "mean",
                 rates: Tensor | None = None) -> Tensor:
    """``samples x classes``: the mean count of the neurons assigned to each class (0 for a class
    without neurons); with ``vote="proportion"`` each count is weighted by the neuron's share of
    responses to that class (``rates``: the ``neurons x classes`` responses the labels came from)."""
    counts = _check_counts(counts, "class_scores")
    labels = labels.to(counts.device)
    if labels.shape != (counts.shape[1],):
        raise ValueError(f"class_scores: labels must have one entry per neuron ({counts.shape[1]}), got {list(labels.shape)}")
    if vote not in VOTES:
        raise ValueError(f"class_scores: vote must be one of {', '.join(VOTES)}, got {vote!r}")
    onehot = torch.zeros(counts.shape[1], num_classes, dtype=counts.dtype, device=counts.device)
    valid = labels >= 0
    onehot[valid.nonzero().squeeze(1), labels[valid]] = 1.0
    members = onehot.sum(0)
    if vote == "proportion":
        if rates is None or tuple(rates.shape) != (counts.shape[1], num_classes):
            raise ValueError(f"class_scores: vote='proportion' needs the responses rates [{counts.shape[1]}, "
                             f"{num_classes}] the labels came from, got "
                             f"{None if rates is None else list(rates.shape)}")
        onehot = onehot * proportions(rates).to(counts.device)
    return counts.matmul(onehot) / members.clamp(min=1)


def classify(counts: Tensor, labels: Tensor, num_classes: int, vote: str = "mean",
             rates: Tensor | None = None) -> Tensor:
    """The class whose assigned neurons fired most on average (int64 ``[samples]``); ``vote`` as in
    ``class_scores``."""
    return class_scores(counts, labels, num_classes, vote, rates).argmax(1)
