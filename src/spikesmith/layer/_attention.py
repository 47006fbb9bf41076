"""Helpers the attention layers share: checks, heads, the per-token projection, the default neuron.

A token sequence is ``[T, N, L, D]`` in ``step_mode='m'`` (``[N, L, D]`` in ``'s'``): L tokens of D
channels. Heads split the channels: ``[..., L, D] -> [..., h, L, D/h]`` (head ``j`` owns channels
``j*D/h .. (j+1)*D/h - 1``) and merge back in the same order.

``TokenProjection`` is what every attention layer and MLP block of the spiking transformers builds on:
``Y = SN(BN(X W^T))``: a linear map of each token, batch norm over the channel with the statistics of
all tokens, samples and steps (SpikingJelly's ``BatchNorm1d`` on ``[T*N, D, L]``, as the papers' code
does), then an optional neuron.
"""

from __future__ import annotations

from typing import Callable, Optional

from typing import Any

from torch import Tensor, nn

from ..module import StepModule, check_dims
from ..neuron import LIFNode

NeuronFactory = Callable[..., nn.Module]

SHORTCUTS = ("spike", "membrane")
"""Where a block's neurons sit, which decides what its residual adds:

``'spike'`` (Spikformer, QKFormer: spike-element-wise): every branch ends in a neuron, the residual adds
spikes (``X + SN(...)``, integers); ``'membrane'`` (SDT): every branch starts with a neuron and ends in
batch norm, the residual adds real values that play the role of membrane potentials
(``U + BN(Conv(SN(U)))``), so no sum of spikes ever reaches a synapse.
"""


def default_neuron(**overrides) -> nn.Module:
    """The papers' neuron: multi-step LIF, tau = 2, hard reset, detached reset (``overrides`` on top)."""
    return LIFNode(**{"tau": 2.0, "detach_reset": True, "step_mode": "m", **overrides})


def neuron_factory(neuron: Optional[NeuronFactory]) -> NeuronFactory:
    """``neuron`` (a callable taking keyword overrides such as ``v_threshold``) or the default LIF."""
    if neuron is None:
        return default_neuron
    if not callable(neuron):
        raise TypeError(f"neuron must be a callable that builds a neuron module (e.g. "
                        f"functools.partial(neuron.LIFNode, tau=2.0, step_mode='m')), got {type(neuron).__name__}")
    return neuron


def check_shortcut(owner: str, shortcut: str) -> str:
    if shortcut not in SHORTCUTS:
        raise ValueError(f"{owner}: shortcut must be 'spike' (spike-element-wise, Spikformer) or 'membrane' "
                         f"(membrane shortcut, Spike-driven Transformer), got {shortcut!r}")
    return shortcut


def check_heads(owner: str, dim: int, num_heads: int) -> int:
    """``dim // num_heads``, or a clear error when the heads do not split the channels evenly."""
    for name, value in (("dim", dim), ("num_heads", num_heads)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    if dim % num_heads:
        near = [h for h in range(1, dim + 1) if dim % h == 0 and abs(h - num_heads) <= max(2, num_heads)]
        raise ValueError(f"{owner}: dim={dim} is not divisible by num_heads={num_heads}; every head takes "
                         f"dim / num_heads channels. Heads that divide {dim}: {', '.join(map(str, near))}")
    return dim // num_heads


def check_probability(owner: str, name: str, p: float) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
        raise ValueError(f"{owner}: {name} must be in [0, 1), got {p!r}")
    return float(p)


def check_tokens(x, module: StepModule, dim: int) -> None:
    """``x`` is ``[T, N, L, D]`` (``'m'``) or ``[N, L, D]`` (``'s'``) with ``D == dim``."""
    multi = module.step_mode == "m"
    layout = "[T, N, tokens, dim]" if multi else "[N, tokens, dim]"
    check_dims(x, module, layout, dims=(4,) if multi else (3,), step_mode=module.step_mode)
    if x.shape[-1] != dim:
        raise ValueError(f"{module.layer_name()} in step_mode={module.step_mode!r} expects input of shape {layout} "
                         f"with dim={dim} in the last place, got shape {list(x.shape)}")


def check_spikes(x: Tensor, owner: str, what: str) -> None:
    """Raise unless every value of ``x`` is 0 or 1: the papers' Q, K and V are spike tensors.

    A neuron that emits something else (a non-spiking readout, an ANN activation given as ``neuron``)
    would turn the masks and additions of spike-driven attention into multiplications.
    """
    bad = (x != 0) & (x != 1)
    if bool(bad.any()):
        sample = x[bad].flatten()[:3].tolist()
        raise ValueError(f"{owner}: {what} must be spikes (0 or 1) as the paper defines it, got values such as "
                         f"{sample}; build it with a spiking neuron (the neuron argument)")


def split_heads(x: Tensor, num_heads: int) -> Tensor:
    """``[..., L, D] -> [..., h, L, D/h]``."""
    return x.unflatten(-1, (num_heads, x.shape[-1] // num_heads)).transpose(-3, -2)


def merge_heads(x: Tensor) -> Tensor:
    """``[..., h, L, d] -> [..., L, h*d]`` (the inverse of :func:`split_heads`)."""
    return x.transpose(-3, -2).flatten(-2)


class StepModeTree(StepModule):
    """A step module whose ``step_mode`` also sets every step module below it (its neurons, dropout,
    layers), so that one switch, at construction or later, keeps the whole block consistent."""

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name == "step_mode" and "_modules" in self.__dict__:
            for m in self.modules():
                if m is not self and isinstance(m, StepModule):
                    m.step_mode = value


class TokenBatchNorm(nn.BatchNorm1d):
    """Batch norm over the last dim (channels) of ``[..., L, D]``, statistics over every other dim.

    The same numbers as ``BatchNorm1d`` on ``[T*N, D, L]`` (the papers' layout); any leading dims work,
    so one module serves ``'s'`` and ``'m'``.
    """

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x.reshape(-1, x.shape[-1])).reshape(x.shape)


class TokenProjection(nn.Module):
    """``Y = neuron(BN(X W^T + b))`` on every token of ``[..., L, D_in]`` (the neuron optional).

    Args:
        in_dim, out_dim: channels in and out.
        neuron: a module applied last (a multi-step neuron, or an ANN activation), or None.
        bias: the linear map's bias (the papers leave it out before batch norm).
        norm: batch norm after the linear map.
    """

    def __init__(self, in_dim: int, out_dim: int, neuron: Optional[nn.Module] = None, bias: bool = False,
                 norm: bool = True):
        super().__init__()
        self.linear = nn.Linear(in_dim, out_dim, bias=bias)
        self.bn = TokenBatchNorm(out_dim) if norm else nn.Identity()
        self.neuron = neuron if neuron is not None else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return self.neuron(self.bn(self.linear(x)))


__all__ = ["SHORTCUTS", "StepModeTree", "TokenBatchNorm", "TokenProjection", "check_heads", "check_shortcut", "check_spikes",
           "check_tokens", "default_neuron", "merge_heads", "neuron_factory", "split_heads"]
