"""Surrogates by name, for configs: ``get("atan")``, ``get("sigmoid:alpha=4")``."""

from __future__ import annotations

from typing import Union

from ..registry import Registry, compact_key
from .base import SurrogateFunction
from .dspike import Dspike
from .functions import ATan, Exponential, FastSigmoid, PiecewiseQuadratic, Rectangle, Sigmoid, Triangle

REGISTRY: Registry[type[SurrogateFunction]] = Registry("surrogate", normalise=compact_key)
"""Surrogate classes by name; names compare without case, ``-`` or ``_`` (``fast_sigmoid``)."""
for _cls in (Sigmoid, ATan, Rectangle, Triangle, PiecewiseQuadratic, Exponential, FastSigmoid, Dspike):
    REGISTRY.register(_cls.__name__.lower(), _cls)


def _parse_value(text: str):
    low = text.strip().lower()
    if low in {"true", "false"}:
        return low == "true"
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"surrogate option value {text!r} is not a number or true/false") from None


def get(spec: Union[str, SurrogateFunction, type, None], **kwargs) -> SurrogateFunction:
    """Build a surrogate from a name, a ``"name:key=value,..."`` string, a class or an instance.

    ``None`` gives a fresh ``Sigmoid(alpha=4)``. Names are the lower-case class names.
    """
    if spec is None:
        return Sigmoid(**kwargs)
    if isinstance(spec, SurrogateFunction):
        if kwargs:
            raise ValueError("surrogate options can only be given with a name or a class, not an instance")
        return spec
    if isinstance(spec, type) and issubclass(spec, SurrogateFunction):
        return spec(**kwargs)
    if not isinstance(spec, str):
        raise TypeError(
            f"surrogate_function must be a SurrogateFunction, a name such as 'atan' or None, got {type(spec).__name__}"
        )
    name, _, opts = spec.partition(":")
    cls = REGISTRY.get(name)
    options = dict(kwargs)
    for item in filter(None, (part.strip() for part in opts.split(","))):
        k, eq, v = item.partition("=")
        if not eq:
            raise ValueError(f"surrogate option {item!r} in {spec!r} must look like key=value")
        options[k.strip()] = _parse_value(v)
    try:
        return cls(**options)
    except TypeError as err:
        raise ValueError(f"bad options for surrogate {name!r}: {err}") from None


def names() -> list[str]:
    """The registered surrogate names."""
    return REGISTRY.names()
