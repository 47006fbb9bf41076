"""SpikingJelly's ``activation_based.layer.attention``: the attention blocks its newer model zoo builds on.

All run multi-step, time first:

- ``TemporalWiseAttention(T, reduction=16, dimension=4)``: one weight per time step, from a shared MLP
  over the average and the max of each step (``[T, N, M]`` with ``dimension=2``, ``[T, N, C, H, W]`` with 4);
- ``MultiDimensionalAttention(T, C, reduction_t, reduction_c, kernel_size, use_temporal, use_channel,
  use_spatial)``: temporal, channel and spatial attention applied one after the other, then a ReLU;
- ``SpikingSelfAttention(dim, num_heads)`` (Spikformer's SSA): spiking Q, K, V from 1x1 conv + BN, then
  V K^T Q scaled by 0.125, through a neuron of threshold 0.5, projected by conv + BN + neuron; ``[T, N, C, L]``;
- ``QKAttention(dim, num_heads, qka_type='token' | 'channel')`` (QKFormer's; ``TokenQKAttention``,
  ``ChannelQKAttention``): the spiking Q summed over channels (token) or tokens (channel) gates K;
- ``SpikeDrivenSelfAttention(dim, num_heads)`` (the Spike-driven Transformer's): spiking Q, K, V from 1x1
  conv + BN, the sum over tokens of K * V through a neuron gates Q, projected and added to the input;
  ``[T, N, C, H, W]``.

The neurons come from ``spiking_neuron`` (with the extra keyword options), or are ``neuron.LIFNode(tau=2,
detach_reset=True)`` (threshold 0.5 for the attention neuron). Sub-modules have SpikingJelly's names and
are created in its order, so a seeded model has the same weights and a SpikingJelly checkpoint loads.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import torch
from torch import Tensor, nn

from .. import neuron
from .._neuron import _make_multi_step_neuron
from ..base import MultiStepModule
from . import BatchNorm2d, Conv2d, SeqToANNContainer

_LIF = {"tau": 2.0, "detach_reset": True}
_ATTENTION_LIF = {"tau": 2.0, "v_threshold": 0.5, "detach_reset": True}


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _shared_mlp(conv, width: int, reduction: int) -> nn.Sequential:
    return nn.Sequential(conv(width, width // reduction), nn.ReLU(), conv(width // reduction, width))


class _AxisAttention(nn.Module):
    """Weights along dim 1 of ``[N, A, B, H, W]`` (or dim 2 with ``channel_axis``), from a 1x1x1-conv MLP
    over the average and the max of the other dimensions."""

    def __init__(self, in_planes: int, ratio: int, channel_axis: bool = False):
        super().__init__()
        self.channel_axis = channel_axis
        self.avg_pool = nn.AdaptiveAvgPool3d(1)
        self.max_pool = nn.AdaptiveMaxPool3d(1)
        self.sharedMLP = _shared_mlp(lambda i, o: nn.Conv3d(i, o, 1, bias=False), in_planes, ratio)

    def forward(self, x: Tensor) -> Tensor:
        y = x.transpose(1, 2) if self.channel_axis else x
        weight = torch.sigmoid(self.sharedMLP(self.avg_pool(y)) + self.sharedMLP(self.max_pool(y)))
        return weight.transpose(1, 2) if self.channel_axis else weight


class _SpatialAttention(nn.Module):
    """One weight per pixel of ``[N, T, C, H, W]``, from a conv over the mean and max of all T x C maps."""

    def __init__(self, kernel_size: int):
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        maps = x.flatten(1, 2)
        pooled = torch.cat((maps.mean(dim=1, keepdim=True), maps.max(dim=1, keepdim=True).values), dim=1)
        return torch.sigmoid(self.conv(pooled)).unsqueeze(1)


class TemporalWiseAttention(nn.Module, MultiStepModule):
    """SpikingJelly's ``TemporalWiseAttention`` (see the module docstring)."""

    def __init__(self, T: int, reduction: int = 16, dimension: int = 4):
        super().__init__()
        _check(dimension in (2, 4), f"TemporalWiseAttention: dimension must be 2 ([T, N, M]) or 4 ([T, N, C, H, W]), "
                                    f"got {dimension!r}")
        _check(T >= reduction, f"TemporalWiseAttention: reduction={reduction} cannot exceed T={T}")
        self.step_mode = "m"
        pools = (nn.AdaptiveAvgPool1d, nn.AdaptiveMaxPool1d) if dimension == 2 else (nn.AdaptiveAvgPool3d,
                                                                                     nn.AdaptiveMaxPool3d)
        self.avg_pool, self.max_pool = pools[0](1), pools[1](1)
        self.sharedMLP = _shared_mlp(lambda i, o: nn.Linear(i, o, bias=False), T, reduction)

    def forward(self, x_seq: Tensor) -> Tensor:
        _check(x_seq.dim() in (3, 5), f"TemporalWiseAttention: expected [T, N, M] or [T, N, C, H, W], got "
                                      f"{list(x_seq.shape)}")
        x = x_seq.transpose(0, 1)
        n, t = x.shape[:2]
        weight = torch.sigmoid(self.sharedMLP(self.avg_pool(x).view(n, t)) + self.sharedMLP(self.max_pool(x).view(n, t)))
        return (x * weight.view(n, t, *([1] * (x.dim() - 2)))).transpose(0, 1)


