"""Direct input: the analog value itself at every step, the first layer acting as the encoder.

::

    X[t, ...] = x[...]      for t = 0 .. T - 1

``direct_encode`` returns an ``expand``-ed view (no copy; all steps share ``x``'s memory, so
writing into it in place is an error) unless ``contiguous=True``, which materialises ``T``
copies. :class:`IdentityEncoder` is the ``'none'`` encoder for data that is already temporal,
``[T, N, ...]``, e.g. event frames.

Example::

    >>> direct_encode(torch.rand(8, 3, 32, 32), T=4).shape
    torch.Size([4, 8, 3, 32, 32])
"""

from __future__ import annotations

from torch import Tensor, nn

from ._checks import check_float_tensor, check_T, check_time_length

__all__ = ["direct_encode", "DirectEncoder", "IdentityEncoder"]


def direct_encode(x: Tensor, T: int, *, contiguous: bool = False) -> Tensor:
    """Repeat ``x`` over ``T`` steps: ``[N, ...] -> [T, N, ...]``, same dtype and values.

    Args:
        x: float tensor ``[N, ...]`` (any range).
        T: number of time steps (positive int).
        contiguous: return a real copy instead of a stride-0 view.
    """
    where = "direct_encode"
    T = check_T(T, where)
    x = check_float_tensor(x, where)
    out = x.unsqueeze(0).expand(T, *x.shape)
    return out.contiguous() if contiguous else out


class DirectEncoder(nn.Module):
    """Module form of :func:`direct_encode`: ``[N, ...] -> [T, N, ...]``."""

    def __init__(self, T: int, contiguous: bool = False):
        super().__init__()
        self.T = check_T(T, "DirectEncoder")
        self.contiguous = bool(contiguous)

    def forward(self, x: Tensor) -> Tensor:
        return direct_encode(x, self.T, contiguous=self.contiguous)

    def extra_repr(self) -> str:
        return f"T={self.T}, contiguous={self.contiguous}"


class IdentityEncoder(nn.Module):
    """No encoding for already-temporal data: ``[T, N, ...]`` is returned unchanged.

    Inputs are checked like every encoder's (float dtype, no NaN) and, when ``T`` is given, for
    ``T`` steps on the first dimension.
    """

    def __init__(self, T: int | None = None):
        super().__init__()
        self.T = check_T(T, "IdentityEncoder", allow_none=True)

    def forward(self, x: Tensor) -> Tensor:
        check_time_length(x, self.T, "IdentityEncoder")
        return check_float_tensor(x, "IdentityEncoder")

    def extra_repr(self) -> str:
        return f"T={self.T}"
