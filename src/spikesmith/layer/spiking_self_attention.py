"""Spiking self-attention (SSA), Spikformer (Zhou et al., ICLR 2023).

Q, K and V are spike tensors, each ``SN(BN(X W))``; per head (d = D / h channels)

    SSA(Q, K, V) = SN(Q K^T V * s)           no softmax: every entry of Q K^T is already >= 0

with the scale s (0.125 in the paper) and a neuron of threshold 0.5, then the output projection
``SN(BN(Linear(.)))``. ``Q K^T`` counts, for each pair of tokens, the channels where both spike (an
integer in 0..d); ``(Q K^T) V`` adds those counts over the tokens where V spikes. Both products multiply
two run-time tensors: on binary spikes a product is an AND and the sums are additions, but the number
of them grows with L^2 d (see ``spikesmith.analysis``, which counts them).

>>> ssa = SpikingSelfAttention(64, num_heads=4)           # step_mode='m'
>>> ssa(torch.rand(4, 2, 49, 64)).shape                   # [T, N, tokens, dim]
torch.Size([4, 2, 49, 64])
"""

from __future__ import annotations

from typing import Optional

from torch import Tensor

from ._attention import NeuronFactory
from .attention_base import SpikingAttention


def ssa_scores(q: Tensor, k: Tensor, v: Tensor, scale: float) -> Tensor:
    """``Q K^T V * scale`` on per-head tensors ``[..., h, L, d]`` (before the attention neuron)."""
    return (q @ k.transpose(-2, -1)) @ v * scale


class SpikingSelfAttention(SpikingAttention):
    """Spikformer's SSA on ``[T, N, L, D]`` (see the module docstring).

    Args:
        dim, num_heads, attn_drop, shortcut, attn_threshold, neuron, step_mode: see
            :class:`~spikesmith.layer.attention_base.SpikingAttention`.
        scale: s in ``SN(Q K^T V s)`` (Spikformer: 0.125).
    """

    def __init__(self, dim: int, num_heads: int = 8, scale: float = 0.125, attn_drop: float = 0.0,
                 shortcut: str = "spike", attn_threshold: float = 0.5, neuron: Optional[NeuronFactory] = None,
                 step_mode: str = "m"):
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not scale > 0:
            raise ValueError(f"SpikingSelfAttention: scale must be a number > 0, got {scale!r}")
        super().__init__(dim, num_heads, attn_drop, shortcut, attn_threshold, neuron, step_mode)
        self.scale = float(scale)

    def attend(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        return self.attn_neuron(ssa_scores(q, k, v, self.scale))

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, scale={self.scale}"
