"""The maths of parallel spiking neurons (Fang et al., NeurIPS 2023): no reset, so no recurrence.

Without a reset, a neuron's hidden state is a linear function of its inputs, and all T steps come
from one matrix product over time:

    H = W X,   W in R^{T x T},  X = x_seq viewed as T x (N ...)      (``parallel_charge``)
    S = Heaviside(H - B),   B in R^T, one threshold per step  (H - B from the same product)

The PSN learns W in full. The masked PSN multiplies W by a lower-triangular band of width k, so
that H[t] reads only X[t-k+1 .. t] (``band_mask``), blended with the all-ones matrix during
training by ``lambda``: M(lambda) = lambda M_k + (1 - lambda) J (``blend_mask``). The sliding PSN
shares one kernel w[0 .. k-1] over time: H[t] = sum_i w[i] X[t-k+1+i] (``sliding_matrix`` gives
the T x T matrix of that convolution, which is banded Toeplitz; missing inputs before t=0 count 0).

This module imports only torch.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

__all__ = ["band_mask", "blend_mask", "parallel_charge", "sliding_matrix"]


def parallel_charge(x_seq: Tensor, weight: Tensor, threshold: Optional[Tensor] = None) -> Tensor:
    """H = W X over time: ``x_seq`` of shape [T, N, ...] and ``weight`` [T, T] give H of x_seq's shape.

    One matrix product: H[t] = sum_j W[t, j] X[j]. With ``threshold`` B (shape [T] or a scalar) it
    returns H - B, what the spike function reads, in the same product (``addmm``: one pass less over
    the T x N... result). Works on any strides (a time-expanded input too).
    """
    T = x_seq.shape[0]
    x = x_seq.reshape(T, -1)
    w = weight.to(x.dtype)
    if threshold is None:
        h = w @ x
    else:
        b = threshold.to(x.dtype)
        h = torch.addmm(-(b.reshape(T, 1) if b.dim() else b), w, x)
    return h.reshape(x_seq.shape)


def band_mask(T: int, k: int, dtype=None, device=None) -> Tensor:
    """M_k: M[i, j] = 1 where j <= i <= j + k - 1 (the last k inputs, the current one included), else 0."""
    i = torch.arange(T, device=device).unsqueeze(1)
    j = torch.arange(T, device=device).unsqueeze(0)
    return ((j <= i) & (i <= j + k - 1)).to(dtype or torch.get_default_dtype())


def blend_mask(mask: Tensor, lam) -> Tensor:
    """M(lambda) = lambda M + (1 - lambda) J, J all ones: the full matrix at 0, the masked one at 1."""
    return lam * mask + (1.0 - lam) * torch.ones_like(mask)


def sliding_matrix(kernel: Tensor, T: int) -> Tensor:
    """The T x T matrix of the sliding PSN: row t holds kernel[k-1-(t-j)] at column j for t-k < j <= t.

    ``kernel[k-1]`` weighs the current input, ``kernel[k-2]`` the one before, and so on; it stays
    differentiable in ``kernel``.
    """
    k = kernel.shape[0]
    lag = torch.arange(T, device=kernel.device).unsqueeze(1) - torch.arange(T, device=kernel.device).unsqueeze(0)
    inside = (lag >= 0) & (lag < k)
    index = (k - 1 - lag).clamp(0, k - 1)
    return torch.where(inside, kernel[index], torch.zeros((), dtype=kernel.dtype, device=kernel.device))
