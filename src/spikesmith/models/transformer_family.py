"""What the spiking transformer families share: their options, the attention by name, the model skeleton.

    image [T, N, C, H, W] -> SPS stem -> tokens [T, N, L, D] -> blocks -> mean over tokens -> (SN) -> Linear
          -> [T, N, classes]

Each block is ``X + attention(X)``, then ``+ MLP(.)`` (``layer.TransformerEncoderBlock``); the family
decides the attention and the shortcut style (spike-element-wise for Spikformer and QKFormer, membrane
for the Spike-driven Transformer, whose head also starts with a neuron). The output of every step is the
last Linear's (a membrane readout: its mean over T are the logits).

The ANN twin (``ann=True``) is the same architecture on ``[N, C, H, W]``: every neuron an activation
(``activation``, ReLU by default), softmax attention (``models.softmax_attention``) in every block (a Q-K
layer's twin gains the V projection softmax attention needs).

``attention='identity'`` replaces the attention map by the identity (each token keeps its own V), the
ablation that shows what the attention adds over the convolutional stem and per-token MLPs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, ClassVar

from torch import Tensor, nn

from .. import layer
from ..layer.patch_splitting import check_patch_size, check_tiles
from ..registry import Registry
from .blocks import forward_static_prefix, make_activation
from .options import ModelInput, SpikingOptions, option
from .softmax_attention import (IdentityAttention, IdentityQKAttention, SoftmaxIdentityAttention,
                                SoftmaxSelfAttention)


@dataclass(frozen=True)
class AttentionKind:
    """A spiking attention class and its ANN twin's."""

    spiking: type
    ann: type = SoftmaxSelfAttention
    takes_scale: bool = False


ATTENTIONS: Registry[AttentionKind] = Registry("attention")
ATTENTIONS.register("ssa", AttentionKind(layer.SpikingSelfAttention, takes_scale=True))
ATTENTIONS.register("sdsa", AttentionKind(layer.SpikeDrivenSelfAttention))
ATTENTIONS.register("qk_token", AttentionKind(layer.QKTokenAttention))
ATTENTIONS.register("qk_channel", AttentionKind(layer.QKChannelAttention))
ATTENTIONS.register("identity", AttentionKind(IdentityAttention, SoftmaxIdentityAttention))
ATTENTIONS.register("identity_qk", AttentionKind(IdentityQKAttention, SoftmaxIdentityAttention))


@dataclass
class SpikingTransformerConfig(SpikingOptions):
    """Options every spiking transformer family has; the defaults are a small network that trains on
    28 x 28 Fashion-MNIST on a CPU (2 blocks, dim 64, 4 heads, 7 x 7 tokens)."""

    default_encoder: ClassVar[str] = "direct"

    depth: int = option(2, "transformer encoder blocks")
    dim: int = option(64, "channels per token (divisible by heads and by 8 for the stem)")
    heads: int = option(4, "attention heads (dim must be divisible by heads)")
    patch_size: int = option(4, "the stem's down-sampling, a power of two that divides the image size: "
                                "a 28 x 28 image with 4 gives 7 x 7 tokens")
    mlp_ratio: float = option(4.0, "hidden channels of each MLP block, in units of dim")
    attn_drop: float = option(0.0, "dropout on the attention output (one mask per sequence)")
    attention: str = option("ssa", "the attention in every block; 'identity' is the ablation without token "
                                   "mixing", ("ssa", "identity"))

    def __post_init__(self):
        super().__post_init__()
        owner = self.owner()
        for key in ("depth", "dim", "heads"):
            self.check(isinstance(getattr(self, key), int) and getattr(self, key) >= 1, f"{key} must be an int >= 1")
        self.check(self.dim % self.heads == 0, f"dim={self.dim} is not divisible by heads={self.heads}; every head "
                                               f"takes dim / heads channels")
        self.check(self.dim % 8 == 0, f"dim must be a multiple of 8 (the stem's first stage has dim / 8 "
                                      f"channels), got {self.dim}")
        try:
            check_patch_size(owner, self.patch_size, 4)
        except ValueError as err:
            raise ValueError(str(err)) from None
        self.check(self.mlp_ratio > 0, "mlp_ratio must be > 0")
        self.check(0 <= self.attn_drop < 1, "attn_drop must be in [0, 1)")

    def image_arguments(self, data: ModelInput) -> dict:
        """The input's channels and size, checked against the patch size."""
        shape = data.step_shape
        if len(shape) != 3:
            raise ValueError(f"{self.owner()}: takes images [C, H, W] (or event frames), got samples of shape "
                             f"{list(data.sample_shape)}")
        check_tiles(self.owner(), shape[1:], self.patch_size)
        return {"in_channels": shape[0], "num_classes": data.num_classes}

    def arguments(self, data: ModelInput) -> dict:
        return {**self.image_arguments(data), "depth": self.depth, "dim": self.dim, "heads": self.heads,
                "patch_size": self.patch_size, "mlp_ratio": self.mlp_ratio, "attn_drop": self.attn_drop,
                "attention": self.attention, **self.neuron_options()}


