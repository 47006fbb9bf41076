"""Delays over time as pure functions on ``T x N x ...`` tensors (torch only).

A delay of d steps shifts a sequence later in time, zeros shifted in:

    shift(X, d)[t] = X[t - d]   for t >= d,   0 for t < d

It is one pad and one slice (no T-fold copy). Delays that differ per channel or per synapse are
grouped by distinct value, so the cost grows with the number of distinct delays, never with T:

    delay_channels:  Y[t, n, c] = X[t - d_c, n, c]
    delayed_linear:  Y[t] = sum_d  W_d X[t - d]  (+ b),   W_d = W masked to the synapses whose delay is d

``delayed_linear`` makes one product per distinct delay d, of the first T - d steps with W_d, and adds
it to the output from step d on (the same sum: a shift is linear and acts on time only).

The learnable (DCLS) form replaces each synapse's integer delay by a Gaussian tap of width sigma
centred on a continuous position p in [0, D] over the taps k = 0 .. D (Hammouamri et al., 2024):

    g_k(p) = exp(-(k - p)^2 / (2 sigma^2)) / sum_j exp(-(j - p)^2 / (2 sigma^2))
    Y[t, o] = sum_i sum_k  W_oi g_k(p_oi) X[t - k, i]       (a causal 1-d convolution over time)

As sigma -> 0 the tap tends to a one-hot at round(p), which is ``delayed_linear`` with those delays.
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["delay_channels", "delayed_linear", "delayed_linear_step", "gaussian_taps", "kernel_linear",
           "kernel_linear_step", "shift"]


def shift(x: Tensor, d: int) -> Tensor:
    """``x`` (``[T, ...]``) delayed by ``d >= 0`` steps along dim 0, zeros shifted in (d >= T: all zeros)."""
    if d == 0:
        return x
    T = x.shape[0]
    if d >= T:
        return torch.zeros_like(x)
    pad = x.new_zeros((d, *x.shape[1:]))
    return torch.cat([pad, x[: T - d]], dim=0)


def _groups(delays: Tensor) -> list[tuple[int, Tensor]]:
    """``[(d, flat indices whose delay is d), ...]`` for each distinct value of the integer ``delays``."""
    flat = delays.reshape(-1)
    return [(int(d), (flat == d).nonzero().reshape(-1)) for d in torch.unique(flat).tolist()]


def delay_channels(x: Tensor, delays: Tensor) -> Tensor:
    """``Y[t, n, ...f] = X[t - delays[...f], n, ...f]`` for ``x`` of shape ``[T, N, *F]``.

    ``delays`` is an integer tensor broadcastable to the feature shape ``F`` (one delay per channel,
    per neuron or one for all); each distinct delay is one shifted slice.
    """
    feature_shape = x.shape[2:]
    delays = delays.expand(feature_shape) if delays.shape != feature_shape else delays
    groups = _groups(delays)
    if len(groups) == 1:
        return shift(x, groups[0][0])
    flat = x.reshape(*x.shape[:2], -1)
    parts, order = [], []
    for d, idx in groups:
        parts.append(shift(flat.index_select(2, idx), d))
        order.append(idx)
    inverse = torch.empty_like(delays.reshape(-1))
    inverse[torch.cat(order)] = torch.arange(inverse.numel(), device=inverse.device)
    return torch.cat(parts, dim=2).index_select(2, inverse).reshape(x.shape)


def delayed_linear(x: Tensor, weight: Tensor, delays: Tensor, bias: Optional[Tensor] = None) -> Tensor:
    """``Y[t] = sum_d W_d X[t - d] + b`` for ``x`` ``[T, N, in]``, ``weight`` and ``delays`` ``[out, in]``.

    Each distinct delay d is one product of the first T - d steps with W_d, added to the output from step d
    on (delays of T or more add nothing): no T-fold copy, and no product is made for steps it would lose.
    """
    T = x.shape[0]
    y = x.new_zeros((*x.shape[:-1], weight.shape[0]))
    for d in torch.unique(delays).tolist():
        d = int(d)
        if d >= T:
            continue
        part = F.linear(x[: T - d], weight * (delays == d).to(weight.dtype))
        y = y + part if d == 0 else torch.cat([y[:d], y[d:] + part], dim=0)
    return y if bias is None else y + bias


def delayed_linear_step(history: list, weight: Tensor, delays: Tensor, bias: Optional[Tensor] = None) -> Tensor:
    """One step of ``delayed_linear``: ``history[d]`` is X[t - d] (None before the sequence began)."""
    y = None
    for d in torch.unique(delays).tolist():
        past = history[int(d)]
        if past is None:
            continue
        part = F.linear(past, weight * (delays == d).to(weight.dtype))
        y = part if y is None else y + part
    if y is None:
        y = history[0].new_zeros((*history[0].shape[:-1], weight.shape[0]))
    return y if bias is None else y + bias


def gaussian_taps(positions: Tensor, sigma: float, max_delay: int) -> Tensor:
    """The normalised Gaussian taps ``g_k(p)`` for k = 0 .. max_delay: shape ``[*positions.shape, max_delay + 1]``."""
    k = torch.arange(max_delay + 1, dtype=positions.dtype, device=positions.device)
    g = torch.exp(-0.5 * ((k - positions.unsqueeze(-1)) / sigma) ** 2)
    return g / (g.sum(-1, keepdim=True) + 1e-12)


def kernel_linear(x: Tensor, kernel: Tensor, bias: Optional[Tensor] = None) -> Tensor:
    """``Y[t, o] = sum_i sum_k kernel[o, i, k] X[t - k, i] + b_o`` for ``x`` ``[T, N, in]`` (causal conv)."""
    T, N, n_in = x.shape
    D = kernel.shape[-1] - 1
    seq = x.permute(1, 2, 0)                                                   # [N, in, T]
    seq = F.pad(seq, (D, 0))
    y = F.conv1d(seq, kernel.flip(-1), bias)                                   # taps reversed: conv1d correlates
    return y.permute(2, 0, 1)


def kernel_linear_step(history: list, kernel: Tensor, bias: Optional[Tensor] = None) -> Tensor:
    """One step of ``kernel_linear``: ``history[k]`` is X[t - k] (None before the sequence began)."""
    y = None
    for k, past in enumerate(history):
        if past is None:
            continue
        part = F.linear(past, kernel[..., k])
        y = part if y is None else y + part
    return y if bias is None else y + bias
