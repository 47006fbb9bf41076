"""Poisson (Bernoulli) rate coding.

Each element fires independently at every step with probability ``p = x * max_rate``::

    S[t, i] = 1  if U[t, i] < x[i] * max_rate  else 0,      U[t, i] ~ Uniform[0, 1)

so the expected firing rate is ``E[mean_t S[t, i]] = x[i] * max_rate`` spikes per step, and
``x = 0`` never fires while ``x = 1, max_rate = 1`` fires at every step. For a peak rate
``f_max`` in Hz and a step of ``dt`` seconds, pass ``max_rate = f_max * dt`` (must be <= 1); for
small ``p`` the train approximates a Poisson process of rate ``x * f_max``.

Shape: ``x`` of shape ``[N, ...]`` gives spikes of shape ``[T, N, ...]`` in ``x.dtype``::

    >>> x = torch.rand(8, 1, 28, 28)
    >>> poisson_encode(x, T=20, seed=0).shape
    torch.Size([20, 8, 1, 28, 28])
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ._checks import check_float_tensor, check_real, check_T, check_unit_interval, compute_dtype
from ._seeding import check_seed, derive_seed, resolve_generator

__all__ = ["poisson_encode", "PoissonEncoder"]


def _check_max_rate(max_rate: object, where: str) -> float:
    value = check_real(max_rate, where, "max_rate")
    if not 0.0 < value <= 1.0:
        raise ValueError(
            f"{where}: max_rate is a spike probability per step and must lie in (0, 1], got {value}; "
            f"for a rate f_max in Hz and a step dt in s pass f_max * dt"
        )
    return value


def poisson_encode(
    x: Tensor,
    T: int,
    *,
    max_rate: float = 1.0,
    clamp: bool = False,
    seed: int | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Bernoulli spike train with per-step firing probability ``x * max_rate``.

    Args:
        x: float tensor ``[N, ...]`` with values in [0, 1].
        T: number of time steps (positive int).
        max_rate: firing probability per step at ``x = 1``, in (0, 1].
        clamp: clamp ``x`` to [0, 1] instead of raising on values outside it.
        seed: seed for a private generator (same seed -> same spikes; global RNG untouched).
        generator: a ``torch.Generator`` on ``x``'s device to draw from (advanced by the call).

    Returns:
        ``[T, N, ...]`` tensor of 0/1 in ``x.dtype``.
    """
    where = "poisson_encode"
    T = check_T(T, where)
    x = check_float_tensor(x, where)
    max_rate = _check_max_rate(max_rate, where)
    x = check_unit_interval(x, where, clamp)
    gen = resolve_generator(seed, generator, x.device, where)
    work = compute_dtype(x.dtype)  # draw in >= float32 so fp16/bf16 probabilities are not coarsened
    u = torch.rand((T, *x.shape), generator=gen, dtype=work, device=x.device)
    p = x.to(work) * max_rate
    return (u < p).to(x.dtype)


class PoissonEncoder(nn.Module):
    """Module form of :func:`poisson_encode`: ``[N, ...] -> [T, N, ...]``.

    With ``seed=None`` it draws from the global RNG. With an int ``seed`` forward call ``k``
    (counted from construction or :meth:`reset_rng`) uses a private generator seeded with
    ``derive_seed(seed, k)``: successive batches get different noise, two encoders built with the
    same seed produce the same sequence, and the global RNG is never touched.

    Example::

        >>> enc = PoissonEncoder(T=10, seed=0)
        >>> enc(torch.full((2, 3), 0.5)).shape
        torch.Size([10, 2, 3])
    """

    def __init__(self, T: int, max_rate: float = 1.0, clamp: bool = False, seed: int | None = None):
        super().__init__()
        where = "PoissonEncoder"
        self.T = check_T(T, where)
        self.max_rate = _check_max_rate(max_rate, where)
        self.clamp = bool(clamp)
        check_seed(seed, None, where)
        self.seed = None if seed is None else int(seed)
        self.calls = 0

    def reset_rng(self) -> None:
        """Restart the seeded noise sequence from its first call."""
        self.calls = 0

    def forward(self, x: Tensor) -> Tensor:
        seed = None if self.seed is None else derive_seed(self.seed, self.calls)
        out = poisson_encode(x, self.T, max_rate=self.max_rate, clamp=self.clamp, seed=seed)
        if self.seed is not None:
            self.calls += 1  # only successful calls advance the sequence
        return out

    def extra_repr(self) -> str:
        return f"T={self.T}, max_rate={self.max_rate}, clamp={self.clamp}, seed={self.seed}"
