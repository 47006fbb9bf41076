"""Fixed integer delays: ``Delay`` per channel (axonal) and ``DelayedLinear`` per synapse.

``Delay(delays)``: Y[t, n, ...f] = X[t - d_f, n, ...f], ``delays`` of the feature shape (or
broadcastable to it: one per channel ``[C, 1, 1]``, one for all). ``DelayedLinear(in, out, delays)``:
a linear layer whose every synapse has its own delay, ``delays`` of shape ``[out, in]``:

    Y[t] = sum_d  W_d X[t - d]  + b,     W_d = W where delays == d, 0 elsewhere

Zeros are shifted in before the first step. In ``step_mode='m'`` (input ``[T, N, ...]``) the sequence
is shifted once per distinct delay (``spikesmith.dynamics.delay``; no T-fold copy); a delay of T steps
or more would give only zeros and is an error. In ``step_mode='s'`` the past inputs are state: a ring
of the last ``max_delay`` inputs (references, not copies), which ``reset()`` empties, so a loop of
single steps equals one multi-step call.

>>> delay = Delay(torch.tensor([0, 2, 5]), step_mode="m")
>>> delay(spikes)                # spikes [T, N, 3]: channel 1 two steps later, channel 2 five
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor, nn

from ..dynamics.delay import delay_channels, delayed_linear, delayed_linear_step
from ..module import MemoryModule
from ._seq import check_seq, check_tensor

__all__ = ["Delay", "DelayedLinear", "check_delays", "check_fits"]


def check_delays(delays, owner: str) -> Tensor:
    """``delays`` (an int, a sequence or a tensor) as a long tensor; negative or fractional delays are errors."""
    if isinstance(delays, bool):
        raise TypeError(f"{owner}: delays must be whole numbers of steps (an int, a list or a tensor), got a bool")
    try:
        t = torch.as_tensor(delays)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"{owner}: delays must be whole numbers of steps (an int, a list or a tensor), got "
                        f"{type(delays).__name__}") from None
    if t.numel() == 0:
        raise ValueError(f"{owner}: delays is empty; give one delay per channel (or per synapse)")
    if t.is_floating_point():
        if not bool(torch.isfinite(t).all()) or not bool((t == t.round()).all()):
            raise ValueError(f"{owner}: delays must be whole numbers of steps, got {t.flatten()[:6].tolist()}...; "
                             f"round them (LearnableDelay.round_delays() does)")
    elif t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"{owner}: delays must be whole numbers of steps, got dtype {t.dtype}")
    t = t.detach().long().clone()
    if bool((t < 0).any()):
        raise ValueError(f"{owner}: delays must be >= 0 steps (a negative delay would read the future), got "
                         f"min {int(t.min())}")
    return t


def check_fits(max_delay: int, T: int, owner: str) -> None:
    """A delay of ``T`` steps or more leaves nothing of a ``T``-step sequence: an error naming the fix."""
    if max_delay >= T:
        raise ValueError(f"{owner}: a delay of {max_delay} steps does not fit a sequence of T={T} steps (the output "
                         f"would be all zeros from those synapses); use delays below {T} (lower max_delay) or longer "
                         f"sequences")


class _PastInputs(MemoryModule):
    """The single-step state of a delay: ``history[d]`` is the input of d steps ago (``history[0]`` now)."""

    def __init__(self, step_mode: str):
        super().__init__(step_mode)
        self.register_memory("history", None)

    @property
    def max_delay(self) -> int:
        raise NotImplementedError

    def _push(self, x: Tensor) -> tuple:
        history: Optional[tuple] = self.history
        if history is None:
            history = (None,) * self.max_delay
        else:
            if history[0].shape != x.shape:
                raise ValueError(f"{self.layer_name()}: input of shape {list(x.shape)} differs from the earlier steps' "
                                 f"{list(history[0].shape)}; call spikesmith.functional.reset_net(net) between batches")
            history = history[: self.max_delay]
        self.history = (x, *history)
        return self.history

    def detach(self) -> None:
        if self.history is not None:
            self.history = tuple(None if h is None else h.detach() for h in self.history)


class Delay(_PastInputs):
    """Integer delays per channel: ``Y[t, n, ...f] = X[t - delays[...f], n, ...f]`` (see the module docstring).

    Args:
        delays: whole numbers of steps >= 0, of one step's feature shape (``[C]``, ``[C, H, W]``) or
            broadcastable to it (``[C, 1, 1]``, a single int).
        step_mode: ``'s'`` (input ``[N, ...]``) or ``'m'`` (input ``[T, N, ...]``).
    """

    def __init__(self, delays, step_mode: str = "s"):
        super().__init__(step_mode)
        self.register_buffer("delays", check_delays(delays, type(self).__name__))

    @property
    def max_delay(self) -> int:
        return int(self.delays.max())

    def _check_features(self, feature_shape: torch.Size, layout: str) -> None:
        try:
            ok = torch.broadcast_shapes(self.delays.shape, feature_shape) == feature_shape
        except RuntimeError:
            ok = False
        if not ok:
            raise ValueError(f"{self.layer_name()}: delays of shape {list(self.delays.shape)} do not broadcast to the "
                             f"features of the input {layout} (shape {list(feature_shape)}); give one delay per "
                             f"feature (or per channel, [C, 1, 1])")

    def forward(self, x: Tensor) -> Tensor:
        if self.step_mode == "m":
            check_seq(x, self, "[T, N, ...]")
            self._check_features(x.shape[2:], "[T, N, ...]")
            check_fits(self.max_delay, x.shape[0], self.layer_name())
            return delay_channels(x, self.delays)
        check_tensor(x, self)
        self._check_features(x.shape[1:], "[N, ...]")
        history = self._push(x)
        delays = self.delays.expand(x.shape[1:])
        out = torch.zeros_like(x)
        for d in torch.unique(delays).tolist():
            if history[d] is not None:
                out = torch.where(delays == d, history[d], out)
        return out

    def extra_repr(self) -> str:
        d = self.delays
        shown = d.tolist() if d.numel() <= 8 else f"tensor{list(d.shape)}, max {int(d.max())}"
        return f"delays={shown}, step_mode={self.step_mode!r}"


class DelayedLinear(_PastInputs):
    """A linear layer with an integer delay per synapse: ``Y[t] = sum_d W_d X[t - d] + b``.

    Args:
        in_features, out_features: as ``nn.Linear`` (the weight is initialised as there).
        delays: whole numbers of steps >= 0, shape ``[out_features, in_features]`` (or broadcastable).
        bias: add a learned bias.
        step_mode: ``'s'`` (input ``[N, in_features]``) or ``'m'`` (input ``[T, N, in_features]``).
    """

    def __init__(self, in_features: int, out_features: int, delays, bias: bool = True, step_mode: str = "s"):
        super().__init__(step_mode)
        owner = type(self).__name__
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{owner}: {name} must be a positive int, got {v!r}")
        self.in_features, self.out_features = in_features, out_features
        delays = check_delays(delays, owner)
        try:
            delays = delays.expand(out_features, in_features).clone()
        except RuntimeError:
            raise ValueError(f"{owner}: delays of shape {list(delays.shape)} do not broadcast to the synapses' shape "
                             f"[out_features, in_features] = [{out_features}, {in_features}]") from None
        self.register_buffer("delays", delays)
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.empty(out_features)) if bias else None
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(in_features)
            nn.init.uniform_(self.bias, -bound, bound)

    @property
    def max_delay(self) -> int:
        return int(self.delays.max())

    def _check(self, x: Tensor, seq: bool) -> None:
        if seq:
            check_seq(x, self, "[T, N, in_features]", min_dims=3)
        else:
            check_tensor(x, self)
        if x.shape[-1] != self.in_features:
            raise ValueError(f"{self.layer_name()}: expects {self.in_features} input features (the last dim), got "
                             f"shape {list(x.shape)}")

    def forward(self, x: Tensor) -> Tensor:
        if self.step_mode == "m":
            self._check(x, True)
            check_fits(self.max_delay, x.shape[0], self.layer_name())
            return delayed_linear(x, self.weight, self.delays, self.bias)
        self._check(x, False)
        return delayed_linear_step(list(self._push(x)), self.weight, self.delays, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, max_delay={self.max_delay}, "
                f"distinct_delays={int(torch.unique(self.delays).numel())}, bias={self.bias is not None}, "
                f"step_mode={self.step_mode!r}")
