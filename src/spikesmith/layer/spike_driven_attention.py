"""Spike-driven self-attention (SDSA), the Spike-driven Transformer **v1** (Yao et al., NeurIPS 2023).

This is SDT v1's SDSA (the paper's "SDSA-3", the version its models use), not SDT-v2's (Meta-SpikeFormer,
ICLR 2024, which goes back to ``Q K^T V`` with a separate re-parameterised design):

    SDSA(Q, K, V) = Q ⊗ SN(SUM_c(K ⊗ V))

with ⊗ the Hadamard product and SUM_c the column sum of the L x D matrix ``K ⊗ V``: for each channel,
the number of tokens where K and V both spike. SN has threshold 0.5 (the paper's code), so a channel is
kept when any token has K and V spiking there (with LIF, tau = 2, the first step's H is the count / 2).
The result masks Q. Only masks (⊗ of spikes: an AND) and additions (the column sum) remain; no product
of two tensors and nothing that grows with L^2.

Heads split the channels, but every step is per channel, so the heads do not change the result (they are
kept for the interface and the other layers' layout).

With ``shortcut='membrane'`` (the paper's architecture) the layer starts with a neuron on the
membrane-like input U and ends with ``BN(Linear(.))``, to be added to U.

>>> sdsa = SpikeDrivenSelfAttention(64, num_heads=4, shortcut="membrane")
>>> sdsa(torch.randn(4, 2, 49, 64)).shape
torch.Size([4, 2, 49, 64])
"""

from __future__ import annotations

from typing import Optional

from torch import Tensor

from ._attention import NeuronFactory
from .attention_base import SpikingAttention


def sdsa_column_sum(k: Tensor, v: Tensor) -> Tensor:
    """``SUM_c(K ⊗ V)`` on ``[..., h, L, d]``: per channel, the tokens where K and V both spike; ``[..., h, 1, d]``."""
    return (k * v).sum(dim=-2, keepdim=True)


class SpikeDrivenSelfAttention(SpikingAttention):
    """SDT v1's SDSA on ``[T, N, L, D]`` (see the module docstring).

    Args: see :class:`~spikesmith.layer.attention_base.SpikingAttention` (default ``shortcut='membrane'``,
    as in the paper).
    """

    def __init__(self, dim: int, num_heads: int = 8, attn_drop: float = 0.0, shortcut: str = "membrane",
                 attn_threshold: float = 0.5, neuron: Optional[NeuronFactory] = None, step_mode: str = "m"):
        super().__init__(dim, num_heads, attn_drop, shortcut, attn_threshold, neuron, step_mode)

    def attend(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        return q * self.attn_neuron(sdsa_column_sum(k, v))
