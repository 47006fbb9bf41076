"""One transformer encoder block of a spiking transformer: two residual branches on tokens.

    X' = X + attention(X)          X'' = X' + mlp(X')

The shortcut style lives in the branches (``layer._attention.SHORTCUTS``): with ``'spike'`` branches
(ending in a neuron) the residual is spike-element-wise, ``S + SN(...)``, and the stream holds sums of
spikes (Spikformer, QKFormer); with ``'membrane'`` branches (starting with a neuron, ending in batch norm)
it is SDT's membrane shortcut, ``U + BN(...)``, and every synapse receives spikes only.
"""

from __future__ import annotations

from torch import Tensor, nn

from ._attention import StepModeTree


class TransformerEncoderBlock(StepModeTree):
    """``X + attention(X)``, then ``+ mlp(.)``; both branches keep the shape ``[T, N, L, D]``."""

    def __init__(self, attention: nn.Module, mlp: nn.Module, step_mode: str = "m"):
        super().__init__(step_mode)
        self.attention, self.mlp = attention, mlp
        self.step_mode = step_mode

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attention(x)
        return x + self.mlp(x)
