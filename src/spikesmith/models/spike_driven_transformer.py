"""Spike-driven Transformer (SDT v1, Yao et al., NeurIPS 2023): SPS stem, blocks of spike-driven
self-attention and a spiking MLP with membrane shortcuts, a neuron and a linear head.

    U = SPS(I);  U' = U + SDSA(U);  U'' = U' + MLP(U');  ...;  Y[t] = Linear(SN(mean over tokens of U[t]))

Every branch starts with a neuron and ends in batch norm (``shortcut='membrane'``), so the residual stream
holds real values (membrane potentials) and every synapse receives spikes:
``SDSA(Q, K, V) = Q ⊗ SN(SUM_c(K ⊗ V))`` (``layer.SpikeDrivenSelfAttention``, SDT v1's SDSA, not v2's).
``attention='ssa'`` puts Spikformer's SSA in the same architecture (the SDSA-against-SSA comparison).

Paper configuration (:data:`PAPER`): CIFAR-10 (T = 4) SDT-2-512: depth=2, dim=512, heads=8, patch_size=4;
ImageNet SDT-8-512: depth=8, dim=512, heads=8, patch_size=16. Input and output as ``Spikformer``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from torch import nn

from .options import option
from .registry import MODELS
from .transformer_family import SpikingTransformer, SpikingTransformerConfig, TransformerBuilder

PAPER = {"cifar": {"depth": 2, "dim": 512, "heads": 8, "patch_size": 4, "mlp_ratio": 4.0},
         "imagenet": {"depth": 8, "dim": 512, "heads": 8, "patch_size": 16, "mlp_ratio": 4.0}}


@dataclass
class SpikeDrivenTransformerConfig(SpikingTransformerConfig):
    attention: str = option("sdsa", "the attention in every block: SDT v1's SDSA, Spikformer's SSA, or 'identity' "
                                    "(the ablation without token mixing)", ("sdsa", "ssa", "identity"))


_D = SpikeDrivenTransformerConfig


@MODELS.register("spike_driven_transformer", config=SpikeDrivenTransformerConfig, aliases=("sdt",))
class SpikeDrivenTransformer(SpikingTransformer):
    """Spike-driven Transformer v1: SDSA + MLP blocks with membrane shortcuts
    (``spikesmith.models.spike_driven_transformer``)."""

    shortcut = "membrane"

    def __init__(self, in_channels: int = 1, num_classes: int = 10, depth: int = _D.depth, dim: int = _D.dim,
                 heads: int = _D.heads, patch_size: int = _D.patch_size, mlp_ratio: float = _D.mlp_ratio,
                 attn_drop: float = _D.attn_drop, attention: str = _D.attention, neuron: str = _D.neuron,
                 surrogate: Optional[str] = _D.surrogate, tau: Optional[float] = _D.tau,
                 detach_reset: bool = _D.detach_reset, ann: bool = False, activation: str = "relu"):
        config = SpikeDrivenTransformerConfig(depth=depth, dim=dim, heads=heads, patch_size=patch_size,
                                              mlp_ratio=mlp_ratio, attn_drop=attn_drop, attention=attention,
                                              neuron=neuron, surrogate=surrogate, tau=tau, detach_reset=detach_reset)
        b = TransformerBuilder(ann, config, activation, self.shortcut)
        blocks = nn.Sequential(*(b.block(config.attention, dim) for _ in range(depth)))
        super().__init__(b, b.stem(in_channels, dim, patch_size), blocks, dim, num_classes)
