"""Spikformer (Zhou et al., ICLR 2023): SPS stem, blocks of spiking self-attention and a spiking MLP with
spike-element-wise shortcuts, a linear head on the mean token.

    X = SPS(I);  X' = X + SSA(X);  X'' = X' + MLP(X');  ...;  Y[t] = Linear(mean over tokens of X[t])

``SSA = SN(Q K^T V * 0.125)`` with Q, K, V = SN(BN(Linear(X))) (``layer.SpikingSelfAttention``). The
defaults are a small network for 28 x 28 images on a CPU; the paper's are in :data:`PAPER`:

    CIFAR-10/100  (32 x 32, T = 4):   Spikformer-4-384:  depth=4, dim=384, heads=12, patch_size=4
    ImageNet      (224 x 224, T = 4): Spikformer-8-512:  depth=8, dim=512, heads=8,  patch_size=16

SNN input ``[T, N, C, H, W]`` -> ``[T, N, classes]``; the ANN twin (``ann=True``): ``[N, C, H, W]`` -> logits,
softmax attention and ``activation`` in place of each neuron.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from torch import nn

from .options import option
from .registry import MODELS
from .transformer_family import SpikingTransformer, SpikingTransformerConfig, TransformerBuilder

PAPER = {"cifar": {"depth": 4, "dim": 384, "heads": 12, "patch_size": 4, "mlp_ratio": 4.0},
         "imagenet": {"depth": 8, "dim": 512, "heads": 8, "patch_size": 16, "mlp_ratio": 4.0}}


@dataclass
class SpikformerConfig(SpikingTransformerConfig):
    attention: str = option("ssa", "the attention in every block: Spikformer's SSA, or 'identity' (the ablation "
                                   "without token mixing)", ("ssa", "identity"))


_D = SpikformerConfig


@MODELS.register("spikformer", config=SpikformerConfig)
class Spikformer(SpikingTransformer):
    """Spikformer: SPS stem, SSA + MLP blocks with spike-element-wise shortcuts (``spikesmith.models.spikformer``)."""

    shortcut = "spike"

    def __init__(self, in_channels: int = 1, num_classes: int = 10, depth: int = _D.depth, dim: int = _D.dim,
                 heads: int = _D.heads, patch_size: int = _D.patch_size, mlp_ratio: float = _D.mlp_ratio,
                 attn_drop: float = _D.attn_drop, attention: str = _D.attention, neuron: str = _D.neuron,
                 surrogate: Optional[str] = _D.surrogate, tau: Optional[float] = _D.tau,
                 detach_reset: bool = _D.detach_reset, ann: bool = False, activation: str = "relu"):
        config = SpikformerConfig(depth=depth, dim=dim, heads=heads, patch_size=patch_size, mlp_ratio=mlp_ratio,
                                  attn_drop=attn_drop, attention=attention, neuron=neuron, surrogate=surrogate,
                                  tau=tau, detach_reset=detach_reset)
        b = TransformerBuilder(ann, config, activation, self.shortcut)
        blocks = nn.Sequential(*(b.block(config.attention, dim) for _ in range(depth)))
        super().__init__(b, b.stem(in_channels, dim, patch_size), blocks, dim, num_classes)
