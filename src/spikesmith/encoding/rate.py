"""Deterministic rate coding: evenly spaced spikes, an exact spike count.

Think of an integrate-and-fire neuron with soft reset driven by the constant current ``x``::

    V[t] = V[t-1] + x,   S[t] = (V[t] >= 1),   V[t] <- V[t] - S[t],   V[0] = v0

Unrolled, the neuron has fired ``floor(x * t + v0)`` times after ``t`` steps, so the encoder
computes, for steps ``t = 1 .. T`` (output index ``t - 1``)::

    S[t] = floor(x * t + v0) - floor(x * (t - 1) + v0)

in float64 directly, with no accumulated round-off. The total over ``T`` steps telescopes to
``floor(x * T + v0)``:

- ``rounding='floor'`` (``v0 = 0``, default): exactly ``floor(x * T)`` spikes, the first one as
  late as possible (``x = 0.5, T = 4`` -> ``0 1 0 1``);
- ``rounding='round'`` (``v0 = 0.5``): exactly ``floor(x * T + 0.5)`` spikes, i.e. ``x * T``
  rounded half up, with the train centred (``x = 0.5, T = 4`` -> ``1 0 1 0``).

Consecutive spikes are ``floor(1/x)`` or ``ceil(1/x)`` steps apart. ``x`` must lie in [0, 1]
(one spike per step at most); ``x`` is taken at its own precision and ``x * T`` is evaluated in
float64, so a float32 ``0.1`` (= 0.100000001...) counts as slightly more than 0.1.

Shape: ``[N, ...] -> [T, N, ...]`` in ``x.dtype``::

    >>> rate_encode(torch.tensor([0.25, 1.0]), T=4)
    tensor([[0., 1.],
            [0., 1.],
            [0., 1.],
            [1., 1.]])
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ._checks import check_choice, check_float_tensor, check_T, check_unit_interval

__all__ = ["rate_encode", "RateEncoder"]

_ROUNDING = ("floor", "round")


def rate_encode(x: Tensor, T: int, *, rounding: str = "floor", clamp: bool = False) -> Tensor:
    """Evenly spaced spikes, ``floor(x*T)`` (``'floor'``) or ``floor(x*T + 0.5)`` (``'round'``) of them.

    Args:
        x: float tensor ``[N, ...]`` with values in [0, 1].
        T: number of time steps (positive int).
        rounding: ``'floor'`` (IF neuron starting at 0) or ``'round'`` (starting at 0.5).
        clamp: clamp ``x`` to [0, 1] instead of raising on values outside it.

    Returns:
        ``[T, N, ...]`` tensor of 0/1 in ``x.dtype``.
    """
    where = "rate_encode"
    T = check_T(T, where)
    x = check_float_tensor(x, where)
    check_choice(rounding, where, "rounding", _ROUNDING)
    x = check_unit_interval(x, where, clamp)
    v0 = 0.0 if rounding == "floor" else 0.5
    steps = torch.arange(T + 1, dtype=torch.float64, device=x.device).view(-1, *([1] * x.dim()))
    fired = torch.floor(x.to(torch.float64) * steps + v0)  # spikes fired after t steps, t = 0..T
    return (fired[1:] - fired[:-1]).to(x.dtype)


class RateEncoder(nn.Module):
    """Module form of :func:`rate_encode`: ``[N, ...] -> [T, N, ...]`` (deterministic).

    Example::

        >>> RateEncoder(T=8, rounding="round")(torch.rand(4, 10)).shape
        torch.Size([8, 4, 10])
    """

    def __init__(self, T: int, rounding: str = "floor", clamp: bool = False):
        super().__init__()
        where = "RateEncoder"
        self.T = check_T(T, where)
        self.rounding = check_choice(rounding, where, "rounding", _ROUNDING)
        self.clamp = bool(clamp)

    def forward(self, x: Tensor) -> Tensor:
        return rate_encode(x, self.T, rounding=self.rounding, clamp=self.clamp)

    def extra_repr(self) -> str:
        return f"T={self.T}, rounding={self.rounding!r}, clamp={self.clamp}"
