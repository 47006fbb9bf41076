"""The skeleton every spiking attention layer shares: input neuron, projections, the attention, output.

    spike shortcut     (Spikformer, QKFormer):  Q, K, V = SN(BN(X W_q)), ...   ->  A = attend(Q, K, V)
                                                 -> Dropout(A) -> SN(BN(A W_o))
    membrane shortcut  (Spike-driven Transformer): S = SN(U); Q, K, V = SN(BN(S W_q)), ...
                                                 -> A = attend(Q, K, V) -> Dropout(A) -> BN(A W_o)

``attend`` is each layer's own (``SpikingSelfAttention``, ``SpikeDrivenSelfAttention``,
``QKTokenAttention``, ``QKChannelAttention``); its inputs are checked to be spikes (0 or 1), as the
papers define them. Input and output ``[T, N, L, D]`` in ``step_mode='m'``, ``[N, L, D]`` in ``'s'``
(a loop of single steps equals one multi-step call in ``eval()``; in training, batch norm takes its
statistics per call). Dropout (``attn_drop``) acts on the attention's output before the projection, with
one mask per sequence (``layer.Dropout``).
"""

from __future__ import annotations

from typing import Optional

from torch import Tensor, nn

from ._attention import (NeuronFactory, StepModeTree, TokenProjection, check_heads, check_probability, check_shortcut,
                         check_spikes, check_tokens, neuron_factory)
from .dropout import Dropout


class SpikingAttention(StepModeTree):
    """Base of the spiking attention layers (see the module docstring).

    Subclasses set ``projections`` (which of ``'q'``, ``'k'``, ``'v'`` they use) and define
    :meth:`attend` on per-head spikes ``[..., h, L, D/h]``.

    Args:
        dim: channels per token (D).
        num_heads: heads h; ``dim`` must be divisible by it.
        attn_drop: dropout probability on the attention output.
        shortcut: ``'spike'`` (the branch ends in a neuron) or ``'membrane'`` (starts with one, ends in BN).
        attn_threshold: V_th of the neuron inside the attention (0.5 in the papers' code).
        neuron: builds every neuron, called with keyword overrides (``v_threshold=...``); default LIF with
            tau = 2 and a detached hard reset. Its outputs must be spikes.
        step_mode: ``'m'`` (default) or ``'s'``.
    """

    projections: tuple[str, ...] = ("q", "k", "v")

    def __init__(self, dim: int, num_heads: int = 8, attn_drop: float = 0.0, shortcut: str = "spike",
                 attn_threshold: float = 0.5, neuron: Optional[NeuronFactory] = None, step_mode: str = "m"):
        super().__init__(step_mode)
        owner = type(self).__name__
        self.head_dim = check_heads(owner, dim, num_heads)
        self.dim, self.num_heads = dim, num_heads
        self.shortcut = check_shortcut(owner, shortcut)
        self.attn_drop_p = check_probability(owner, "attn_drop", attn_drop)
        build = neuron_factory(neuron)
        self.input_neuron = build() if shortcut == "membrane" else nn.Identity()
        for name in self.projections:
            setattr(self, f"{name}_proj", TokenProjection(dim, dim, build()))
        self.attn_neuron = build(v_threshold=attn_threshold)
        self.attn_drop = Dropout(attn_drop, step_mode=step_mode) if attn_drop > 0 else nn.Identity()
        self.out_proj = TokenProjection(dim, dim, build() if shortcut == "spike" else None, bias=True)
        self.step_mode = step_mode

    def attend(self, q: Optional[Tensor], k: Optional[Tensor], v: Optional[Tensor]) -> Tensor:
        """The attention on per-head spikes ``[..., h, L, d]``; returns ``[..., h, L, d]``."""
        raise NotImplementedError

    def qkv(self, x: Tensor) -> dict[str, Tensor]:
        """The per-head spikes Q, K, V (those the layer uses) of the input ``x``."""
        check_tokens(x, self, self.dim)
        s = self.input_neuron(x)
        out = {}
        for name in self.projections:
            spikes = getattr(self, f"{name}_proj")(s)
            check_spikes(spikes, type(self).__name__, name.upper())
            out[name] = spikes.unflatten(-1, (self.num_heads, self.head_dim)).transpose(-3, -2)
        return out

    def forward(self, x: Tensor) -> Tensor:
        parts = self.qkv(x)
        a = self.attend(parts.get("q"), parts.get("k"), parts.get("v"))
        a = a.transpose(-3, -2).flatten(-2)                      # merge heads: [..., L, D]
        return self.out_proj(self.attn_drop(a))

    def extra_repr(self) -> str:
        return (f"dim={self.dim}, num_heads={self.num_heads}, shortcut={self.shortcut!r}, "
                f"attn_drop={self.attn_drop_p}, step_mode={self.step_mode!r}")
