"""Readouts trained on liquid states: ridge regression in closed form, logistic regression by
gradient descent. Both take features [n_samples, n_features] (flatten the read-out times into the
features: ``states.permute(1, 0, 2).flatten(1)``) and standardise them with the training mean
and standard deviation.

    ridge:     W = (X^T X + alpha I)^-1 X^T Y        (X centred; the bias is the targets' mean)
    logistic:  softmax(X W^T + b), cross-entropy + weight_decay |W|^2 / 2, minimised by Adam
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

__all__ = ["LogisticReadout", "RidgeReadout", "standardise"]


def _check_features(x: Tensor, owner: str, n_features: Optional[int] = None, keep_float: bool = False) -> Tensor:
    if not isinstance(x, Tensor) or x.dim() != 2:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"{owner}: features must be [n_samples, n_features], got {shape}; flatten read-out "
                         f"times with states.permute(1, 0, 2).flatten(1)")
    if n_features is not None and x.shape[1] != n_features:
        raise ValueError(f"{owner}: trained on {n_features} features, got {x.shape[1]}")
    if x.is_complex() or not bool(torch.isfinite(x).all()):
        raise ValueError(f"{owner}: features must be real and finite (no NaN or inf)")
    return x if x.is_floating_point() and keep_float else x.to(torch.float64)


def standardise(x: Tensor) -> tuple[Tensor, Tensor]:
    """(mean, std) over samples, float64; a constant feature gets std 1 (it is then all zeros)."""
    mean, covariance = _moments(x, gram=False)
    std = covariance.clamp_min(0).sqrt()
    return mean, torch.where(std > 0, std, torch.ones_like(std))


#: rows per block when features are summed: the float64 copy of a block is all the extra memory
_BLOCK_ROWS = 4096


def _moments(x: Tensor, gram: bool = True, y: Optional[Tensor] = None):
    """Mean (float64) and, over samples, the covariance matrix (``gram``) or the variances of ``x``,
    summed block by block in float64 around the first row (so a constant feature has variance 0
    exactly, and no float64 copy of the whole ``x`` is made); with ``y`` also ``sum (x - x0)^T y``."""
    n = x.shape[0]
    shift = x[0].double()
    total = torch.zeros(x.shape[1], dtype=torch.float64)
    second = torch.zeros((x.shape[1],) * (2 if gram else 1), dtype=torch.float64)
    cross = None if y is None else torch.zeros(x.shape[1], y.shape[1], dtype=torch.float64)
    for start in range(0, n, _BLOCK_ROWS):
        block = x[start:start + _BLOCK_ROWS].double() - shift
        total += block.sum(0)
        second += block.T @ block if gram else (block * block).sum(0)
        if cross is not None:
            cross += block.T @ y[start:start + _BLOCK_ROWS]
    centre = total / n
    spread = second / n - (torch.outer(centre, centre) if gram else centre * centre)
    return (centre + shift, spread) if cross is None else (centre + shift, spread, cross)


class RidgeReadout(nn.Module):
    """Linear readout ``Y = X W^T + b`` fitted in closed form by ridge regression (float64)."""

    def __init__(self, alpha: float = 1e-3):
        super().__init__()
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 <= alpha < float("inf"):
            raise ValueError(f"RidgeReadout: alpha must be >= 0, got {alpha}")
        self.alpha = float(alpha)
        self.weight: Optional[Tensor] = None

    def fit(self, x: Tensor, y: Tensor) -> "RidgeReadout":
        """x [n, features]; y [n] or [n, outputs] (integer class labels: give one-hot targets)."""
        x = _check_features(x, "RidgeReadout.fit", keep_float=True)
        if not isinstance(y, Tensor) or not bool(torch.isfinite(y.double()).all()):
            raise ValueError("RidgeReadout.fit: targets must be a finite tensor [n] or [n, outputs]")
        y = y.to(torch.float64)
        if y.dim() == 1:
            y = y[:, None]
        if y.shape[0] != x.shape[0]:
            raise ValueError(f"RidgeReadout.fit: {x.shape[0]} samples but {y.shape[0]} targets")
        # z = (x - mean) / std is never formed: z^T z = n D^-1 cov D^-1 and z^T (y - y_mean) =
        # D^-1 (x - x0)^T (y - y_mean) are summed block by block (see _moments), so the fit needs the
        # features once plus a features x features matrix, not float64 copies of them
        y_mean = y.mean(0)
        mean, covariance, cross = _moments(x, gram=True, y=y - y_mean)
        std = covariance.diagonal().clamp_min(0).sqrt()
        std = torch.where(std > 0, std, torch.ones_like(std))
        self.mean, self.std = mean, std
        gram = x.shape[0] * covariance / torch.outer(std, std) + self.alpha * torch.eye(x.shape[1], dtype=torch.float64)
        self.weight = torch.linalg.solve(gram, cross / std[:, None]).T          # [outputs, features]
        self.bias = y_mean
        return self

    def forward(self, x: Tensor) -> Tensor:
        if self.weight is None:
            raise ValueError("RidgeReadout: call fit(x, y) before predicting")
        z = (_check_features(x, "RidgeReadout", self.weight.shape[1]) - self.mean) / self.std
        return z @ self.weight.T + self.bias


class LogisticReadout(nn.Module):
    """Multinomial logistic regression on liquid states, trained by (Adam) gradient descent."""

    def __init__(self, n_features: int, n_classes: int):
        super().__init__()
        if any(not isinstance(v, int) or isinstance(v, bool) for v in (n_features, n_classes)) \
                or n_features < 1 or n_classes < 2:
            raise ValueError(f"LogisticReadout: needs n_features >= 1 and n_classes >= 2, got {n_features}, "
                             f"{n_classes}")
        self.linear = nn.Linear(n_features, n_classes)
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("std", torch.ones(n_features))

    def fit(self, x: Tensor, labels: Tensor, epochs: int = 100, lr: float = 0.05, weight_decay: float = 1e-4,
            batch_size: Optional[int] = None, seed: int = 0) -> list[float]:
        """Minimise the cross-entropy; returns the mean loss of each epoch."""
        x = _check_features(x, "LogisticReadout.fit", self.linear.in_features)
        labels = labels.long()
        if labels.shape != (x.shape[0],) or labels.min() < 0 or labels.max() >= self.linear.out_features:
            raise ValueError(f"LogisticReadout.fit: labels must be [n_samples={x.shape[0]}] ints in "
                             f"[0, {self.linear.out_features - 1}], got shape {tuple(labels.shape)}"
                             + (f", values {int(labels.min())}..{int(labels.max())}" if labels.numel() else ""))
        mean, std = standardise(x)
        self.mean.copy_(mean.float())
        self.std.copy_(std.float())
        z = ((x - mean) / std).float()
        generator = torch.Generator().manual_seed(seed)
        optimiser = torch.optim.Adam(self.linear.parameters(), lr=lr)
        size = batch_size or z.shape[0]
        losses = []
        for _ in range(epochs):
            order = torch.randperm(z.shape[0], generator=generator)
            total = 0.0
            for start in range(0, z.shape[0], size):
                pick = order[start:start + size]
                logits = self.linear(z[pick])
                loss = nn.functional.cross_entropy(logits, labels[pick])
                loss = loss + 0.5 * weight_decay * self.linear.weight.pow(2).sum()
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                total += loss.item() * pick.numel()
            losses.append(total / z.shape[0])
        return losses

    def forward(self, x: Tensor) -> Tensor:
        """Logits [n, classes]."""
        z = (_check_features(x, "LogisticReadout", self.linear.in_features).float() - self.mean) / self.std
        return self.linear(z)

    def predict(self, x: Tensor) -> Tensor:
        return self(x).argmax(1)
