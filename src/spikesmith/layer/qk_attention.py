"""QKFormer's Q-K attention (Zhou et al., NeurIPS 2024): linear in the number of tokens, no V.

Q and K are spike tensors ``SN(BN(X W))``, split into heads ``[..., h, L, d]``. Per head:

    token attention    A_t = SN(SUM_channels(Q))   ->  [..., h, L, 1]   output  A_t ⊗ K   (tokens kept or masked)
    channel attention  A_c = SN(SUM_tokens(Q))     ->  [..., h, 1, d]   output  A_c ⊗ K   (channels kept or masked)

SN has threshold 0.5 (the paper's code). Only a sum of spikes and a mask of K: the cost is O(L d), against
SSA's O(L^2 d). The output projection is ``SN(BN(Linear(.)))`` (``shortcut='spike'``, as in QKFormer).

>>> QKTokenAttention(64, num_heads=4)(torch.rand(4, 2, 196, 64)).shape
torch.Size([4, 2, 196, 64])
"""

from __future__ import annotations

from typing import Optional

from torch import Tensor

from ._attention import NeuronFactory
from .attention_base import SpikingAttention


class _QKAttention(SpikingAttention):
    projections = ("q", "k")
    #: the dim of ``[..., h, L, d]`` Q is summed over: channels (-1) or tokens (-2)
    summed_dim: int = -1

    def __init__(self, dim: int, num_heads: int = 8, attn_drop: float = 0.0, shortcut: str = "spike",
                 attn_threshold: float = 0.5, neuron: Optional[NeuronFactory] = None, step_mode: str = "m"):
        super().__init__(dim, num_heads, attn_drop, shortcut, attn_threshold, neuron, step_mode)

    def attend(self, q: Tensor, k: Tensor, v: Optional[Tensor] = None) -> Tensor:
        return self.attn_neuron(q.sum(dim=self.summed_dim, keepdim=True)) * k


class QKTokenAttention(_QKAttention):
    """Q-K token attention: ``A = SN(SUM_channels(Q))`` per head and token, output ``A ⊗ K``."""

    summed_dim = -1


class QKChannelAttention(_QKAttention):
    """Q-K channel attention: ``A = SN(SUM_tokens(Q))`` per head and channel, output ``A ⊗ K``."""

    summed_dim = -2
