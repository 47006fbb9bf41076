"""Latency (time-to-first-spike) coding: at most one spike per input, stronger inputs fire earlier.

Two codes map ``x`` in [0, 1] to a spike time, rounded with ``torch.round`` (ties to even):

``code='linear'``::

    t = round((1 - x) * (T - 1))        x = 1 -> step 0,  x = 0 -> step T - 1

``code='log'`` (the firing time of an RC membrane charged by a constant current ``x`` until it
reaches ``threshold``; the same law as snnTorch's latency encoder)::

    V(t) = x * (1 - exp(-t / tau))  reaches threshold at   t = tau * ln(x / (x - threshold))

Inputs with ``x <= threshold`` never reach the threshold and never spike; times that round past
``T - 1`` are dropped too. With ``normalize=True`` the log times are mapped linearly onto
[0, T - 1], ``x = 1`` landing on step 0 and ``x = threshold + epsilon`` on step ``T - 1``::

    L(x) = ln(x / (x - threshold))
    t    = (T - 1) * (L(x) - L(1)) / (L(threshold + epsilon) - L(1))     (tau cancels out)

The linear code already spans [0, T - 1], so ``normalize`` does not change it. ``clip=True``
drops the spikes of inputs equal to 0 (the linear code would otherwise fire them at ``T - 1``).

Shape: ``[N, ...] -> [T, N, ...]`` in ``x.dtype``::

    >>> latency_encode(torch.tensor([1.0, 0.5, 0.0]), T=5)
    tensor([[1., 0., 0.],
            [0., 0., 0.],
            [0., 1., 0.],
            [0., 0., 0.],
            [0., 0., 1.]])
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ._checks import (
    check_choice,
    check_float_tensor,
    check_real,
    check_T,
    check_unit_interval,
    compute_dtype,
)

__all__ = ["latency_times", "times_to_spikes", "latency_encode", "LatencyEncoder"]

_CODES = ("linear", "log")


def _check_options(code, tau, threshold, epsilon, where):
    check_choice(code, where, "code", _CODES)
    tau = check_real(tau, where, "tau")
    if not tau > 0.0 or math.isinf(tau):
        raise ValueError(f"{where}: tau must be a positive finite time constant (in steps), got {tau}")
    threshold = check_real(threshold, where, "threshold")
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"{where}: threshold must lie in (0, 1) so that x = 1 can fire, got {threshold}")
    epsilon = check_real(epsilon, where, "epsilon")
    if not 0.0 < epsilon < 1.0 - threshold:
        raise ValueError(
            f"{where}: epsilon must lie in (0, 1 - threshold) = (0, {1.0 - threshold:g}), got {epsilon}"
        )
    return tau, threshold, epsilon


def latency_times(
    x: Tensor,
    T: int,
    *,
    code: str = "linear",
    tau: float = 1.0,
    threshold: float = 0.01,
    normalize: bool = False,
    clip: bool = False,
    epsilon: float = 1e-7,
    clamp: bool = False,
) -> Tensor:
    """Spike step of each input (an integer in [0, T - 1]) or ``inf`` where it does not fire.

    Arguments as :func:`latency_encode`. Returns a tensor of ``x``'s shape in float32 (float64
    for float64 input), so times stay exact for any ``T`` even for fp16 inputs.
    """
    where = "latency_times"
    T = check_T(T, where)
    x = check_float_tensor(x, where)
    tau, threshold, epsilon = _check_options(code, tau, threshold, epsilon, where)
    x = check_unit_interval(x, where, clamp).to(compute_dtype(x.dtype))
    inf = torch.full_like(x, math.inf)

    if code == "linear":
        t = torch.round((1.0 - x) * (T - 1))
    else:
        fires = x > threshold
        safe = torch.where(fires, x, torch.ones_like(x))  # keep log() finite where we mask anyway
        log_ratio = torch.log(safe) - torch.log(safe - threshold)
        if normalize:
            first = -math.log1p(-threshold)  # L(1) = ln(1 / (1 - threshold))
            last = math.log((threshold + epsilon) / epsilon)  # L(threshold + epsilon)
            t = (log_ratio - first) * ((T - 1) / (last - first))
        else:
            t = tau * log_ratio
        t = torch.where(fires, torch.round(t).clamp_min(0.0), inf)

    t = torch.where(t > T - 1, inf, t)
    if clip:
        t = torch.where(x == 0, inf, t)
    return t


def times_to_spikes(times: Tensor, T: int, dtype: torch.dtype | None = None) -> Tensor:
    """One-hot spike train from spike steps: ``S[t, ...] = (times[...] == t)``.

    ``times`` holds integer-valued steps; anything outside [0, T - 1] (e.g. ``inf``) gives no
    spike. Shape ``[...] -> [T, ...]``, dtype ``dtype`` (default ``times.dtype``).
    """
    T = check_T(T, "times_to_spikes")
    steps = torch.arange(T, dtype=times.dtype, device=times.device).view(-1, *([1] * times.dim()))
    return (steps == times.unsqueeze(0)).to(times.dtype if dtype is None else dtype)


def latency_encode(
    x: Tensor,
    T: int,
    *,
    code: str = "linear",
    tau: float = 1.0,
    threshold: float = 0.01,
    normalize: bool = False,
    clip: bool = False,
    epsilon: float = 1e-7,
    clamp: bool = False,
) -> Tensor:
    """Time-to-first-spike code: one spike per input at most (see the module docstring).

    Args:
        x: float tensor ``[N, ...]`` with values in [0, 1].
        T: number of time steps (positive int).
        code: ``'linear'`` (``t = (1 - x)(T - 1)``) or ``'log'`` (``t = tau ln(x / (x - threshold))``).
        tau: time constant of the log code, in steps (ignored by ``'linear'`` and by ``normalize``).
        threshold: log code only; inputs ``x <= threshold`` never spike. In (0, 1).
        normalize: log code only; map the times of ``x`` in ``[threshold + epsilon, 1]`` onto
            ``[0, T - 1]``.
        clip: drop the spikes of inputs equal to 0.
        epsilon: sets the slowest input placed on step ``T - 1`` by ``normalize``.
        clamp: clamp ``x`` to [0, 1] instead of raising on values outside it.

    Returns:
        ``[T, N, ...]`` tensor of 0/1 in ``x.dtype`` with at most one spike along time.
    """
    times = latency_times(
        x, T, code=code, tau=tau, threshold=threshold, normalize=normalize, clip=clip,
        epsilon=epsilon, clamp=clamp,
    )
    return times_to_spikes(times, T, dtype=x.dtype)


class LatencyEncoder(nn.Module):
    """Module form of :func:`latency_encode`: ``[N, ...] -> [T, N, ...]`` (deterministic).

    Example::

        >>> enc = LatencyEncoder(T=20, code="log", tau=5.0, threshold=0.01, normalize=True)
        >>> enc(torch.rand(4, 784)).sum(0).max() <= 1
        tensor(True)
    """

    def __init__(
        self,
        T: int,
        code: str = "linear",
        tau: float = 1.0,
        threshold: float = 0.01,
        normalize: bool = False,
        clip: bool = False,
        epsilon: float = 1e-7,
        clamp: bool = False,
    ):
        super().__init__()
        where = "LatencyEncoder"
        self.T = check_T(T, where)
        self.tau, self.threshold, self.epsilon = _check_options(code, tau, threshold, epsilon, where)
        self.code = code
        self.normalize = bool(normalize)
        self.clip = bool(clip)
        self.clamp = bool(clamp)

    def forward(self, x: Tensor) -> Tensor:
        return latency_encode(
            x, self.T, code=self.code, tau=self.tau, threshold=self.threshold,
            normalize=self.normalize, clip=self.clip, epsilon=self.epsilon, clamp=self.clamp,
        )

    def extra_repr(self) -> str:
        return (
            f"T={self.T}, code={self.code!r}, tau={self.tau}, threshold={self.threshold}, "
            f"normalize={self.normalize}, clip={self.clip}, clamp={self.clamp}"
        )
