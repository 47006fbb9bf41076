"""The spiking transformers' MLP block on tokens ``[T, N, L, D]``.

    spike     (Spikformer, QKFormer):  Y = SN(BN(Linear_2(SN(BN(Linear_1(X))))))
    membrane  (SDT):                   Y = BN(Linear_2(SN(BN(Linear_1(SN(U))))))

``Linear_1`` widens D to ``hidden`` (``mlp_ratio`` x D in the models), ``Linear_2`` narrows it back. The
block's input (a sum of spikes, or a membrane-like real value) may take any value; each Linear after a
neuron receives spikes. Batch norm runs over the channel with the statistics of every token.

>>> SpikingMLP(64, 256)(torch.rand(4, 2, 49, 64)).shape
torch.Size([4, 2, 49, 64])
"""

from __future__ import annotations

from typing import Optional

from torch import Tensor, nn

from ._attention import NeuronFactory, StepModeTree, TokenProjection, check_probability, check_shortcut, \
    check_tokens, neuron_factory
from .dropout import Dropout


class SpikingMLP(StepModeTree):
    """Two token projections with neurons (see the module docstring).

    Args:
        dim: channels in and out.
        hidden: channels of the hidden layer.
        shortcut: ``'spike'`` or ``'membrane'``.
        drop: dropout on the hidden spikes (one mask per sequence).
        neuron: builds each neuron (default LIF, tau = 2); an activation for the ANN twin.
        step_mode: ``'m'`` or ``'s'``.
    """

    def __init__(self, dim: int, hidden: int, shortcut: str = "spike", drop: float = 0.0,
                 neuron: Optional[NeuronFactory] = None, step_mode: str = "m"):
        super().__init__(step_mode)
        owner = type(self).__name__
        for name, value in (("dim", dim), ("hidden", hidden)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
        self.shortcut = check_shortcut(owner, shortcut)
        self.drop_p = check_probability(owner, "drop", drop)
        self.dim, self.hidden = dim, hidden
        build = neuron_factory(neuron)
        spike = shortcut == "spike"
        self.input_neuron = nn.Identity() if spike else build()
        self.fc1 = TokenProjection(dim, hidden, build())
        self.drop = Dropout(drop) if drop > 0 else nn.Identity()
        self.fc2 = TokenProjection(hidden, dim, build() if spike else None)
        self.step_mode = step_mode

    def forward(self, x: Tensor) -> Tensor:
        check_tokens(x, self, self.dim)
        return self.fc2(self.drop(self.fc1(self.input_neuron(x))))

    def extra_repr(self) -> str:
        return f"dim={self.dim}, hidden={self.hidden}, shortcut={self.shortcut!r}, step_mode={self.step_mode!r}"
