"""Layers no export target runs, refused by name with the reason users see.

What NIR (and Loihi) export does with the spiking transformers' layers:

- ``SpikingSelfAttention`` (Spikformer's SSA): **refused**. ``Q K^T V`` multiplies tensors that are all
  computed at run time; a NIR graph has affine maps with fixed weights, pooling, scaling and neurons,
  and no node for a product of two signals.
- ``SpikeDrivenSelfAttention`` (SDT's SDSA): **refused**. ``Q ⊗ SN(SUM_c(K ⊗ V))`` needs element-wise
  products (masks) of two spike signals and a sum over the tokens; no NIR node multiplies two signals.
- ``QKTokenAttention`` / ``QKChannelAttention``: **refused** for the same reason (K masked by a neuron of
  Q's sums).
- ``TransformerEncoderBlock``, ``RelativePositionEmbedding``, ``SpikingPatchSplitting``: **refused**: their
  residual sums (``X + branch``) are a graph, not the chain of layers the exporters read. A stem built
  with ``rpe=False`` has its ``stages`` as an ``nn.Sequential`` of conv, BN, LIF and max pooling, which
  ``check`` reads like any sequential network (max pooling approximated by average pooling with
  ``approximate=True``).
- ``SpikingMLP``: **refused** as a layer: its linear maps act on every token of ``[L, D]`` with batch norm
  over the channels; export reads networks of vectors or images.
- the models ``Spikformer``, ``SpikeDrivenTransformer``, ``QKFormer``: refused; the error names the
  attention layers above inside them.

A new layer is refused with ``REFUSED.register(MyLayer, "why no target can run it")``.
"""

from __future__ import annotations

from typing import Optional

from torch import nn

from ..layer import (QKChannelAttention, QKTokenAttention, RelativePositionEmbedding, SpikeDrivenSelfAttention,
                     SpikingMLP, SpikingPatchSplitting, SpikingSelfAttention, TransformerEncoderBlock)
from ..typeregistry import TypeRegistry

REFUSED: TypeRegistry[str] = TypeRegistry("layer refused by every export target")
_PRODUCT = ("{what}; NIR graphs have affine maps with fixed weights, pooling, scaling and neurons, and no node "
            "that multiplies two run-time signals")
_RESIDUAL = ("adds a branch to its input (a residual: a graph, not the chain of layers the exporters read)")
for _cls, _reason in {
    SpikingSelfAttention: _PRODUCT.format(what="spiking self-attention multiplies run-time tensors (Q K^T V)"),
    SpikeDrivenSelfAttention: _PRODUCT.format(what="spike-driven self-attention masks one spike tensor with "
                                                   "another (Q ⊗ SN(SUM_c(K ⊗ V)))"),
    QKTokenAttention: _PRODUCT.format(what="Q-K token attention masks K with a neuron of Q's sums"),
    QKChannelAttention: _PRODUCT.format(what="Q-K channel attention masks K with a neuron of Q's sums"),
    TransformerEncoderBlock: _RESIDUAL,
    RelativePositionEmbedding: _RESIDUAL,
    SpikingPatchSplitting: _RESIDUAL + " in its relative position embedding (with rpe=False, export its .stages)",
    SpikingMLP: "acts on every token of a [tokens, dim] sequence; the exporters read networks of vectors or images",
}.items():
    REFUSED.register(_cls, _reason)
del _cls, _reason


def refusal_of(module: nn.Module) -> Optional[str]:
    """The reason no target runs ``module``, or None when it is not refused by name."""
    return REFUSED.get(module, None)


def refused_inside(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """``(name, module)`` of the outermost refused layers inside ``model`` that do the work (the attention
    and MLP inside a refused block are named rather than the block)."""
    found: list[tuple[str, nn.Module]] = []
    for name, m in model.named_modules():
        if m is model or refusal_of(m) is None or isinstance(m, TransformerEncoderBlock):
            continue
        if any(name.startswith(prefix + ".") for prefix, _ in found):
            continue
        found.append((name, m))
    return found


def refusal_message(model: nn.Module, limit: int = 4) -> str:
    """``''`` or ``'; it holds layers no export target runs: ...'`` for the error about ``model``."""
    inside = refused_inside(model)
    if not inside:
        return ""
    named = [f"{type(m).__name__} '{name}'" for name, m in inside[:limit]]
    if len(inside) > limit:
        named.append(f"and {len(inside) - limit} more")
    return f"; it holds layers no export target runs: {', '.join(named)} ({refusal_of(inside[0][1])})"