class MultiDimensionalAttention(nn.Module, MultiStepModule):
    """SpikingJelly's ``MultiDimensionalAttention`` (see the module docstring); ``[T, N, C, H, W]``."""

    def __init__(self, T: int, C: int, reduction_t: int = 16, reduction_c: int = 16, kernel_size=3,
                 use_temporal: bool = True, use_channel: bool = True, use_spatial: bool = True):
        super().__init__()
        _check(use_temporal or use_channel or use_spatial,
               "MultiDimensionalAttention: at least one of use_temporal, use_channel, use_spatial must be True")
        _check(not use_temporal or T >= reduction_t, f"MultiDimensionalAttention: reduction_t={reduction_t} "
                                                     f"cannot exceed T={T}")
        _check(not use_channel or C >= reduction_c, f"MultiDimensionalAttention: reduction_c={reduction_c} "
                                                    f"cannot exceed C={C}")
        _check(kernel_size in (3, 7), f"MultiDimensionalAttention: kernel_size must be 3 or 7, got {kernel_size!r}")
        self.ta = _AxisAttention(T, reduction_t) if use_temporal else None
        self.ca = _AxisAttention(C, reduction_c, channel_axis=True) if use_channel else None
        self.sa = _SpatialAttention(kernel_size) if use_spatial else None
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        _check(x.dim() == 5, f"MultiDimensionalAttention: expected [T, N, C, H, W], got {list(x.shape)}")
        out = x.transpose(0, 1)
        for attention in (self.ta, self.ca, self.sa):
            if attention is not None:
                out = attention(out) * out
        return self.relu(out).transpose(0, 1)


def _check_heads(owner: str, dim: int, num_heads: int) -> None:
    _check(dim % num_heads == 0, f"{owner}: dim={dim} must be a multiple of num_heads={num_heads}")


def _conv1d_bn(dim_in: int, dim_out: int) -> SeqToANNContainer:
    return SeqToANNContainer(nn.Conv1d(dim_in, dim_out, kernel_size=1, stride=1, bias=False), nn.BatchNorm1d(dim_out))


