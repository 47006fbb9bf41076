"""Temporal tasks that need memory, generated (seeded, nothing to download). Inputs are spike
trains time first, [T, N, channels] float32 (what a multi-step network or the liquid state
machine takes), labels int64 [N].

- ``delayed_pattern_recall``: one of ``n_patterns`` fixed random spike patterns, jittered by
  dropping and adding spikes, then ``delay_steps`` of background noise; the label is the pattern,
  so a read-out at the end must remember what came before the delay.
- ``temporal_xor``: two bits as bursts separated by a gap (each bit on its own channel group: the
  first half of the channels fires for 1, the second half for 0); the label is a XOR b, which
  no single moment of the input determines.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["delayed_pattern_recall", "temporal_xor"]


def _check(**values) -> None:
    for name, (value, low) in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")


def _check_rate(name: str, value: float) -> None:
    if not 0 <= value <= 1:
        raise ValueError(f"{name} is a spike probability per step and channel, in [0, 1]; got {value!r}")


def delayed_pattern_recall(n_samples: int, n_patterns: int = 4, n_channels: int = 8, pattern_steps: int = 50,
                           delay_steps: int = 50, rate: float = 0.1, drop: float = 0.1,
                           noise_rate: float = 0.005, seed: int = 0) -> tuple[Tensor, Tensor]:
    """(x [pattern_steps + delay_steps, n_samples, n_channels], labels [n_samples])."""
    _check(n_samples=(n_samples, 1), n_patterns=(n_patterns, 2), n_channels=(n_channels, 1),
           pattern_steps=(pattern_steps, 1), delay_steps=(delay_steps, 0))
    for name, value in (("rate", rate), ("drop", drop), ("noise_rate", noise_rate)):
        _check_rate(name, value)
    g = torch.Generator().manual_seed(int(seed))
    templates = torch.rand(n_patterns, pattern_steps, n_channels, generator=g) < rate
    labels = torch.randint(0, n_patterns, (n_samples,), generator=g)
    steps = pattern_steps + delay_steps
    kept = templates[labels] & (torch.rand(n_samples, pattern_steps, n_channels, generator=g) >= drop)
    x = torch.rand(n_samples, steps, n_channels, generator=g) < noise_rate
    x[:, :pattern_steps] |= kept
    return x.float().permute(1, 0, 2).contiguous(), labels


def temporal_xor(n_samples: int, n_channels: int = 4, burst_steps: int = 10, gap_steps: int = 30,
                 tail_steps: int = 10, rate: float = 0.5, noise_rate: float = 0.01,
                 seed: int = 0) -> tuple[Tensor, Tensor]:
    """(x [2 burst_steps + gap_steps + tail_steps, n_samples, n_channels], labels = a XOR b)."""
    _check(n_samples=(n_samples, 1), n_channels=(n_channels, 2), burst_steps=(burst_steps, 1),
           gap_steps=(gap_steps, 0), tail_steps=(tail_steps, 0))
    if n_channels % 2:
        raise ValueError(f"temporal_xor: n_channels must be even (half code 1, half code 0), got {n_channels}")
    _check_rate("rate", rate)
    _check_rate("noise_rate", noise_rate)
    g = torch.Generator().manual_seed(int(seed))
    bits = torch.randint(0, 2, (n_samples, 2), generator=g)
    steps = 2 * burst_steps + gap_steps + tail_steps
    x = torch.rand(n_samples, steps, n_channels, generator=g) < noise_rate
    half = n_channels // 2
    for i, start in enumerate((0, burst_steps + gap_steps)):
        burst = torch.rand(n_samples, burst_steps, half, generator=g) < rate
        window = x[:, start:start + burst_steps]
        ones = bits[:, i].bool()
        window[ones, :, :half] |= burst[ones]
        window[~ones, :, half:] |= burst[~ones]
    return x.float().permute(1, 0, 2).contiguous(), bits[:, 0] ^ bits[:, 1]
