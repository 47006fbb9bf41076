"""Winner-take-all inhibition of the STDP-trained deep spiking CNN (Kheradpisheh et al. 2018), on the
spike times of a convolutional layer ``[..., maps, H, W]`` (``inf``: no spike):

- ``lateral_inhibition`` (local, in every forward pass): at each position only the map that fires
  first keeps its spike; the others at that position are inhibited. A tie in time goes to the
  larger potential at the spike, then to the lower map index.
- ``select_winners`` (global, for learning, one image): the neurons allowed to do STDP. The
  earliest spike wins (ties: larger potential, then lower flat index); its map may not win again
  for this image (one winner per map), and no neuron of any other map within ``radius`` of its
  position may win (local inter-map competition). Repeated until ``k`` winners or no candidate.
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple, Optional

import torch
from torch import Tensor

__all__ = ["Winner", "lateral_inhibition", "select_winners"]


class Winner(NamedTuple):
    """A neuron that learns: its map, its position and the step it fired."""

    map: int
    y: int
    x: int
    time: float


def _check_pair(times: Tensor, potentials: Tensor, where: str, dims: Optional[int] = None) -> None:
    if not isinstance(times, Tensor) or not isinstance(potentials, Tensor) or times.shape != potentials.shape:
        raise ValueError(f"{where}: times and potentials must be tensors of one shape, got "
                         f"{getattr(times, 'shape', type(times).__name__)} and "
                         f"{getattr(potentials, 'shape', type(potentials).__name__)}")
    if times.dim() < 3 or (dims is not None and times.dim() != dims):
        wanted = "[maps, H, W]" if dims == 3 else "[..., maps, H, W]"
        raise ValueError(f"{where}: times must be {wanted}, got shape {list(times.shape)}")


def lateral_inhibition(times: Tensor, potentials: Tensor) -> Tensor:
    """``times`` with every spike removed (set to ``inf``) but the first one across maps at each
    position (see the module docstring); ``potentials`` are the neurons' potentials at their spike."""
    _check_pair(times, potentials, "lateral_inhibition")
    channel = times.dim() - 3
    earliest = times.amin(channel, keepdim=True)
    candidate = (times == earliest) & torch.isfinite(times)
    masked = torch.where(candidate, potentials, torch.full_like(potentials, -math.inf))
    keep = torch.zeros_like(candidate)
    keep.scatter_(channel, masked.argmax(channel, keepdim=True), True)      # the first of equal potentials
    return torch.where(keep & candidate, times, torch.full_like(times, math.inf))


def select_winners(times: Tensor, potentials: Tensor, k: Optional[int] = None, radius: int = 0) -> list[Winner]:
    """The learning neurons of one image's layer, ``times``/``potentials`` ``[maps, H, W]`` (see the
    module docstring); ``k`` None: up to one per map."""
    where = "select_winners"
    _check_pair(times, potentials, where, dims=3)
    if k is not None and (isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1):
        raise ValueError(f"{where}: k must be an int >= 1 (winners per image) or None (one per map), got {k!r}")
    if isinstance(radius, bool) or not isinstance(radius, numbers.Integral) or radius < 0:
        raise ValueError(f"{where}: radius must be an int >= 0 (0: inhibit the same position only), got {radius!r}")
    maps, height, width = times.shape
    fired = torch.isfinite(times)
    if not bool(fired.any()):
        return []
    t = times.double()
    v = potentials.double()
    span = float(v[fired].max() - v[fired].min()) + 1.0          # earlier always beats a larger potential
    score = torch.where(fired, -torch.where(fired, t, torch.zeros_like(t)) * span + v,
                        torch.full_like(t, -math.inf))
    winners: list[Winner] = []
    for _ in range(maps if k is None else min(k, maps)):
        best = int(score.argmax())
        if score.view(-1)[best] == -math.inf:
            break
        c, rest = divmod(best, height * width)
        y, x = divmod(rest, width)
        winners.append(Winner(c, y, x, float(times[c, y, x])))
        score[c] = -math.inf                                     # one winner per map
        score[:, max(0, y - radius):y + radius + 1, max(0, x - radius):x + radius + 1] = -math.inf
    return winners
