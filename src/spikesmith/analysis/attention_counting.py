"""What the attention inside a spiking transformer costs, counted from its Q, K and V.

The Q, K, V projections are Linear layers and counted as such (spike inputs: fan-out ACs). This module
counts what happens *between* the projections, per head (h heads of d = D/h channels, L tokens, per step):

SSA, ``SN(Q K^T V s)`` (Spikformer):
    ``products`` = 2 h L^2 d: the two matrix products ``Q K^T`` and ``(Q K^T) V`` multiply tensors that are
    both computed at run time, so no weight can be pre-loaded: they are multiply-accumulates between
    activations and are counted in ``macs``. (Because Q, K and V are binary, a chip that exploits it can
    run each product as an AND and an add: the products with a non-zero result are ``nonzero_terms``;
    they still grow with L^2.) The scale s is folded into the attention neuron's threshold (V_th / s) and
    not counted.
SDSA v1, ``Q ⊗ SN(SUM_c(K ⊗ V))`` (Spike-driven Transformer):
    ``products`` = 0, ``macs`` = 0. ``masks`` = 2 L D: the Hadamard products K ⊗ V and Q ⊗ A of two spike
    tensors are ANDs. ``acs`` = the spikes of K ⊗ V, each added once into its channel's column sum.
QK token / channel attention (QKFormer):
    ``products`` = 0, ``macs`` = 0. ``masks`` = L D (A ⊗ K); ``acs`` = the spikes of Q, each added once
    into its token's (channel's) sum.
The ANN twin's softmax attention:
    ``macs`` = 2 h L^2 d per sample (``Q K^T`` and the weighted sum of V); the softmax's exponentials and
    divisions are left out, as activations are.
The identity ablation: nothing.

Energy charges ``acs`` at E_AC and ``macs`` at E_MAC; a mask (an AND of two bits) is left out, as the
neurons' own updates are. ``dense_macs`` is the ANN's 2 h L^2 d per sample.

A new attention class registers its count with ``ATTENTION_COUNTS.register(cls, fn)``: ``fn(module, parts)``
gets the module's input ``parts['x']`` and the outputs of its projections (``parts['q']``, ...) of one call
and returns :class:`AttentionOps` for that call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor, nn

from ..layer import QKChannelAttention, QKTokenAttention, SpikeDrivenSelfAttention, SpikingSelfAttention
from ..layer.attention_base import SpikingAttention
from ..models.softmax_attention import IdentityAttention, IdentityQKAttention, SoftmaxSelfAttention
from ..typeregistry import TypeRegistry


@dataclass
class AttentionOps:
    """Operations of one call (all samples and steps of it)."""

    products: float = 0.0        # multiplications whose two operands are run-time tensors (MACs)
    nonzero_terms: float = 0.0   # of those, the terms with a non-zero result (binary operands: AND + add)
    masks: float = 0.0           # element-wise ANDs of two spike tensors
    acs: float = 0.0             # additions of spikes (event-driven accumulates)
    dense_macs: float = 0.0      # the ANN attention's MACs for the same inputs (one pass per sample and step)

    def __iadd__(self, other: "AttentionOps") -> "AttentionOps":
        for key in vars(self):
            setattr(self, key, getattr(self, key) + getattr(other, key))
        return self


def _heads(x: Tensor, h: int) -> Tensor:
    return x.detach().to(torch.float64).unflatten(-1, (h, x.shape[-1] // h)).transpose(-3, -2)


def _dense(x: Tensor) -> float:
    """2 L^2 D for every ``[L, D]`` of ``x`` (h L^2 d for each of the two products)."""
    L, D = x.shape[-2], x.shape[-1]
    return 2.0 * L * L * D * (x.numel() // (L * D))


def ssa_ops(m: SpikingSelfAttention, parts: dict) -> AttentionOps:
    q, k, v = (_heads(parts[n], m.num_heads) for n in "qkv")
    scores = q @ k.transpose(-2, -1)                                  # how many (q, k) products are 1
    nonzero = float(scores.sum()) + float(((scores != 0).to(torch.float64) @ v).sum())
    return AttentionOps(products=_dense(parts["q"]), nonzero_terms=nonzero, dense_macs=_dense(parts["q"]))


def sdsa_ops(m: SpikeDrivenSelfAttention, parts: dict) -> AttentionOps:
    k, v = parts["k"].detach(), parts["v"].detach()
    return AttentionOps(masks=2.0 * k.numel(), acs=float((k * v).sum()), dense_macs=_dense(k))


def qk_ops(m: SpikingAttention, parts: dict) -> AttentionOps:
    q = parts["q"].detach()
    return AttentionOps(masks=float(q.numel()), acs=float((q != 0).sum()), dense_macs=_dense(q))


def softmax_ops(m: SoftmaxSelfAttention, parts: dict) -> AttentionOps:
    x = parts["x"]
    return AttentionOps(products=_dense(x), nonzero_terms=_dense(x), dense_macs=_dense(x))


def no_ops(m: nn.Module, parts: dict) -> AttentionOps:
    return AttentionOps(dense_macs=_dense(parts["x"]))


ATTENTION_COUNTS: TypeRegistry[Callable[[nn.Module, dict], AttentionOps]] = TypeRegistry("attention count")
for _cls, _fn in ((SpikingSelfAttention, ssa_ops), (SpikeDrivenSelfAttention, sdsa_ops), (QKTokenAttention, qk_ops),
                  (QKChannelAttention, qk_ops), (SoftmaxSelfAttention, softmax_ops), (IdentityAttention, no_ops),
                  (IdentityQKAttention, no_ops)):
    ATTENTION_COUNTS.register(_cls, _fn)
del _cls, _fn


def projections_of(m: nn.Module) -> dict[str, nn.Module]:
    """The projections whose outputs the count reads (``q``, ``k``, ``v`` of a spiking attention)."""
    if isinstance(m, SpikingAttention):
        return {name: getattr(m, f"{name}_proj") for name in m.projections}
    return {}
