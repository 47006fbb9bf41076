"""Spiking patch splitting (SPS), Spikformer's stem, with its relative position embedding (RPE).

An image (or a sequence of frames) ``[T, N, C, H, W]`` becomes ``[T, N, L, D]``: L = (H/P)(W/P) tokens of
D channels for a patch size P (a power of two). ``stages`` conv stages widen the channels
D/2^(stages-1), ..., D/2, D; the last log2(P) stages each halve the size with a 3x3 max pool of stride 2.
Per stage, by shortcut style (see ``layer._attention.SHORTCUTS``):

    spike     (Spikformer):  X -> BN(Conv3x3(X)) -> SN -> [MaxPool]
    membrane  (SDT):         X -> [SN, not in the first stage] -> Conv3x3 -> BN -> [MaxPool]

then the relative position embedding, a residual 3x3 conv over the token grid:

    spike:     Y = X + SN(BN(Conv3x3(X)))          membrane:  Y = X + BN(Conv3x3(SN(X)))

``stages`` is an ``nn.Sequential`` of stateless layers and neurons, so a model can compute its leading
stateless layers once for a direct-encoded input. With ``step_mode='s'`` and an activation given as
``neuron``, the same stem is the ANN twin's (``[N, C, H, W]`` in).

>>> sps = SpikingPatchSplitting(1, 64, patch_size=4)
>>> sps(torch.rand(4, 2, 1, 28, 28)).shape               # 7 x 7 tokens
torch.Size([4, 2, 49, 64])
"""

from __future__ import annotations

import math
from typing import Optional

from torch import Tensor, nn

from ._attention import NeuronFactory, StepModeTree, check_shortcut, neuron_factory
from .conv import Conv2d
from .norm import BatchNorm2d
from .pool import MaxPool2d


def check_patch_size(owner: str, patch_size: int, stages: int) -> int:
    """The number of halvings log2(P); a clear error unless P is a power of two that ``stages`` can reach."""
    if isinstance(patch_size, bool) or not isinstance(patch_size, int) or patch_size < 1 or \
            patch_size & (patch_size - 1):
        raise ValueError(f"{owner}: patch_size must be a power of two (1, 2, 4, 8, 16, ...): each halving is a "
                         f"stride-2 pool; got {patch_size!r}")
    halvings = int(math.log2(patch_size))
    if halvings > stages:
        raise ValueError(f"{owner}: patch_size={patch_size} needs {halvings} halving stages but stages={stages}; "
                         f"use stages >= {halvings} or a smaller patch size")
    return halvings


def check_tiles(owner: str, image_size: tuple, patch_size: int) -> tuple[int, int]:
    """The token grid ``(H/P, W/P)``, or a clear error when the patch size does not tile the image."""
    h, w = int(image_size[0]), int(image_size[1])
    if h % patch_size or w % patch_size:
        fits = [p for p in (1, 2, 4, 8, 16, 32) if h % p == 0 and w % p == 0]
        raise ValueError(f"{owner}: patch_size={patch_size} does not tile a {h}x{w} image ({h}/{patch_size} x "
                         f"{w}/{patch_size} is not a whole grid of patches); patch sizes that tile it: "
                         f"{', '.join(map(str, fits))}")
    return h // patch_size, w // patch_size


def map_to_tokens(x: Tensor) -> Tensor:
    """``[..., D, H, W] -> [..., H*W, D]`` (row-major tokens)."""
    return x.flatten(-2).transpose(-2, -1)


def tokens_to_map(x: Tensor, grid: tuple[int, int]) -> Tensor:
    """``[..., H*W, D] -> [..., D, H, W]`` (the inverse of :func:`map_to_tokens`)."""
    return x.transpose(-2, -1).unflatten(-1, tuple(grid))


