"""Population coding with Gaussian receptive fields (after Bohte, Kok & La Poutre, 2002).

Each scalar input is seen by ``n`` neurons with Gaussian tuning curves over [x_min, x_max]::

    r_i(x) = exp(-(x - mu_i)^2 / (2 sigma^2)),      i = 0 .. n - 1,   r_i in (0, 1]

Centres (``spread``):

- ``'linspace'`` (default): ``mu_i = x_min + i * d`` with ``d = (x_max - x_min) / (n - 1)``,
  the first and last centre on the ends of the range (n >= 2);
- ``'bohte'``: ``mu_i = x_min + (2i - 1) / 2 * d`` with ``d = (x_max - x_min) / (n - 2)``, the
  paper's layout, which puts one centre half a spacing outside each end (n >= 3).

Width: ``sigma = d / beta`` (the paper uses ``beta = 1.5``) unless ``sigma`` is given.

Outputs (``output``):

- ``'current'``: the responses ``r`` as analog currents, shape ``[N, ..., n]``; when ``T`` is an
  int they are repeated over time, ``[T, N, ..., n]`` (direct input of the population);
- ``'spike'``: one spike per neuron by linear latency, strong responses early, weak ones not at
  all::

      t_i = round((1 - r_i) * (T - 1))   if r_i >= min_response,   no spike otherwise

  shape ``[T, N, ..., n]`` of 0/1.

Inputs outside [x_min, x_max] are allowed (they simply excite the edge neurons less).

Example::

    >>> population_encode(torch.rand(8, 3), T=10, n_neurons=5).shape
    torch.Size([10, 8, 3, 5])
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import Tensor, nn

from ._checks import check_choice, check_float_tensor, check_real, check_T, compute_dtype
from .latency import times_to_spikes

__all__ = [
    "population_centres",
    "gaussian_receptive_fields",
    "population_encode",
    "PopulationEncoder",
]

_SPREADS = ("linspace", "bohte")
_OUTPUTS = ("spike", "current")


def _check_layout(n_neurons, x_min, x_max, spread, sigma, beta, where):
    if isinstance(n_neurons, bool) or not isinstance(n_neurons, numbers.Integral):
        raise TypeError(f"{where}: n_neurons must be an int, got {type(n_neurons).__name__} {n_neurons!r}")
    check_choice(spread, where, "spread", _SPREADS)
    smallest = 2 if spread == "linspace" else 3
    if n_neurons < smallest:
        raise ValueError(f"{where}: spread={spread!r} needs n_neurons >= {smallest}, got {n_neurons}")
    x_min, x_max = check_real(x_min, where, "x_min"), check_real(x_max, where, "x_max")
    if not (math.isfinite(x_min) and math.isfinite(x_max) and x_min < x_max):
        raise ValueError(f"{where}: need finite x_min < x_max, got x_min={x_min}, x_max={x_max}")
    if sigma is not None:
        sigma = check_real(sigma, where, "sigma")
        if not 0.0 < sigma < math.inf:
            raise ValueError(f"{where}: sigma must be positive and finite, got {sigma}")
    beta = check_real(beta, where, "beta")
    if not 0.0 < beta < math.inf:
        raise ValueError(f"{where}: beta must be positive and finite, got {beta}")
    return int(n_neurons), x_min, x_max, sigma, beta


def population_centres(
    n_neurons: int,
    x_min: float = 0.0,
    x_max: float = 1.0,
    *,
    spread: str = "linspace",
    sigma: float | None = None,
    beta: float = 1.5,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> tuple[Tensor, float]:
    """Centres ``mu`` (shape ``[n_neurons]``) and width ``sigma`` of the receptive fields.

    >>> mu, sigma = population_centres(5)          # mu = [0, .25, .5, .75, 1], sigma = .25 / 1.5
    """
    n, x_min, x_max, sigma, beta = _check_layout(
        n_neurons, x_min, x_max, spread, sigma, beta, "population_centres"
    )
    idx = torch.arange(n, dtype=torch.float64, device=device)
    if spread == "linspace":
        d = (x_max - x_min) / (n - 1)
        mu = x_min + idx * d
    else:
        d = (x_max - x_min) / (n - 2)
        mu = x_min + (2 * idx - 1) / 2 * d
    return mu.to(dtype), (d / beta if sigma is None else sigma)


def gaussian_receptive_fields(x: Tensor, centres: Tensor, sigma: float) -> Tensor:
    """Responses ``exp(-(x - mu)^2 / (2 sigma^2))``: ``[N, ...]`` and ``[n]`` -> ``[N, ..., n]``."""
    x = check_float_tensor(x, "gaussian_receptive_fields")
    centres = check_float_tensor(centres, "gaussian_receptive_fields", "centres")
    if centres.dim() != 1:
        raise ValueError(
            f"gaussian_receptive_fields: centres must be 1-D [n_neurons], got shape {list(centres.shape)}"
        )
    return torch.exp(-((x.unsqueeze(-1) - centres) ** 2) / (2.0 * sigma**2))


def population_encode(
    x: Tensor,
    T: int | None,
    n_neurons: int,
    *,
    x_min: float = 0.0,
    x_max: float = 1.0,
    spread: str = "linspace",
    sigma: float | None = None,
    beta: float = 1.5,
    output: str = "spike",
    min_response: float = 0.1,
) -> Tensor:
    """Gaussian population code of each element of ``x`` (see the module docstring).

    Args:
        x: float tensor ``[N, ...]``.
        T: time steps; required for ``output='spike'``; ``None`` with ``output='current'``
            returns the responses without a time dimension.
        n_neurons: neurons per input element.
        x_min, x_max: the range the centres cover.
        spread: ``'linspace'`` or ``'bohte'`` centre layout.
        sigma: receptive-field width; default ``spacing / beta``.
        beta: width factor used when ``sigma`` is None (1.5 in Bohte et al.).
        output: ``'spike'`` (latency spikes) or ``'current'`` (Gaussian responses).
        min_response: responses below it do not spike (``'spike'`` only), in [0, 1].

    Returns:
        ``[T, N, ..., n_neurons]`` (or ``[N, ..., n_neurons]`` for currents with ``T=None``)
        in ``x.dtype``.
    """
    where = "population_encode"
    check_choice(output, where, "output", _OUTPUTS)
    T = check_T(T, where, allow_none=(output == "current"))
    x = check_float_tensor(x, where)
    min_response = check_real(min_response, where, "min_response")
    if not 0.0 <= min_response <= 1.0:
        raise ValueError(f"{where}: min_response must lie in [0, 1], got {min_response}")
    work = compute_dtype(x.dtype)
    mu, sigma = population_centres(
        n_neurons, x_min, x_max, spread=spread, sigma=sigma, beta=beta, dtype=work, device=x.device
    )
    r = gaussian_receptive_fields(x.to(work), mu, sigma)
    if output == "current":
        r = r.to(x.dtype)
        return r if T is None else r.unsqueeze(0).expand(T, *r.shape)
    times = torch.round((1.0 - r) * (T - 1))
    times = torch.where(r >= min_response, times, torch.full_like(times, math.inf))
    return times_to_spikes(times, T, dtype=x.dtype)


class PopulationEncoder(nn.Module):
    """Module form of :func:`population_encode`: ``[N, ...] -> [T, N, ..., n_neurons]``.

    Example::

        >>> PopulationEncoder(T=10, n_neurons=6)(torch.rand(4, 2)).shape
        torch.Size([10, 4, 2, 6])
    """

    def __init__(
        self,
        T: int | None,
        n_neurons: int,
        x_min: float = 0.0,
        x_max: float = 1.0,
        spread: str = "linspace",
        sigma: float | None = None,
        beta: float = 1.5,
        output: str = "spike",
        min_response: float = 0.1,
    ):
        super().__init__()
        where = "PopulationEncoder"
        check_choice(output, where, "output", _OUTPUTS)
        self.T = check_T(T, where, allow_none=(output == "current"))
        self.n_neurons, self.x_min, self.x_max, self.sigma, self.beta = _check_layout(
            n_neurons, x_min, x_max, spread, sigma, beta, where
        )
        self.spread = spread
        self.output = output
        self.min_response = check_real(min_response, where, "min_response")
        if not 0.0 <= self.min_response <= 1.0:
            raise ValueError(f"{where}: min_response must lie in [0, 1], got {self.min_response}")

    def forward(self, x: Tensor) -> Tensor:
        return population_encode(
            x, self.T, self.n_neurons, x_min=self.x_min, x_max=self.x_max, spread=self.spread,
            sigma=self.sigma, beta=self.beta, output=self.output, min_response=self.min_response,
        )

    def extra_repr(self) -> str:
        return (
            f"T={self.T}, n_neurons={self.n_neurons}, x_min={self.x_min}, x_max={self.x_max}, "
            f"spread={self.spread!r}, sigma={self.sigma}, beta={self.beta}, output={self.output!r}"
        )
