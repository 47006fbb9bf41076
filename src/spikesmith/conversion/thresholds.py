"""Threshold balancing: each IF layer's V_th from the ANN's activations on calibration data.

With a soft reset and spikes of amplitude V_th, an IF neuron driven by a constant current I for T
steps (from V(0) = 0) outputs on average the clip-floor of I:

    r = V_th / T * clamp(floor(I T / V_th), 0, T)          (clip at V_th, steps of V_th / T)

so V_th trades the clipping error (activations above V_th) against the quantisation error (V_th / T).
Methods, per layer or per channel (``per_channel=True``: one V_th per output channel):

- ``'max'``         the largest activation (Diehl et al. 2015; no clipping, coarse steps);
- ``'percentile'``  the p-th percentile of the positive activations, p = 99.9 or 99.99 (Rueckauer et al. 2017);
- ``'fraction'``    a fraction of the largest activation;
- ``'mse'``         the V_th minimising E[(clipfloor_T(a; V_th) - a)^2] over a grid (Li et al., ICML 2021),
                    with the floor replaced by a round when the V_th/(2T) shift is used;
- ``'activation'``  the clip point lambda of a ClipReLU / QCFS / ReLU6 (the 99.99th percentile for a plain ReLU).
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

THRESHOLD_METHODS = ("max", "percentile", "fraction", "mse", "activation")


def quantize(a: Tensor, threshold: Tensor, T: int, shift: bool = False) -> Tensor:
    """V_th / T * clamp(floor(a T / V_th + s), 0, T), s = 1/2 with the shift, else 0 (the IF rate of a constant a)."""
    s = 0.5 if shift else 0.0
    return threshold / T * torch.clamp(torch.floor(a * T / threshold + s), 0, T)


def _by_channel(values: Tensor, per_channel: bool) -> Tensor:
    """``[N, C, ...]`` -> ``[C, M]`` (per channel) or ``[1, M]``."""
    if per_channel and values.dim() >= 2:
        return values.transpose(0, 1).reshape(values.shape[1], -1)
    return values.reshape(1, -1)


def _shape_like(th: Tensor, values: Tensor, per_channel: bool) -> Tensor:
    if per_channel and values.dim() >= 2:
        return th.reshape(values.shape[1], *([1] * (values.dim() - 2)))
    return th.reshape(())


def _percentile_rows(rows: Tensor, q: float) -> Tensor:
    out = torch.zeros(rows.shape[0], dtype=rows.dtype)
    for i, row in enumerate(rows):
        pos = row[row > 0]
        if pos.numel() == 0:
            continue
        k = max(1, min(pos.numel(), int(round(q / 100.0 * pos.numel()))))
        out[i] = pos.kthvalue(k).values
    return out


def _mse_rows(rows: Tensor, T: int, shift: bool, grid: int, max_values: int, generator: torch.Generator) -> Tensor:
    """Per row, the threshold in (0, max] minimising the clip-floor MSE: a grid, then a finer grid around its best."""
    top = rows.max(dim=1).values.clamp_min(0)
    if rows.shape[1] > max_values:
        idx = torch.randperm(rows.shape[1], generator=generator)[:max_values]
        rows = rows[:, idx]
    rows = rows.clamp_min(0)
    best_err = torch.full_like(top, float("inf"))
    best = top.clone()
    step = top / grid
    candidates = [top * k / grid for k in range(1, grid + 1)]
    for refine in range(2):
        for th in candidates:
            th = th.clamp_min(1e-12)
            err = (quantize(rows, th[:, None], T, shift) - rows).pow(2).mean(dim=1)
            better = err < best_err
            best_err = torch.where(better, err, best_err)
            best = torch.where(better, th, best)
        if refine == 0:
            fine = step * 2 / grid
            candidates = [(best - step + fine * k).clamp_min(1e-12) for k in range(grid + 1)]
    return best


def balance(values: Tensor, method: str, *, per_channel: bool = False, percentile: float = 99.99,
            fraction: float = 0.8, T: int = 32, shift: bool = False, clip: Optional[float] = None,
            grid: int = 32, max_values: int = 1 << 17, seed: int = 0) -> Tensor:
    """The threshold(s) of one layer from its ANN activations ``values`` (``[N, C, ...]`` or ``[N, F]``).

    Returns a tensor of shape ``[]`` (per layer) or ``[C, 1, ...]`` (per channel). Channels that never
    activate get the layer's threshold, so no threshold is 0.
    """
    if method not in THRESHOLD_METHODS:
        raise ValueError(f"convert: threshold must be one of {', '.join(THRESHOLD_METHODS)}, got {method!r}")
    values = values.detach().float()
    rows = _by_channel(values, per_channel)
    if method == "activation" and clip is not None:
        th = torch.full((rows.shape[0],), float(clip))
    elif method == "max":
        th = rows.max(dim=1).values
    elif method in ("percentile", "activation"):
        q = percentile if method == "percentile" else 99.99
        if not 0 < q <= 100:
            raise ValueError(f"convert: percentile must be in (0, 100], got {q}")
        th = _percentile_rows(rows, q)
    elif method == "fraction":
        if not 0 < fraction <= 1:
            raise ValueError(f"convert: fraction must be in (0, 1], got {fraction}")
        th = rows.max(dim=1).values * fraction
    else:
        gen = torch.Generator().manual_seed(seed)
        th = _mse_rows(rows, T, shift, grid, max(1, max_values // rows.shape[0]), gen)
    if clip is not None and method != "activation":
        th = th.clamp_max(float(clip))
    dead = ~(th > 0)
    if bool(dead.any()):
        fallback = th[~dead].median() if bool((~dead).any()) else torch.tensor(1.0)
        th = torch.where(dead, fallback, th)
    return _shape_like(th, values, per_channel)