class SpikingSelfAttention(nn.Module):
    """SpikingJelly's ``SpikingSelfAttention`` (Spikformer's SSA, see the module docstring); ``[T, N, C, L]``."""

    def __init__(self, dim: int, num_heads: int = 8, spiking_neuron: Optional[Callable[..., neuron.BaseNode]] = None,
                 **kwargs: Any) -> None:
        super().__init__()
        _check_heads("SpikingSelfAttention", dim, num_heads)
        self.dim, self.num_heads, self.head_dim, self.scale = dim, num_heads, dim // num_heads, 0.125
        self.qkv_conv_bn = _conv1d_bn(dim, 3 * dim)
        self.qkv_lif = _make_multi_step_neuron(spiking_neuron, kwargs, _LIF)
        self.attn_lif = _make_multi_step_neuron(spiking_neuron, kwargs, _ATTENTION_LIF)
        self.proj_conv_bn = _conv1d_bn(dim, dim)
        self.proj_lif = _make_multi_step_neuron(spiking_neuron, kwargs, _LIF)

    def forward(self, x_seq: Tensor) -> Tensor:
        _check(x_seq.dim() == 4, f"SpikingSelfAttention: expected [T, N, C, L], got {list(x_seq.shape)}")
        t, n, _, length = x_seq.shape
        qkv = self.qkv_lif(self.qkv_conv_bn(x_seq))
        width = qkv.shape[2] // 3
        _check_heads("SpikingSelfAttention", width, self.num_heads)
        q, k, v = qkv.reshape(t, n, 3 * self.num_heads, width // self.num_heads, length).chunk(3, dim=2)
        mixed = ((v @ k.transpose(-2, -1)) @ q) * self.scale
        out = self.attn_lif(mixed).reshape(t, n, width, length)
        return self.proj_lif(self.proj_conv_bn(out))

    def extra_repr(self) -> str:
        return f"dim={self.dim}, num_heads={self.num_heads}"


class QKAttention(nn.Module):
    """SpikingJelly's ``QKAttention`` (QKFormer's, see the module docstring); ``[T, N, C, L]``."""

    def __init__(self, dim: int, num_heads: int = 8, qka_type: str = "token",
                 spiking_neuron: Optional[Callable[..., neuron.BaseNode]] = None, **kwargs: Any) -> None:
        super().__init__()
        _check_heads(type(self).__name__, dim, num_heads)
        _check(qka_type in ("token", "channel"), f"{type(self).__name__}: qka_type must be 'token' or 'channel', "
                                                 f"got {qka_type!r}")
        self.dim, self.num_heads, self.head_dim, self._qka_type = dim, num_heads, dim // num_heads, qka_type
        self.qk_conv_bn = _conv1d_bn(dim, 2 * dim)
        self.qk_lif = _make_multi_step_neuron(spiking_neuron, kwargs, _LIF)
        self.sum_dim = 3 if qka_type == "token" else 4        # over a head's channels, or over the tokens
        self.attn_lif = _make_multi_step_neuron(spiking_neuron, kwargs, _ATTENTION_LIF)
        self.proj_conv_bn = _conv1d_bn(dim, dim)
        self.proj_lif = _make_multi_step_neuron(spiking_neuron, kwargs, _LIF)

    @property
    def qka_type(self) -> str:
        return self._qka_type

    def forward(self, x_seq: Tensor) -> Tensor:
        _check(x_seq.dim() == 4, f"{type(self).__name__}: expected [T, N, C, L], got {list(x_seq.shape)}")
        t, n, c, length = x_seq.shape
        qk = self.qk_lif(self.qk_conv_bn(x_seq))
        q, k = qk.reshape(t, n, 2 * self.num_heads, c // self.num_heads, length).chunk(2, dim=2)
        gate = self.attn_lif(q.sum(dim=self.sum_dim, keepdim=True))
        return self.proj_lif(self.proj_conv_bn((gate * k).flatten(2, 3)))

    def extra_repr(self) -> str:
        return f"dim={self.dim}, num_heads={self.num_heads}, qka_type={self.qka_type}"


class TokenQKAttention(QKAttention):
    """``QKAttention`` with ``qka_type='token'``."""

    def __init__(self, dim: int, num_heads: int = 8, spiking_neuron=None, **kwargs: Any) -> None:
        super().__init__(dim, num_heads, qka_type="token", spiking_neuron=spiking_neuron, **kwargs)


class ChannelQKAttention(QKAttention):
    """``QKAttention`` with ``qka_type='channel'``."""

    def __init__(self, dim: int, num_heads: int = 8, spiking_neuron=None, **kwargs: Any) -> None:
        super().__init__(dim, num_heads, qka_type="channel", spiking_neuron=spiking_neuron, **kwargs)


class SpikeDrivenSelfAttention(nn.Module):
    """SpikingJelly's ``SpikeDrivenSelfAttention`` (see the module docstring); ``[T, N, C, H, W]``."""

    def __init__(self, dim: int, num_heads: int = 8, spiking_neuron: Optional[Callable[..., neuron.BaseNode]] = None,
                 **kwargs: Any) -> None:
        super().__init__()
        _check_heads("SpikeDrivenSelfAttention", dim, num_heads)
        self.dim, self.num_heads, self.head_dim = dim, num_heads, dim // num_heads
        self.shortcut_lif = _make_multi_step_neuron(spiking_neuron, kwargs, _LIF)
        for name in ("q", "k", "v"):
            setattr(self, f"{name}_conv", Conv2d(dim, dim, 1, bias=False, step_mode="m"))
            setattr(self, f"{name}_bn", BatchNorm2d(dim, step_mode="m"))
            setattr(self, f"{name}_lif", _make_multi_step_neuron(spiking_neuron, kwargs, _LIF))
        self.attn_lif = _make_multi_step_neuron(spiking_neuron, kwargs, _ATTENTION_LIF)
        self.proj_conv = Conv2d(dim, dim, 1, step_mode="m")
        self.proj_bn = BatchNorm2d(dim, step_mode="m")

    def forward(self, x: Tensor) -> Tensor:
        _check(x.dim() == 5, f"SpikeDrivenSelfAttention: expected [T, N, C, H, W], got {list(x.shape)}")
        t, n, c, h, w = x.shape
        spikes = self.shortcut_lif(x)

        def heads(name: str) -> Tensor:  # [T, N, heads, H*W, head_dim]
            s = getattr(self, f"{name}_lif")(getattr(self, f"{name}_bn")(getattr(self, f"{name}_conv")(spikes)))
            return s.flatten(3).transpose(-1, -2).reshape(t, n, h * w, self.num_heads, self.head_dim).transpose(2, 3)

        q, k, v = heads("q"), heads("k"), heads("v")
        gate = self.attn_lif((k * v).sum(dim=-2, keepdim=True))
        out = (q * gate).transpose(3, 4).reshape(t, n, c, h, w)
        return self.proj_bn(self.proj_conv(out)) + x

    def extra_repr(self) -> str:
        return f"dim={self.dim}, num_heads={self.num_heads}"


__all__ = ["ChannelQKAttention", "MultiDimensionalAttention", "QKAttention", "SpikeDrivenSelfAttention",
           "SpikingSelfAttention", "TemporalWiseAttention", "TokenQKAttention"]
