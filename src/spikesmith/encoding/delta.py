"""Delta (change-based) modulation of signals that are already sequences ``[T, N, ...]``.

Each element keeps a reference level ``ref``; a spike is emitted when the signal has moved by
more than ``threshold`` (strictly) since that reference, and the reference then jumps to the
current value::

    d[t] = x[t] - ref
    S[t] = +1  if d[t] >  threshold        (on spike)
           -1  if d[t] < -threshold        (off spike)
            0  otherwise
    ref <- x[t]  where S[t] != 0

``ref`` starts at ``x[0]`` (so step 0 never spikes) or at ``initial_reference`` when given (e.g.
0.0 to spike on a large first value). One spike per step at most: a jump of several thresholds
gives one spike, not several.

Output layouts:

- default: one signed train ``[T, N, ...]`` with values in {-1, 0, +1};
- ``off_spike=False``: only on spikes, values in {0, 1}. Downward crossings are still detected
  and still move the reference, they are just not emitted, so a later rise is measured from the
  lowered level;
- ``split_polarity=True``: two 0/1 channels on a new last dimension, ``[T, N, ..., 2]`` with
  ``[..., 0]`` the on spikes and ``[..., 1]`` the off spikes.

Example::

    >>> x = torch.tensor([0.0, 0.5, 0.5, 0.0]).view(4, 1)
    >>> delta_encode(x, threshold=0.25).flatten()
    tensor([ 0.,  1.,  0., -1.])
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ._checks import check_float_tensor, check_real, check_T, check_time_length

__all__ = ["delta_encode", "DeltaEncoder"]


def _check_options(threshold, off_spike, split_polarity, initial_reference, where):
    threshold = check_real(threshold, where, "threshold")
    if threshold < 0.0:
        raise ValueError(f"{where}: threshold must be >= 0, got {threshold}")
    if split_polarity and not off_spike:
        raise ValueError(
            f"{where}: split_polarity=True needs off_spike=True (the off channel would always be "
            f"empty); drop split_polarity or keep off spikes"
        )
    if initial_reference is not None:
        initial_reference = check_real(initial_reference, where, "initial_reference")
    return threshold, initial_reference


def delta_encode(
    x: Tensor,
    threshold: float = 0.1,
    *,
    off_spike: bool = True,
    split_polarity: bool = False,
    initial_reference: float | None = None,
) -> Tensor:
    """Spikes where ``x[t]`` left the band ``ref +- threshold`` (see the module docstring).

    Args:
        x: float tensor ``[T, N, ...]`` (time first, at least 1-D).
        threshold: change needed to spike (strictly exceeded), >= 0.
        off_spike: emit -1 for downward changes (else only +1 spikes are kept).
        split_polarity: return on/off as two 0/1 channels on a new last dim.
        initial_reference: starting reference; None uses ``x[0]``.

    Returns:
        ``[T, N, ...]`` in {-1, 0, 1} (or {0, 1}), or ``[T, N, ..., 2]`` with ``split_polarity``,
        in ``x.dtype``.
    """
    where = "delta_encode"
    x = check_float_tensor(x, where)
    if x.dim() < 1:
        raise ValueError(
            f"{where}: x must be a sequence [T, N, ...] with time first, got a 0-d tensor; "
            f"for a static input use another encoder, e.g. rate_encode(x, T)"
        )
    threshold, initial_reference = _check_options(
        threshold, off_spike, split_polarity, initial_reference, where
    )
    ref = x[0].clone() if initial_reference is None else torch.full_like(x[0], initial_reference)
    on = torch.zeros_like(x, dtype=torch.bool)
    off = torch.zeros_like(x, dtype=torch.bool)
    for t in range(x.shape[0]):  # sequential: each step's reference depends on earlier spikes
        d = x[t] - ref
        on[t] = d > threshold
        off[t] = d < -threshold
        ref = torch.where(on[t] | off[t], x[t], ref)
    if split_polarity:
        return torch.stack((on, off), dim=-1).to(x.dtype)
    if not off_spike:
        return on.to(x.dtype)
    return on.to(x.dtype) - off.to(x.dtype)


class DeltaEncoder(nn.Module):
    """Module form of :func:`delta_encode`: ``[T, N, ...] -> [T, N, ...]`` (or ``[..., 2]``).

    ``T`` is optional; when given, inputs whose first dimension is not ``T`` are refused, which
    catches ``[N, T, ...]`` batches passed by mistake.

    Example::

        >>> DeltaEncoder(threshold=0.1)(torch.randn(50, 4, 3).cumsum(0)).shape
        torch.Size([50, 4, 3])
    """

    def __init__(
        self,
        T: int | None = None,
        threshold: float = 0.1,
        off_spike: bool = True,
        split_polarity: bool = False,
        initial_reference: float | None = None,
    ):
        super().__init__()
        where = "DeltaEncoder"
        self.T = check_T(T, where, allow_none=True)
        self.threshold, self.initial_reference = _check_options(
            threshold, off_spike, split_polarity, initial_reference, where
        )
        self.off_spike = bool(off_spike)
        self.split_polarity = bool(split_polarity)

    def forward(self, x: Tensor) -> Tensor:
        check_time_length(x, self.T, "DeltaEncoder")
        return delta_encode(
            x, self.threshold, off_spike=self.off_spike, split_polarity=self.split_polarity,
            initial_reference=self.initial_reference,
        )

    def extra_repr(self) -> str:
        return (
            f"T={self.T}, threshold={self.threshold}, off_spike={self.off_spike}, "
            f"split_polarity={self.split_polarity}, initial_reference={self.initial_reference}"
        )

