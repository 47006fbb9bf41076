"""snnTorch's spike generators (``snntorch.spikegen``): ``rate``, ``latency``, ``delta``.

- ``rate(data, num_steps)``: ``[num_steps, *data.shape]`` Bernoulli spikes with P = clamp(data gain +
  offset, 0, 1), drawn by ``torch.bernoulli`` on the repeated tensor, so the same RNG state gives
  snnTorch's spikes exactly. ``time_var_input=True``: ``data`` is already ``[T, ...]``.
- ``latency(data, num_steps)``: one spike per element at t = tau log(x / (x - threshold)) (``linear=True``:
  t = tau (1 - x)), rounded; ``normalize=True`` stretches the times over num_steps - 1.
- ``delta(data, threshold)``: 1 where the change from the previous step is >= threshold (and -1 where it
  is <= -threshold with ``off_spike=True``); time is the first dimension.

Outputs are float32, as snnTorch's (``delta`` keeps the input dtype).
"""

from __future__ import annotations

import torch
from torch import Tensor

_DTYPE = torch.float


def rate_conv(data: Tensor) -> Tensor:
    """Bernoulli spikes with P = clamp(data, 0, 1), the shape of ``data``."""
    return torch.bernoulli(torch.clamp(data, min=0, max=1))


def _check_steps(fn: str, num_steps) -> None:
    """num_steps: False / None / 0 (not given) or a positive int."""
    if num_steps is False or num_steps is None:
        return
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 0:
        raise ValueError(f"spikegen.{fn}: num_steps must be a positive int, got {num_steps!r}")


def _check_data(fn: str, data) -> None:
    if not isinstance(data, Tensor):
        raise TypeError(f"spikegen.{fn}: data must be a torch.Tensor, got {type(data).__name__}")
    if data.is_floating_point() and torch.isnan(data).any():
        raise ValueError(f"spikegen.{fn}: data contains NaN; replace it first (torch.nan_to_num(data))")


def rate(data: Tensor, num_steps=False, gain=1, offset=0, first_spike_time=0, time_var_input=False) -> Tensor:
    """Rate code: ``[num_steps, *data.shape]`` spikes, P(spike) = clamp(data gain + offset, 0, 1)."""
    _check_data("rate", data)
    _check_steps("rate", num_steps)
    if not data.is_floating_point():
        raise TypeError(f"spikegen.rate: data must be a floating-point tensor (probabilities), got {data.dtype}; "
                        f"convert it with data.float() / 255 for images")
    if time_var_input and data.dim() == 0:
        raise ValueError("spikegen.rate: time_var_input=True needs data [T, ...] (at least 1 dim), got a scalar")
    if first_spike_time < 0 or num_steps < 0:
        raise ValueError(f"spikegen.rate: first_spike_time and num_steps must be >= 0, got {first_spike_time} "
                         f"and {num_steps}")
    if time_var_input and num_steps:
        raise ValueError("spikegen.rate: time_var_input=True takes the steps from data's first dimension; "
                         "leave num_steps out")
    if not time_var_input and not num_steps:
        raise ValueError("spikegen.rate: give num_steps (a positive int), or time_var_input=True for data "
                         "that is already [T, ...]")
    if num_steps and first_spike_time > num_steps - 1:
        raise ValueError(f"spikegen.rate: first_spike_time ({first_spike_time}) must be <= num_steps - 1 "
                         f"({num_steps - 1})")
    if time_var_input:
        spikes = rate_conv(data)
        if first_spike_time > 0:
            silent = torch.zeros((first_spike_time, *spikes.shape[1:]), device=data.device, dtype=_DTYPE)
            spikes = torch.cat((silent, spikes))
        return spikes
    repeated = data.repeat((int(num_steps),) + (1,) * data.dim()) * gain + offset
    spikes = rate_conv(repeated)
    if first_spike_time > 0:
        spikes[:first_spike_time] = 0
    return spikes


