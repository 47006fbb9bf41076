"""QKFormer (Zhou et al., NeurIPS 2024): a hierarchical spiking transformer, Q-K attention on the many
tokens of the first stage, spiking self-attention on the fewer tokens of the second.

    I -> SPS(dim/2, patch/2) -> qk_depth x [X + QKTA(X), + MLP]        (tokens: (H/(P/2)) (W/(P/2)), dim/2)
      -> down-sampling (SN(BN(Conv3x3)), SN(MaxPool(BN(Conv3x3))) + SN(BN(Conv1x1 stride 2)))
      -> (depth - qk_depth) x [X + SSA(X), + MLP]                       (tokens: (H/P) (W/P), dim)
      -> Linear(mean over tokens)

``QKTA`` is ``layer.QKTokenAttention`` (``A = SN(SUM_channels(Q))``, output ``A ⊗ K``; linear in the number
of tokens). Its mask of each token is computed from that token alone, so it selects tokens rather than
moving information between them; ``attention='qk_channel'`` (a channel mask from a sum over all tokens)
does mix them, as the second stage's SSA does. All shortcuts are spike-element-wise.
The paper's network (:data:`PAPER`) has a three-stage stem and its CIFAR model QKFormer-4-384 (T = 4) has
depth=4 (1 + 1 Q-K blocks, 2 SSA), dim=384, heads=8, patch_size=4; ImageNet QKFormer-10-768: depth=10,
dim=768, patch_size=16. This two-stage form keeps its two kinds of attention and its down-sampling with
a residual; the defaults are small (28 x 28 -> 14 x 14 tokens of 32 channels -> 7 x 7 of 64).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from torch import Tensor, nn

from .. import layer
from ..layer._attention import StepModeTree
from ..layer.patch_splitting import check_tiles, map_to_tokens, tokens_to_map
from .options import option
from .registry import MODELS
from .transformer_family import SpikingTransformer, SpikingTransformerConfig, TransformerBuilder

PAPER = {"cifar": {"depth": 4, "qk_depth": 2, "dim": 384, "heads": 8, "patch_size": 4, "mlp_ratio": 4.0},
         "imagenet": {"depth": 10, "qk_depth": 3, "dim": 768, "heads": 8, "patch_size": 16, "mlp_ratio": 4.0}}


@dataclass
class QKFormerConfig(SpikingTransformerConfig):
    attention: str = option("qk_token", "the attention of the first stage's blocks: Q-K token or channel "
                                        "attention, or 'identity' (the ablation: no token mixing in any block)",
                            ("qk_token", "qk_channel", "identity"))

    qk_depth: int = option(1, "blocks with Q-K attention in the first stage (the other depth - qk_depth blocks "
                              "use SSA after the down-sampling)")

    def __post_init__(self):
        super().__post_init__()
        self.check(isinstance(self.qk_depth, int) and 0 <= self.qk_depth <= self.depth,
                   f"qk_depth must be an int in [0, depth={self.depth}], got {self.qk_depth!r}")
        self.check(self.patch_size >= 2, f"patch_size must be >= 2 (the second stage halves the first's grid), "
                                         f"got {self.patch_size}")
        self.check(self.dim % 16 == 0 and (self.dim // 2) % self.heads == 0,
                   f"dim must be a multiple of 16 with dim / 2 divisible by heads (the first stage has dim / 2 "
                   f"channels), got dim={self.dim}, heads={self.heads}")

    def arguments(self, data) -> dict:
        return {**super().arguments(data), "qk_depth": self.qk_depth}


_D = QKFormerConfig


class QKDownsample(StepModeTree):
    """QKFormer's patch embedding between stages on a map ``[T, N, C, H, W] -> [T, N, 2C, H/2, W/2]``:
    ``SN(MaxPool(BN(Conv3x3(SN(BN(Conv3x3(X))))))) + SN(BN(Conv1x1_stride2(X)))``."""

    def __init__(self, cin: int, cout: int, b: TransformerBuilder):
        super().__init__(b.mode)
        self.body = nn.Sequential(layer.Conv2d(cin, cout, 3, padding=1, bias=False), layer.BatchNorm2d(cout),
                                  b.neuron(), layer.Conv2d(cout, cout, 3, padding=1, bias=False),
                                  layer.BatchNorm2d(cout), layer.MaxPool2d(3, 2, padding=1), b.neuron())
        self.shortcut = nn.Sequential(layer.Conv2d(cin, cout, 1, stride=2, bias=False), layer.BatchNorm2d(cout),
                                      b.neuron())
        self.step_mode = b.mode

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x) + self.shortcut(x)


@MODELS.register("qkformer", config=QKFormerConfig)
class QKFormer(SpikingTransformer):
    """QKFormer: Q-K attention blocks, a down-sampling, SSA blocks (``spikesmith.models.qkformer``)."""

    shortcut = "spike"

    def __init__(self, in_channels: int = 1, num_classes: int = 10, depth: int = _D.depth, dim: int = _D.dim,
                 heads: int = _D.heads, patch_size: int = _D.patch_size, mlp_ratio: float = _D.mlp_ratio,
                 attn_drop: float = _D.attn_drop, attention: str = _D.attention, qk_depth: int = _D.qk_depth,
                 neuron: str = _D.neuron, surrogate: Optional[str] = _D.surrogate, tau: Optional[float] = _D.tau,
                 detach_reset: bool = _D.detach_reset, ann: bool = False, activation: str = "relu"):
        config = QKFormerConfig(depth=depth, dim=dim, heads=heads, patch_size=patch_size, mlp_ratio=mlp_ratio,
                                attn_drop=attn_drop, attention=attention, qk_depth=qk_depth, neuron=neuron,
                                surrogate=surrogate, tau=tau, detach_reset=detach_reset)
        b = TransformerBuilder(ann, config, activation, self.shortcut)
        ablation = config.attention == "identity"
        first = nn.Sequential(*(b.block("identity_qk" if ablation else config.attention, dim // 2)
                                for _ in range(qk_depth)))
        second = nn.Sequential(*(b.block("identity" if ablation else "ssa", dim) for _ in range(depth - qk_depth)))
        stages = nn.ModuleDict({"first": first, "down": QKDownsample(dim // 2, dim, b), "second": second})
        super().__init__(b, b.stem(in_channels, dim // 2, patch_size // 2), stages, dim, num_classes)
        self.patch_size = patch_size

    def run_stages(self, tokens: Tensor, grid: tuple[int, int]) -> Tensor:
        if grid[0] % 2 or grid[1] % 2:                  # the stem's grid (patch_size / 2) must halve evenly
            check_tiles(type(self).__name__, (grid[0] * self.patch_size // 2, grid[1] * self.patch_size // 2),
                        self.patch_size)
        x = self.stages["first"](tokens)
        x = self.stages["down"](tokens_to_map(x, grid))
        return self.stages["second"](map_to_tokens(x))