class TransformerBuilder:
    """Builds a family's parts as the SNN or as its ANN twin."""

    def __init__(self, ann: bool, config: SpikingTransformerConfig, activation: str, shortcut: str):
        self.ann, self.config, self.shortcut = ann, config, shortcut
        self.mode = "s" if ann else "m"
        if ann:
            self.neuron: Callable[..., nn.Module] = lambda **_: make_activation(activation)
        else:
            self.neuron = config.neuron_spec().build

    def attention(self, name: str, dim: int) -> nn.Module:
        kind = ATTENTIONS.get(name)
        c = self.config
        if self.ann:
            return kind.ann(dim, c.heads, c.attn_drop, self.shortcut, self.neuron, step_mode="s")
        return kind.spiking(dim, c.heads, attn_drop=c.attn_drop, shortcut=self.shortcut, neuron=self.neuron)

    def block(self, name: str, dim: int) -> nn.Module:
        mlp = layer.SpikingMLP(dim, max(1, round(dim * self.config.mlp_ratio)), self.shortcut, neuron=self.neuron,
                               step_mode=self.mode)
        return layer.TransformerEncoderBlock(self.attention(name, dim), mlp, step_mode=self.mode)

    def stem(self, in_channels: int, dim: int, patch_size: int) -> layer.SpikingPatchSplitting:
        return layer.SpikingPatchSplitting(in_channels, dim, patch_size, shortcut=self.shortcut, neuron=self.neuron,
                                           step_mode=self.mode)


class SpikingTransformer(nn.Module):
    """The skeleton: ``stem`` (an SPS), ``stages`` (modules on tokens), ``head``.

    ``forward`` checks the input, computes the stem's leading stateless layers once for a direct-encoded
    input (``x.expand(T, ...)``), runs the stages on the tokens (:meth:`run_stages`, which a hierarchical
    family overrides), averages the tokens and applies the head.
    """

    def __init__(self, builder: TransformerBuilder, stem: layer.SpikingPatchSplitting, stages: nn.Module,
                 dim: int, num_classes: int):
        super().__init__()
        self.is_ann = builder.ann
        self.stem, self.stages = stem, stages
        self.head_neuron = builder.neuron() if builder.shortcut == "membrane" else nn.Identity()
        self.head = nn.Linear(dim, num_classes)

    def run_stages(self, tokens: Tensor, grid: tuple[int, int]) -> Tensor:
        return self.stages(tokens)

    def forward(self, x: Tensor) -> Tensor:
        grid = self.stem.check_input(x)
        x = self.stem.stages(x) if self.is_ann else forward_static_prefix(self.stem.stages, x)
        x = self.run_stages(self.stem.embed(x), grid)
        return self.head(self.head_neuron(x.mean(dim=-2)))       # SDT: the mean membrane fires, then the head


def family_arguments(config: SpikingTransformerConfig) -> dict:
    """The options a family constructor passes back into its config (to check them once)."""
    return {key: getattr(config, key) for key in type(config).option_names()}


__all__ = ["ATTENTIONS", "AttentionKind", "SpikingTransformer", "SpikingTransformerConfig", "TransformerBuilder"]