def _latency_times(data: Tensor, num_steps, threshold, tau, first_spike_time, normalize, linear, epsilon):
    if not 0 < threshold < 1:
        raise ValueError(f"spikegen.latency: threshold must be in (0, 1), got {threshold}")
    if tau <= 0:
        raise ValueError(f"spikegen.latency: tau must be > 0, got {tau}")
    if first_spike_time < 0:
        raise ValueError(f"spikegen.latency: first_spike_time must be >= 0, got {first_spike_time}")
    if first_spike_time and num_steps and first_spike_time > num_steps - 1:
        raise ValueError(f"spikegen.latency: first_spike_time ({first_spike_time}) must be <= num_steps - 1 "
                         f"({num_steps - 1})")
    if normalize and not num_steps:
        raise ValueError("spikegen.latency: normalize=True needs num_steps")
    if linear:
        if normalize:
            tau = num_steps - 1 - first_spike_time
        times = torch.clamp_max(-tau * (data - 1), -tau * (threshold - 1)) + first_spike_time
        if torch.min(times) < 0 and normalize:
            times = (times - torch.min(times)) * (1 / (torch.max(times) - torch.min(times))) * (num_steps - 1)
        return times
    clipped = torch.clamp(data, threshold + epsilon)
    times = tau * torch.log(clipped / (clipped - threshold))
    if first_spike_time > 0:
        times = times + first_spike_time
    if normalize:
        times = ((times - first_spike_time) * (num_steps - first_spike_time - 1)
                 / torch.max(times - first_spike_time) + first_spike_time)
    return times


def latency(data: Tensor, num_steps=False, threshold=0.01, tau=1, first_spike_time=0, on_target=1, off_target=0,
            clip=False, normalize=False, linear=False, interpolate=False, bypass=False, epsilon=1e-7) -> Tensor:
    """Latency code: ``[num_steps, *data.shape]``, one spike per element, brighter = earlier.

    Elements below ``threshold`` spike at the last step (``clip=True``: never).
    """
    _check_data("latency", data)
    _check_steps("latency", num_steps)
    if data.numel() == 0:
        raise ValueError("spikegen.latency: data is empty; give at least one value")
    if torch.min(data) < 0 or torch.max(data) > 1:
        raise ValueError(f"spikegen.latency: data must lie in [0, 1], got [{float(torch.min(data))}, "
                         f"{float(torch.max(data))}]; scale it first (x / x.max())")
    if not num_steps and not bypass:
        raise ValueError("spikegen.latency: give num_steps, or bypass=True to use the last spike time + 1")
    times = _latency_times(data, num_steps, threshold, tau, first_spike_time, normalize, linear, epsilon)
    last = int(torch.round(torch.max(times)).long())
    if not num_steps:
        num_steps = last + 1
        if num_steps <= 0:
            raise ValueError(f"spikegen.latency: the last spike time gives num_steps={num_steps}; lower "
                             f"threshold or scale the data up")
    if last > num_steps - 1 and not bypass:
        raise ValueError(f"spikegen.latency: the latest spike time {last} does not fit in num_steps={num_steps}; "
                         f"lower tau, pass normalize=True, or bypass=True to drop late spikes")
    if interpolate:
        return _latency_interpolate(times, num_steps, on_target, off_target)
    late = torch.round(times).long() > num_steps - 1
    index = torch.round(torch.clamp_max(times, num_steps - 1)).long().unsqueeze(0)
    spikes = torch.zeros((num_steps, *times.shape), dtype=_DTYPE, device=data.device)
    spikes = spikes.scatter(0, index, 1) * ~late
    if clip:
        spikes = spikes * ~(data < threshold)
    return torch.clamp(spikes * on_target, off_target)


def _latency_interpolate(times: Tensor, num_steps: int, on_target=1, off_target=0) -> Tensor:
    """A ramp from off_target to on_target that reaches on_target at each element's spike time."""
    if on_target < off_target:
        raise ValueError(f"spikegen.latency: on_target ({on_target}) must be >= off_target ({off_target})")
    times = torch.round(times).float()
    times[times > num_steps] = 0.5
    ramp = torch.ones((num_steps, *times.shape), dtype=_DTYPE, device=times.device)
    offset = 0
    if (times == 0).any():
        ramp[0] = torch.where(times == 0, ramp[0], ramp[0] * 0)
        times[times == 0] = 0.5
        offset = 1
    for step in range(num_steps - offset):
        ramp[step + offset] = (step + offset) / times
    ramp = ramp * (on_target - off_target) + off_target
    ramp[ramp > on_target] = off_target
    return ramp


def delta(data: Tensor, threshold=0.1, padding=False, off_spike=False) -> Tensor:
    """Delta modulation over the first (time) dimension of ``data``.

    S(t) = 1 where data(t) - data(t-1) >= threshold; data(-1) = 0, or data(0) with ``padding=True``.
    """
    if not isinstance(data, Tensor) or data.dim() < 1 or data.shape[0] == 0:
        raise ValueError("spikegen.delta: data must be a tensor [T, ...] with at least one time step")
    first = data[:1] if padding else torch.zeros_like(data[:1])
    previous = torch.cat((first, data))[:-1]
    change = data - previous
    on = torch.ones_like(data) * (change >= threshold)
    if not off_spike:
        return on
    return on + -torch.ones_like(data) * (change <= -threshold)
