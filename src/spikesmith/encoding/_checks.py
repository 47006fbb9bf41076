"""Argument checks shared by the encoders.

Every check raises ``TypeError`` or ``ValueError`` naming the function, the argument, what was
given and what would work, e.g.::

    TypeError: poisson_encode: x must be a floating-point tensor, got dtype torch.uint8;
    convert it first, e.g. x.float() / 255
"""

from __future__ import annotations

import numbers

import torch
from torch import Tensor


def check_T(T: object, where: str, *, allow_none: bool = False) -> int | None:
    """Return ``T`` as a Python int after checking it is a positive integer (bools refused)."""
    if T is None and allow_none:
        return None
    if isinstance(T, bool) or not isinstance(T, numbers.Integral):
        hint = " (or None)" if allow_none else ""
        raise TypeError(
            f"{where}: T (number of time steps) must be a positive int{hint}, "
            f"got {type(T).__name__} {T!r}"
        )
    if T <= 0:
        raise ValueError(f"{where}: T (number of time steps) must be >= 1, got {T}")
    return int(T)


def check_float_tensor(x: object, where: str, name: str = "x") -> Tensor:
    """Check ``x`` is a floating-point tensor without NaN and return it."""
    if not isinstance(x, Tensor):
        raise TypeError(
            f"{where}: {name} must be a torch.Tensor, got {type(x).__name__}; "
            f"wrap it first, e.g. torch.as_tensor({name}, dtype=torch.float32)"
        )
    if not torch.is_floating_point(x):
        raise TypeError(
            f"{where}: {name} must be a floating-point tensor, got dtype {x.dtype}; "
            f"convert it first, e.g. {name}.float() / 255 for 8-bit images or {name}.float()"
        )
    if torch.isnan(x).any():
        raise ValueError(
            f"{where}: {name} contains NaN; clean the input first, "
            f"e.g. torch.nan_to_num({name}, nan=0.0)"
        )
    return x


def check_unit_interval(x: Tensor, where: str, clamp: bool, name: str = "x") -> Tensor:
    """Return ``x`` if all values lie in [0, 1]; clamp them there if ``clamp`` else raise."""
    if clamp:
        return x.clamp(0.0, 1.0)
    if x.numel() > 0:
        lo, hi = float(x.min()), float(x.max())
        if lo < 0.0 or hi > 1.0:
            raise ValueError(
                f"{where}: {name} must lie in [0, 1], got values in [{lo:g}, {hi:g}]; "
                f"rescale it (e.g. (x - x.min()) / (x.max() - x.min())) or pass clamp=True"
            )
    return x


def check_time_length(x: Tensor, T: int | None, where: str) -> None:
    """Check an already-temporal ``x`` is ``[T, ...]`` when ``T`` is known."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{where}: x must be a torch.Tensor [T, N, ...], got {type(x).__name__}")
    if T is not None and (x.dim() < 1 or x.shape[0] != T):
        raise ValueError(
            f"{where}: expected a sequence [T, N, ...] with T={T} time steps first, got shape "
            f"{list(x.shape)}; move time first (e.g. x.transpose(0, 1)) or set T to match"
        )


def check_real(value: object, where: str, name: str) -> float:
    """Return ``value`` as float after checking it is a real number (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: {name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if value != value:
        raise ValueError(f"{where}: {name} must not be NaN")
    return value


def check_choice(value: object, where: str, name: str, choices: tuple[str, ...]) -> str:
    """Check ``value`` is one of the string ``choices``."""
    if value not in choices:
        raise ValueError(f"{where}: {name} must be one of {list(choices)}, got {value!r}")
    return value  # type: ignore[return-value]


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """Working precision for ``dtype``: float64 stays float64, everything else uses float32."""
    return torch.float64 if dtype == torch.float64 else torch.float32
