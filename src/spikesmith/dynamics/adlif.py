"""The adaptive LIF of Bittar & Garner (2022), one step, in the order of the authors' reference
code (the sparch repository's adLIF layer):

    w_t = beta w_{t-1} + a u_{t-1} + b s_{t-1}
    u_t = alpha (u_{t-1} - theta s_{t-1}) + (1 - alpha) (I_t - w_t)
    s_t = Heaviside(u_t - theta)

In the terms of this package: u is the charged potential H, u - theta s (the shared soft reset)
is V, so ``u_t = alpha V_{t-1} + (1 - alpha) (I_t - w_t)``. The adaptation w_t depends only on
step t-1, so it is computed at the end of that step, from H and S before the reset: the state
carried between steps is (V, w), w being the adaptation the next step uses.
"""

from __future__ import annotations

from typing import Union

from torch import Tensor

Scalar = Union[float, Tensor]


def adlif_charge(x: Tensor, v: Tensor, w: Tensor, alpha: Scalar) -> Tensor:
    """H = alpha V + (1 - alpha) (X - w)."""
    return alpha * v + (1.0 - alpha) * (x - w)


def adlif_adaptation(w: Tensor, h: Tensor, s: Tensor, beta: Scalar, a: Scalar, b: Scalar) -> Tensor:
    """The next step's adaptation: w' = beta w + a H + b S (H before the reset)."""
    return beta * w + a * h + b * s
