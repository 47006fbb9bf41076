"""Attention for the spiking transformers' ANN twins and for the token-mixing ablation.

``SoftmaxSelfAttention``: the ANN twin's attention, the same skeleton as the spiking layers (input
activation for the membrane style, Q, K, V = BN(Linear(x)), dropout, output projection ``act(BN(Linear))``
for the spike style) with the usual ``softmax(Q K^T / sqrt(d)) V`` in place of the spiking attention.

``IdentityAttention``: the attention map replaced by the identity, each token keeps its own V (K for a
Q-K layer), so no information moves between tokens; the projections and neurons stay. With it the
model is its stem and per-token MLPs only: the ablation that shows what attention adds.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from ..layer._attention import (NeuronFactory, StepModeTree, TokenProjection, check_heads, check_probability,
                                check_shortcut, check_tokens, merge_heads, neuron_factory, split_heads)
from ..layer.attention_base import SpikingAttention


class SoftmaxSelfAttention(StepModeTree):
    """``softmax(Q K^T / sqrt(d)) V`` per head on ``[..., L, D]``, Q, K, V = BN(Linear(x)) (no activation).

    Args:
        dim, num_heads: channels and heads (``dim`` divisible by ``num_heads``).
        attn_drop: dropout on the attention weights.
        shortcut: ``'spike'`` (activation after the output projection) or ``'membrane'`` (before the
            Q, K, V projections), matching the spiking block it twins.
        neuron: builds the activation (called with keyword overrides it ignores).
    """

    def __init__(self, dim: int, num_heads: int = 8, attn_drop: float = 0.0, shortcut: str = "spike",
                 neuron: Optional[NeuronFactory] = None, step_mode: str = "s"):
        super().__init__(step_mode)
        owner = type(self).__name__
        self.head_dim = check_heads(owner, dim, num_heads)
        self.dim, self.num_heads = dim, num_heads
        self.shortcut = check_shortcut(owner, shortcut)
        build = neuron_factory(neuron)
        self.input_act = build() if shortcut == "membrane" else nn.Identity()
        self.q_proj, self.k_proj, self.v_proj = (TokenProjection(dim, dim) for _ in range(3))
        self.attn_drop = nn.Dropout(check_probability(owner, "attn_drop", attn_drop))
        self.out_proj = TokenProjection(dim, dim, build() if shortcut == "spike" else None, bias=True)
        self.step_mode = step_mode

    def forward(self, x: Tensor) -> Tensor:
        check_tokens(x, self, self.dim)
        s = self.input_act(x)
        q, k, v = (split_heads(p(s), self.num_heads) for p in (self.q_proj, self.k_proj, self.v_proj))
        weights = torch.softmax(q @ k.transpose(-2, -1) / self.head_dim ** 0.5, dim=-1)
        return self.out_proj(merge_heads(self.attn_drop(weights) @ v))


class IdentityAttention(SpikingAttention):
    """A spiking attention whose map is the identity: the output is V (no token mixing)."""

    def attend(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        return v


class IdentityQKAttention(SpikingAttention):
    """A Q-K attention whose mask is all ones: the output is K (no token mixing)."""

    projections = ("q", "k")

    def attend(self, q: Tensor, k: Tensor, v: Optional[Tensor] = None) -> Tensor:
        return k


class SoftmaxIdentityAttention(SoftmaxSelfAttention):
    """The ANN twin of the ablation: the output is V."""

    def forward(self, x: Tensor) -> Tensor:
        check_tokens(x, self, self.dim)
        return self.out_proj(self.v_proj(self.input_act(x)))
