"""What a normalisation layer is in ``eval()``: one affine map per channel, or refused by name.

BatchNorm folding (``conversion``: into the conv/linear before it; ``export``: the same, before a
graph is written) needs, per output channel c, the scale and shift of the eval-mode layer

    Y = scale_c X + shift_c,

the same map at every time step. Each normalisation class says here what it is:

- ``register_affine(cls, fn)``: ``fn(module) -> (scale, shift)``, float64 tensors of C entries;
- ``refuse_affine(cls, reason)``: no such map exists (a per-time-step scale or statistics); ``reason``
  is what users read, after the layer's class name.

torch's BatchNorm1d/2d/3d (and ours, which subclass them): scale = gamma / sqrt(var + eps), shift =
beta - mu scale. The normalisations in time register next to their code (tdBN folds; TEBN and BNTT
refuse). A subclass of a registered class inherits its entry, so a new BatchNorm subclass that
changes the maths must register its own.
"""

from __future__ import annotations

from typing import Callable, Optional, Union

import torch
from torch import Tensor, nn

from ..typeregistry import TypeRegistry

__all__ = ["EVAL_AFFINE", "NotFoldableError", "eval_affine", "fold_refusal", "refuse_affine", "register_affine"]

AffineFn = Callable[[nn.Module], tuple[Tensor, Tensor]]

EVAL_AFFINE: TypeRegistry[Union[AffineFn, str]] = TypeRegistry("eval-mode affine form")
"""class -> ``fn(module) -> (scale, shift)``, or the reason (a string) the class has none."""


class NotFoldableError(ValueError):
    """A normalisation layer that is not one affine map per channel in eval mode (named in the message)."""


def register_affine(cls: type, fn: AffineFn) -> AffineFn:
    return EVAL_AFFINE.register(cls, fn)


def refuse_affine(cls: type, reason: str) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError(f"refuse_affine({cls.__qualname__}, ...): give the reason it has no affine form")
    return EVAL_AFFINE.register(cls, reason)


def fold_refusal(module: nn.Module) -> Optional[str]:
    """``"<Class>: <reason>"`` when the module's class refuses folding by name, else None."""
    entry = EVAL_AFFINE.get(module, None)
    return f"{type(module).__name__}: {entry}" if isinstance(entry, str) else None


def eval_affine(module: nn.Module) -> tuple[Tensor, Tensor]:
    """``(scale, shift)`` per channel in float64 of the eval-mode layer; NotFoldableError if it has none."""
    entry = EVAL_AFFINE.get(module, None)
    name = type(module).__name__
    if entry is None:
        raise NotFoldableError(f"{name} has no eval-mode affine form registered (spikesmith.layer.eval_affine); "
                               f"register_affine({name}, fn) where it is one affine map per channel")
    if isinstance(entry, str):
        raise NotFoldableError(f"{name} cannot be folded into the layer before it: {entry}")
    return entry(module)


def batchnorm_affine(bn: nn.modules.batchnorm._BatchNorm, factor: float = 1.0) -> tuple[Tensor, Tensor]:
    """A BatchNorm's eval map, its normalised value multiplied by ``factor`` before gamma and beta."""
    if bn.running_mean is None or bn.running_var is None:
        raise NotFoldableError(f"cannot fold {type(bn).__name__} without running statistics "
                               f"(track_running_stats=False); train with running statistics")
    var = bn.running_var.detach().double()
    gamma = bn.weight.detach().double() if bn.affine else torch.ones_like(var)
    beta = bn.bias.detach().double() if bn.affine else torch.zeros_like(var)
    scale = factor * gamma / torch.sqrt(var + bn.eps)
    return scale, beta - bn.running_mean.detach().double() * scale


register_affine(nn.modules.batchnorm._BatchNorm, batchnorm_affine)
