"""snnTorch's rate losses and accuracy (``snntorch.functional``), for ``[T, N, C]`` output spikes.

- ``ce_rate_loss()``: the cross entropy of the spikes at each step, averaged over the T steps;
- ``ce_count_loss()``: the cross entropy of the spike counts (sum over T);
- ``mse_count_loss(correct_rate=1, incorrect_rate=0)``: the mean squared error between the spike counts
  and ``T * correct_rate`` (target class) / ``T * incorrect_rate`` (others), divided by T;
- ``accuracy_rate(spk, targets)``: the fraction of samples whose most active output is the target.

``population_code=True, num_classes=K`` sums each class's C / K outputs first. ``reduction`` and
``weight`` are those of torch's losses (``weight`` with ``population_code`` is refused).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

_DTYPE = torch.float


def _population(spk: Tensor, num_classes) -> Tensor:
    """[N, K] spike counts per class: each class owns C / K consecutive outputs."""
    outputs = spk.size(-1)
    if not num_classes:
        raise ValueError("population_code=True needs num_classes (the number of classes)")
    if outputs % num_classes:
        raise ValueError(f"population_code=True: the {outputs} outputs must split evenly into "
                         f"num_classes={num_classes}")
    width = outputs // num_classes
    return spk.reshape(spk.size(0), spk.size(1), num_classes, width).sum(-1).sum(0).to(_DTYPE)


class _Loss:
    def __init__(self, reduction="mean", weight=None, population_code=False, num_classes=False):
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"{type(self).__name__}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
        if population_code and (isinstance(num_classes, bool) or not isinstance(num_classes, int)
                                or num_classes < 1):
            raise ValueError(f"{type(self).__name__}: population_code=True needs num_classes, a positive int "
                             f"(the number of classes), got {num_classes!r}")
        if population_code and weight is not None:
            raise ValueError(f"{type(self).__name__}: weight is not supported with population_code=True; drop "
                             f"one of them")
        self.reduction, self.weight = reduction, weight
        self.population_code, self.num_classes = population_code, num_classes
        self.__name__ = type(self).__name__

    def _inner(self) -> str:
        return self.reduction if self.weight is None else "none"

    def _reduce(self, loss: Tensor) -> Tensor:
        return loss.mean() if self.weight is not None and self.reduction == "mean" else loss

    def __call__(self, spk_out: Tensor, targets: Tensor) -> Tensor:
        if not isinstance(spk_out, Tensor) or spk_out.dim() != 3:
            raise ValueError(f"{self.__name__} expects output spikes [T, N, C] (3 dims), got "
                             f"{list(getattr(spk_out, 'shape', []))}")
        classes = self.num_classes if self.population_code else spk_out.size(-1)
        if not isinstance(targets, Tensor) or targets.dim() != 1 or targets.numel() != spk_out.size(1):
            raise ValueError(f"{self.__name__} expects targets [N] with N = {spk_out.size(1)} class indices, got "
                             f"{list(getattr(targets, 'shape', [type(targets).__name__]))}")
        if targets.is_floating_point() or (targets.numel() and not 0 <= int(targets.min()) <= int(targets.max()) < classes):
            raise ValueError(f"{self.__name__}: targets must be integer class indices in [0, {classes}), got "
                             f"{targets.dtype} values in [{targets.min().item()}, {targets.max().item()}]")
        return self._reduce(self._compute(spk_out, targets))


class ce_rate_loss(_Loss):  # noqa: N801 - snnTorch's name
    """Cross entropy of the spikes at every step, averaged over T."""

    def __init__(self, population_code=False, num_classes=False, reduction="mean", weight=None):
        super().__init__(reduction, weight, population_code, num_classes)

    def _compute(self, spk_out, targets):
        if self.population_code:
            raise ValueError("ce_rate_loss: population_code=True is not supported; use ce_count_loss")
        nll = nn.NLLLoss(reduction=self._inner(), weight=self.weight)
        log_p = nn.functional.log_softmax(spk_out, dim=-1)
        loss = torch.zeros(spk_out.size(1) if self._inner() == "none" else 1, dtype=_DTYPE, device=spk_out.device)
        for step in range(spk_out.size(0)):
            loss = loss + nll(log_p[step], targets)
        return loss / spk_out.size(0)


class ce_count_loss(_Loss):  # noqa: N801 - snnTorch's name
    """Cross entropy of the spike counts."""

    def __init__(self, population_code=False, num_classes=False, reduction="mean", weight=None):
        super().__init__(reduction, weight, population_code, num_classes)

    def _compute(self, spk_out, targets):
        counts = _population(spk_out, self.num_classes) if self.population_code else spk_out.sum(0)
        nll = nn.NLLLoss(reduction=self._inner(), weight=self.weight)
        return nll(nn.functional.log_softmax(counts, dim=-1), targets)


class mse_count_loss(_Loss):  # noqa: N801 - snnTorch's name
    """MSE between the spike counts and the target counts, divided by T."""

    def __init__(self, correct_rate=1, incorrect_rate=0, population_code=False, num_classes=False,
                 reduction="mean", weight=None):
        super().__init__(reduction, weight, population_code, num_classes)
        self.correct_rate, self.incorrect_rate = correct_rate, incorrect_rate

    def _compute(self, spk_out, targets):
        steps, outputs = spk_out.size(0), spk_out.size(-1)
        if self.population_code:
            scale, classes = outputs / self.num_classes, self.num_classes
            counts = _population(spk_out, self.num_classes)
        else:
            scale, classes, counts = 1, outputs, spk_out.sum(0)
        on, off = int(steps * self.correct_rate * scale), int(steps * self.incorrect_rate * scale)
        one_hot = torch.zeros((len(targets), classes), device=spk_out.device, dtype=_DTYPE)
        one_hot = one_hot.scatter(1, targets.long().unsqueeze(-1), 1)
        wanted = one_hot * on + (1 - one_hot) * off
        loss = nn.MSELoss(reduction=self._inner())(counts, wanted)
        if self.weight is not None:
            loss = loss * self.weight[targets]
        return loss / steps


def accuracy_rate(spk_out: Tensor, targets: Tensor, population_code=False, num_classes=False) -> float:
    """The fraction of samples whose output with the most spikes (summed over T) is the target."""
    counts = _population(spk_out, num_classes) if population_code else spk_out.sum(dim=0)
    return float((counts.argmax(1) == targets).float().mean())
