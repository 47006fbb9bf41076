"""Encoders by name, so configs can say ``encoder: poisson``.

    >>> enc = get_encoder("rate", T=8, rounding="round")
    >>> enc(torch.rand(4, 10)).shape
    torch.Size([8, 4, 10])
"""

from __future__ import annotations

from torch import nn

from ..registry import Registry
from .delta import DeltaEncoder
from .direct import DirectEncoder, IdentityEncoder
from .latency import LatencyEncoder
from .poisson import PoissonEncoder
from .population import PopulationEncoder
from .rate import RateEncoder

__all__ = ["ENCODERS", "get_encoder"]

ENCODERS: Registry[type[nn.Module]] = Registry("encoder")
ENCODERS.register("poisson", PoissonEncoder)
ENCODERS.register("rate", RateEncoder)
ENCODERS.register("latency", LatencyEncoder)
ENCODERS.register("population", PopulationEncoder)
ENCODERS.register("delta", DeltaEncoder)
ENCODERS.register("direct", DirectEncoder)
ENCODERS.register("none", IdentityEncoder, aliases=("identity",))


def get_encoder(name: str, T: int | None, **kwargs) -> nn.Module:
    """Build the encoder module registered as ``name`` with ``T`` steps and its options.

    ``T`` may be None only for ``'delta'`` and ``'none'`` (already-temporal data) and for
    ``'population'`` with ``output='current'``. Unknown options raise the encoder's own TypeError.
    """
    return ENCODERS.get(name)(T=T, **kwargs)
