"""Synapse adapters: the sums of outer products that every trace rule needs, for each layer type.

A trace rule's weight change is a sum over time and batch of post x pre products,

    Linear  W [out, in]:            dW[j, i]    = sum_{t, n}    P[t, n, j] Q[t, n, i]
    Conv2d  W [out, in/g, kh, kw]:  dW[o, c, u, v] = sum_{t, n, y, x} P[t, n, o, y, x] Q[t, n, c, y*s + u*d - p, ...]

where ``P`` lives on the post-synaptic neurons (the layer's output) and ``Q`` on the
pre-synaptic ones (its input). For a Linear layer this is one matrix product over the
``(T N) x out`` and ``(T N) x in`` matrices; for a convolution it is exactly the weight gradient
of the convolution (``torch.nn.grad.conv2d_weight``), with time folded into the batch.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.grad import conv2d_weight

SUPPORTED = (nn.Linear, nn.Conv2d)


def check_synapse(synapse, owner: str) -> nn.Module:
    if not isinstance(synapse, SUPPORTED):
        raise TypeError(
            f"{owner}: STDP works on Linear and Conv2d synapses (torch.nn or spikesmith.layer), got "
            f"{type(synapse).__name__}; put the plastic weights in a Linear or Conv2d layer"
        )
    if isinstance(synapse, nn.Conv2d) and synapse.padding_mode != "zeros":
        raise ValueError(f"{owner}: Conv2d synapses with padding_mode={synapse.padding_mode!r} are not supported; "
                         f"use padding_mode='zeros'")
    if isinstance(synapse, nn.Conv2d) and isinstance(synapse.padding, str):
        raise ValueError(f"{owner}: Conv2d synapses need a numeric padding, got padding={synapse.padding!r}")
    return synapse


def fan_in(synapse: nn.Module) -> int:
    """Inputs per post-synaptic neuron: ``in_features`` or ``in_channels / groups * kh * kw``."""
    return int(synapse.weight[0].numel())


def check_pair(synapse: nn.Module, pre: Tensor, post: Tensor, owner: str) -> None:
    """``pre`` and ``post`` (``T x N x ...``) must be the synapse's input and its own output shape."""
    if isinstance(synapse, nn.Linear):
        ok = pre.shape[-1] == synapse.in_features and post.shape[-1] == synapse.out_features \
            and pre.shape[:-1] == post.shape[:-1]
        want = f"[T, N, ..., {synapse.in_features}] -> [T, N, ..., {synapse.out_features}]"
    else:
        ok = pre.dim() == 5 and post.dim() == 5 and pre.shape[:2] == post.shape[:2] \
            and pre.shape[2] == synapse.in_channels and post.shape[2] == synapse.out_channels
        if ok:
            expected = conv_output_shape(synapse, pre.shape[-2:])
            ok = tuple(post.shape[-2:]) == expected
        want = f"[T, N, {synapse.in_channels}, H, W] -> [T, N, {synapse.out_channels}, H', W'] (the convolution's output)"
    if not ok:
        raise ValueError(
            f"{owner}: the recorded pre-synaptic spikes {list(pre.shape)} and post-synaptic spikes {list(post.shape)} "
            f"do not fit the {type(synapse).__name__} synapse, which needs {want}; the neuron must receive the "
            f"synapse's output directly (no pooling, flattening or other layer in between)"
        )


def conv_output_shape(conv: nn.Conv2d, hw) -> tuple[int, int]:
    out = []
    for i, size in enumerate(hw):
        k, s, p, d = conv.kernel_size[i], conv.stride[i], conv.padding[i], conv.dilation[i]
        out.append((size + 2 * p - d * (k - 1) - 1) // s + 1)
    return tuple(out)


def outer_sum(synapse: nn.Module, post: Tensor, pre: Tensor) -> Tensor:
    """``sum_{t, n, positions} post x pre`` in the weight's shape (``post``/``pre``: ``T x N x ...``)."""
    if isinstance(synapse, nn.Linear):
        p = post.reshape(-1, post.shape[-1])
        q = pre.reshape(-1, pre.shape[-1])
        return p.t().matmul(q)
    return conv2d_weight(pre.flatten(0, 1), synapse.weight.shape, post.flatten(0, 1), stride=synapse.stride,
                         padding=synapse.padding, dilation=synapse.dilation, groups=synapse.groups)


def outer_sum_per_sample(synapse: nn.Module, post: Tensor, pre: Tensor) -> Tensor:
    """Like :func:`outer_sum` but kept apart for each sample: ``N x weight shape``."""
    if isinstance(synapse, nn.Linear):
        p = post.movedim(1, 0).reshape(post.shape[1], -1, post.shape[-1])
        q = pre.movedim(1, 0).reshape(pre.shape[1], -1, pre.shape[-1])
        return torch.bmm(p.transpose(1, 2), q)
    return torch.stack([outer_sum(synapse, post[:, n:n + 1], pre[:, n:n + 1]) for n in range(post.shape[1])])
