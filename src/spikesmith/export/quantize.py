"""Loihi's 8-bit weights: even integers in [-256, 254] times a power-of-two scale per layer.

Each layer l has a scale s_l = 2^k: a weight w is stored as round(w s_l), kept even (Loihi's mixed-sign
mode), in [-256, 254]. k is the largest exponent with max|w| 2^k <= 254, unless the caller fixes it
(``export.lava`` lowers it so that the threshold mantissa fits its 17 bits). ``weight_error`` is what
``check`` reports as the ``'precision'`` issue of a layer.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
import torch
from torch import Tensor

W_MAX, W_MIN = 254, -256
"""The range of a stored weight (8 bits, even values)."""


def weight_exponent(max_abs: float) -> int:
    """The exponent k of the largest scale 2^k with max_abs 2^k <= 254 (0 for no or non-finite weights)."""
    if max_abs <= 0 or not math.isfinite(max_abs):
        return 0
    return int(math.floor(math.log2(W_MAX / max_abs)))


def quantize_weight(w: Tensor, k: Optional[int] = None) -> tuple[np.ndarray, int]:
    """Even integers round(w 2^k) in [-256, 254] and the exponent k (largest that fits, unless given)."""
    w = w.detach().double().cpu()
    if k is None:
        k = weight_exponent(float(w.abs().max()) if w.numel() else 0.0)
    q = torch.clamp(2 * torch.round(w * 2.0 ** k / 2), W_MIN, W_MAX)
    return q.numpy(), k


def weight_error(w: Tensor) -> float:
    """The largest |w - w_quantised| relative to max|w| (0 when the weights are exactly representable)."""
    q, k = quantize_weight(w)
    m = float(w.detach().abs().max()) if w.numel() else 0.0
    if m == 0:
        return 0.0
    return float(np.abs(q / 2.0 ** k - w.detach().double().cpu().numpy()).max() / m)
