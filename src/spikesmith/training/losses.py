"""Losses on multi-step outputs ``T x N x classes``.

- ``mse``: rate-coded MSE against one-hot, L = mean((mean_t O_t - onehot(y))^2)  (the seeds' choice)
- ``ce``:  cross-entropy on the mean over T (spike rates or readout potentials as logits)
- ``tet``: TET (Deng et al., ICLR 2022): L = (1 - lam) mean_t CE(O_t, y) + lam mean_t MSE(O_t, phi)
- ``firing_rate_regularizer``: lam_r * sum over layers of (rate - target)^2
"""

from __future__ import annotations

from typing import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import Tensor

from ..registry import Registry


def _check(out: Tensor, target: Tensor, name: str) -> None:
    if out.dim() != 3:
        raise ValueError(f"{name} loss expects outputs of shape [T, N, classes], got {list(out.shape)}")
    if target.dim() != 1 or target.shape[0] != out.shape[1]:
        raise ValueError(f"{name} loss expects integer targets of shape [N={out.shape[1]}], got {list(target.shape)}")


def mse_rate_loss(out: Tensor, target: Tensor) -> Tensor:
    """MSE between the firing rate mean_t O_t and the one-hot target."""
    _check(out, target, "mse")
    return F.mse_loss(out.mean(0), F.one_hot(target, out.shape[-1]).to(out.dtype))


def ce_mean_loss(out: Tensor, target: Tensor) -> Tensor:
    """Cross-entropy with the mean over time as logits."""
    _check(out, target, "ce")
    return F.cross_entropy(out.mean(0), target)


def tet_loss(out: Tensor, target: Tensor, lam: float = 0.05, phi: float = 1.0) -> Tensor:
    """Temporal efficient training: CE at every step, plus lam * MSE of the outputs to phi."""
    _check(out, target, "tet")
    T, N, C = out.shape
    ce = F.cross_entropy(out.reshape(T * N, C), target.repeat(T))
    if lam == 0:
        return ce
    return (1 - lam) * ce + lam * F.mse_loss(out, torch.full_like(out, phi))


LOSSES: Registry[Callable[[Tensor, Tensor], Tensor]] = Registry("loss", plural="losses")
LOSSES.register("ce", ce_mean_loss)
LOSSES.register("mse", mse_rate_loss)
LOSSES.register("tet", tet_loss)


def get_loss(name: str) -> Callable[[Tensor, Tensor], Tensor]:
    """The loss registered as ``name`` (``ce``, ``mse``, ``tet``); unknown names list the known ones."""
    return LOSSES.get(name)


def firing_rate_regularizer(rates: Iterable[Tensor], target: float = 0.1, weight: float = 1e-2) -> Tensor:
    """weight * sum_l (mean rate_l - target)^2 over the given per-layer spike tensors' means."""
    terms = [(r.mean() - target) ** 2 for r in rates]
    if not terms:
        return torch.zeros(())
    return weight * torch.stack(terms).sum()