class RelativePositionEmbedding(StepModeTree):
    """Spikformer's RPE: ``X + SN(BN(Conv3x3(X)))`` (spike) or SDT's ``X + BN(Conv3x3(SN(X)))`` (membrane)
    on a feature map ``[T, N, D, H, W]``."""

    def __init__(self, dim: int, shortcut: str = "spike", neuron: Optional[NeuronFactory] = None,
                 step_mode: str = "m"):
        super().__init__(step_mode)
        self.shortcut = check_shortcut(type(self).__name__, shortcut)
        build = neuron_factory(neuron)
        conv_bn = [Conv2d(dim, dim, 3, padding=1, bias=False), BatchNorm2d(dim)]
        self.body = nn.Sequential(*(conv_bn + [build()] if shortcut == "spike" else [build()] + conv_bn))
        self.step_mode = step_mode

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class SpikingPatchSplitting(StepModeTree):
    """SPS: conv-BN-neuron-pool stages, then the relative position embedding; ``[T, N, C, H, W] -> [T, N, L, D]``.

    Args:
        in_channels: C of the input.
        dim: D, the channels of the tokens; divisible by ``2**(stages - 1)``.
        patch_size: P, a power of two; H and W must be multiples of it.
        stages: conv stages (Spikformer: 4).
        shortcut: ``'spike'`` or ``'membrane'`` (see the module docstring).
        rpe: add the relative position embedding.
        neuron: builds each neuron (default LIF, tau = 2); an activation for the ANN twin.
        step_mode: ``'m'`` (``[T, N, C, H, W]``) or ``'s'`` (``[N, C, H, W]``).
    """

    def __init__(self, in_channels: int, dim: int, patch_size: int = 4, stages: int = 4, shortcut: str = "spike",
                 rpe: bool = True, neuron: Optional[NeuronFactory] = None, step_mode: str = "m"):
        super().__init__(step_mode)
        owner = type(self).__name__
        if isinstance(stages, bool) or not isinstance(stages, int) or stages < 1:
            raise ValueError(f"{owner}: stages must be a positive int, got {stages!r}")
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1 or dim % 2 ** (stages - 1):
            raise ValueError(f"{owner}: dim must be a positive multiple of 2**(stages-1) = {2 ** (stages - 1)} "
                             f"(the stages have dim/{2 ** (stages - 1)}, ..., dim channels), got {dim!r}")
        halvings = check_patch_size(owner, patch_size, stages)
        self.shortcut = check_shortcut(owner, shortcut)
        self.in_channels, self.dim, self.patch_size = in_channels, dim, patch_size
        build = neuron_factory(neuron)
        layers: list[nn.Module] = []
        cin = in_channels
        for i in range(stages):
            cout = dim // 2 ** (stages - 1 - i)
            pool = [MaxPool2d(3, 2, padding=1)] if i >= stages - halvings else []
            if shortcut == "spike":
                layers += [Conv2d(cin, cout, 3, padding=1, bias=False), BatchNorm2d(cout), build()] + pool
            else:
                layers += ([build()] if i > 0 else []) + [Conv2d(cin, cout, 3, padding=1, bias=False),
                                                          BatchNorm2d(cout)] + pool
            cin = cout
        self.stages = nn.Sequential(*layers)
        self.rpe = RelativePositionEmbedding(dim, shortcut, build) if rpe else nn.Identity()
        self.step_mode = step_mode

    def check_input(self, x) -> tuple[int, int]:
        """The token grid of input ``x``; clear errors for a wrong layout or a size the patches do not tile."""
        from ..module import check_dims

        multi = self.step_mode == "m"
        layout = "[T, N, C, H, W]" if multi else "[N, C, H, W]"
        check_dims(x, self, layout, dims=(5,) if multi else (4,), step_mode=self.step_mode)
        if x.shape[-3] != self.in_channels:
            raise ValueError(f"{self.layer_name()} expects {self.in_channels} input channels at dim -3 of "
                             f"{layout}, got shape {list(x.shape)}")
        return check_tiles(self.layer_name(), x.shape[-2:], self.patch_size)

    def embed(self, x: Tensor) -> Tensor:
        """The relative position embedding and the tokens, after ``stages``."""
        return map_to_tokens(self.rpe(x))

    def forward(self, x: Tensor) -> Tensor:
        self.check_input(x)
        return self.embed(self.stages(x))
