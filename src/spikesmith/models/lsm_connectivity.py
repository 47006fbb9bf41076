"""The liquid's wiring, as pure functions: grid, neuron types, distance-dependent connections,
signed weights and delays (Maass, Natschläger & Markram 2002).

    P(a -> b) = C[type(a), type(b)] * exp(-(D(a, b) / lambda)^2)      (no self connections)

D is the Euclidean distance on the integer grid, C is indexed presynaptic type first
(E->E 0.3, E->I 0.2, I->E 0.4, I->I 0.1). Types are assigned at random, a fixed count of
excitatory neurons (80% by default). Dale's law: a connection's sign is its presynaptic type's.

Neurons are numbered x-major: ``index = (x * ny + y) * nz + z``, so a slab of x values is a
contiguous index range; sampling visits, for each slab of presynaptic neurons, only the
postsynaptic slabs within the cut-off distance (beyond which the probability is below ``CUTOFF``,
1e-7, about the resolution of the float32 draws), which keeps long grids linear in the neuron
count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import torch
from torch import Tensor

__all__ = ["CONNECTION_PROBABILITY", "CUTOFF", "DELAY_MS", "MEAN_WEIGHT_NA", "PairValues", "assign_types",
           "check_grid", "delay_steps", "excitatory_count", "expected_connections", "grid_positions", "sample_connections",
           "sample_weights"]

CUTOFF = 1e-7      # float32 uniform draws resolve about 6e-8: pairs below this are skipped
EXCITATORY, INHIBITORY = 0, 1


@dataclass(frozen=True)
class PairValues:
    """One value per pair type, presynaptic type first (ee = E->E, ei = E->I, ...)."""

    ee: float
    ei: float
    ie: float
    ii: float

    def matrix(self) -> Tensor:
        """[pre type, post type] with 0 = excitatory, 1 = inhibitory."""
        return torch.tensor([[self.ee, self.ei], [self.ie, self.ii]], dtype=torch.float64)


CONNECTION_PROBABILITY = PairValues(ee=0.3, ei=0.2, ie=0.4, ii=0.1)
# the paper's scaling parameters of the synapses, in nA (Dale's law gives the signs)
MEAN_WEIGHT_NA = PairValues(ee=30.0, ei=60.0, ie=-19.0, ii=-19.0)
DELAY_MS = PairValues(ee=1.5, ei=0.8, ie=0.8, ii=0.8)


def check_grid(grid) -> tuple[int, int, int]:
    try:
        dims = tuple(int(d) for d in grid)
    except (TypeError, ValueError):
        raise TypeError(f"grid must be three positive ints (x, y, z), got {grid!r}") from None
    if len(dims) != 3 or any(d < 1 for d in dims) or any(int(d) != d for d in grid):
        raise ValueError(f"grid must be three positive ints (x, y, z), got {tuple(grid)}; e.g. grid=(15, 3, 3)")
    return dims


def grid_positions(grid) -> Tensor:
    """Integer coordinates [n, 3] (float64) of every grid point, x-major."""
    nx, ny, nz = check_grid(grid)
    axes = torch.meshgrid(torch.arange(nx), torch.arange(ny), torch.arange(nz), indexing="ij")
    return torch.stack([a.reshape(-1) for a in axes], dim=1).to(torch.float64)


def excitatory_count(n: int, excitatory_fraction: float) -> int:
    return int(round(n * excitatory_fraction))


def assign_types(n: int, excitatory_fraction: float, generator: torch.Generator) -> Tensor:
    """int64 [n]: 0 for excitatory, 1 for inhibitory; exactly round(n * fraction) excitatory."""
    n_exc = excitatory_count(n, excitatory_fraction)
    types = torch.ones(n, dtype=torch.int64)
    types[torch.randperm(n, generator=generator)[:n_exc]] = EXCITATORY
    return types


def _axis_kernel_sum(n: int, lam: float) -> float:
    """Sum over ordered position pairs on one axis of length n of exp(-(d/lambda)^2)."""
    reach = min(n - 1, math.ceil(9 * lam))           # exp(-81) ~ 7e-36: the rest adds nothing
    d = torch.arange(-reach, reach + 1, dtype=torch.float64)
    return float(((n - d.abs()) * torch.exp(-(d / lam) ** 2)).sum())


def expected_connections(grid, lam: float, probability: PairValues, n_excitatory: int) -> float:
    """Expected number of connections, from the grid alone (the kernel is separable over axes):
    sum over ordered pairs a != b of C * exp(-(D/lambda)^2), with C averaged over random types."""
    nx, ny, nz = check_grid(grid)
    n = nx * ny * nz
    if lam == 0 or n < 2:
        return 0.0
    pair_kernel = _axis_kernel_sum(nx, lam) * _axis_kernel_sum(ny, lam) * _axis_kernel_sum(nz, lam) - n
    counts = (n_excitatory, n - n_excitatory)
    c = probability.matrix()
    mean_c = sum(float(c[a, b]) * counts[a] * (counts[b] - (a == b)) for a in (0, 1) for b in (0, 1))
    return pair_kernel * mean_c / (n * (n - 1))


def sample_connections(grid, types: Tensor, lam: float, probability: PairValues,
                       generator: torch.Generator, max_chunk: int = 1 << 22) -> tuple[Tensor, Tensor]:
    """(pre_index, post_index), int64, of the sampled connections, each pair drawn once."""
    nx, ny, nz = check_grid(grid)
    plane = ny * nz
    positions = grid_positions(grid).float()
    c = probability.matrix().float()
    c_max = float(c.max())
    if lam == 0 or c_max == 0:
        empty = torch.zeros(0, dtype=torch.int64)
        return empty, empty
    reach = math.ceil(lam * math.sqrt(math.log(c_max / CUTOFF)))
    slabs = max(1, min(nx, max_chunk // max(1, plane * plane * (2 * reach + 1))))
    inhibitory = types.float()
    # C by pair type as arithmetic on the 0/1 types: c00 + (c10 - c00) pre + (c01 - c00) post + ...
    c00, c01, c10, c11 = float(c[0, 0]), float(c[0, 1]), float(c[1, 0]), float(c[1, 1])
    pres, posts = [], []
    for x0 in range(0, nx, slabs):
        x1 = min(nx, x0 + slabs)
        lo, hi = max(0, x0 - reach) * plane, min(nx, x1 + reach) * plane
        pre = torch.arange(x0 * plane, x1 * plane)
        post = torch.arange(lo, hi)
        d2 = torch.zeros(pre.numel(), post.numel())
        for axis in range(3):
            d2 += (positions[pre, axis][:, None] - positions[post, axis][None, :]) ** 2
        a, b = inhibitory[pre][:, None], inhibitory[post][None, :]
        p = c00 + (c10 - c00) * a + (c01 - c00) * b + (c11 - c10 - c01 + c00) * (a * b)
        p = p * torch.exp(d2 * (-1.0 / (lam * lam))) * (d2 > 0)          # d2 == 0: the neuron itself
        hit = torch.rand(p.shape, generator=generator) < p
        i, j = hit.nonzero(as_tuple=True)
        pres.append(pre[i])
        posts.append(post[j])
    return torch.cat(pres), torch.cat(posts)


def sample_weights(pre_type: Tensor, post_type: Tensor, mean: PairValues, cv: float,
                   generator: torch.Generator) -> Tensor:
    """float32 signed weights: |w| from a gamma distribution with the pair type's mean and
    coefficient of variation ``cv`` (0: every weight equals the mean); the sign is the mean's."""
    means = mean.matrix()[pre_type, post_type]
    if cv == 0 or means.numel() == 0:
        return means.float()
    shape = 1.0 / (cv * cv)
    gamma = torch._standard_gamma(torch.full(means.shape, shape, dtype=torch.float64), generator=generator)
    return (means * gamma / shape).float()


def delay_steps(delay_ms: Optional[PairValues], dt: float) -> PairValues:
    """Delays in whole steps of ``dt`` ms (half up, at least 1: a spike reaches its targets on a
    later step); ``None`` turns delays off (every connection takes one step)."""
    if delay_ms is None:
        return PairValues(1, 1, 1, 1)
    steps = [max(1, int(math.floor(v / dt + 0.5))) for v in (delay_ms.ee, delay_ms.ei, delay_ms.ie, delay_ms.ii)]
    return PairValues(*steps)
