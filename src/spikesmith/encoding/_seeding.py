"""Random generators for the stochastic encoders.

A pure function takes ``seed`` (an int: a private ``torch.Generator`` is made for the call, the
global RNG is not touched) or ``generator`` (a ``torch.Generator`` the caller owns and advances)
or neither (the global RNG, as ``torch.rand`` would use).

A module holding a ``seed`` must not repeat the same noise on every batch, yet must be
reproducible. Forward call ``k`` (counted from construction or ``reset_rng()``) therefore uses a
fresh generator seeded with ``derive_seed(seed, k)``, a SplitMix64-style mix of the two integers.
The module's state is two ints, so it pickles, deep-copies and moves between devices freely.
"""

from __future__ import annotations

import numbers

import torch

_MASK64 = (1 << 64) - 1


def check_seed(seed: object, generator: object, where: str) -> None:
    """Check ``seed`` is None or an int, ``generator`` None or a Generator, and not both."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise TypeError(f"{where}: seed must be an int or None, got {type(seed).__name__} {seed!r}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(
            f"{where}: generator must be a torch.Generator or None, got {type(generator).__name__}"
        )
    if seed is not None and generator is not None:
        raise ValueError(f"{where}: pass either seed or generator, not both")


def resolve_generator(
    seed: int | None, generator: torch.Generator | None, device: torch.device, where: str
) -> torch.Generator | None:
    """The generator to draw from on ``device`` (None means the global RNG)."""
    check_seed(seed, generator, where)
    if seed is not None:
        return torch.Generator(device=device).manual_seed(int(seed) & _MASK64)
    if generator is not None and generator.device.type != torch.device(device).type:
        raise ValueError(
            f"{where}: generator lives on {generator.device} but the input is on {device}; "
            f"create it there, e.g. torch.Generator(device={str(device)!r}).manual_seed(0)"
        )
    return generator


def derive_seed(seed: int, index: int) -> int:
    """A 64-bit seed for call ``index`` of a module seeded with ``seed`` (SplitMix64 finaliser)."""
    z = (int(seed) + (int(index) + 1) * 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)
