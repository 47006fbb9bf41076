"""SpikingJelly's ``activation_based.rnn``: spiking LSTM, GRU and vanilla RNN with explicit states.

SpikingJelly's RNNs are not stateful modules: ``cell(x, states)`` returns the new states, and
``SpikingLSTM(input_size, hidden_size, num_layers)(x_seq, states=None)`` runs ``[T, N, input_size]`` and
returns ``(y_seq, final_states)``. This module keeps that API and its parameter layout
(``cells.<l>.linear_ih`` / ``linear_hh``, every parameter drawn from U(-1/sqrt(hidden), 1/sqrt(hidden)) in
that order, so seeded weights and SpikingJelly checkpoints are the same), while the gate maths is
spikesmith's ``layer.gated_variants`` (variant ``'spikingjelly'``). Defaults are SpikingJelly's:
``surrogate_function1=Erf()``, ``surrogate_function2=None`` (the candidate uses the first).

States: for ``SpikingLSTM`` a tuple ``(h, c)``, for the GRU and vanilla RNN one tensor ``h``, each
``[num_layers * num_directions, N, hidden_size]`` (forward layers first, then the reverse ones); zeros when
``states`` is None. ``bidirectional=True`` runs a second stack over the reversed sequence and concatenates
the outputs (2 x hidden_size features). ``dropout_p`` drops between layers in training, one mask per
layer for the whole sequence with ``invariant_dropout_mask=True``.

For a stateful spiking LSTM that ``functional.reset_net`` resets, use ``spikesmith.layer.SpikingLSTM``.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ....layer.gated_variants import GRU_VARIANTS, LSTM_VARIANTS, GateParams
from .surrogate import Erf


class SpikingRNNCellBase(nn.Module):
    """A cell holding ``linear_ih`` and ``linear_hh``; ``reset_parameters()`` draws every parameter from
    U(-sqrt(1/hidden_size), sqrt(1/hidden_size))."""

    gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True):
        super().__init__()
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{type(self).__name__}: {name} must be a positive int, got {value!r}")
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.linear_ih = nn.Linear(input_size, self.gates * hidden_size, bias=bias)
        self.linear_hh = nn.Linear(hidden_size, self.gates * hidden_size, bias=bias)

    def reset_parameters(self) -> None:
        bound = math.sqrt(1.0 / self.hidden_size)
        for param in self.parameters():
            nn.init.uniform_(param, -bound, bound)

    def weight_ih(self) -> Tensor:
        return self.linear_ih.weight

    def weight_hh(self) -> Tensor:
        return self.linear_hh.weight

    def bias_ih(self) -> Optional[Tensor]:
        return self.linear_ih.bias

    def bias_hh(self) -> Optional[Tensor]:
        return self.linear_hh.bias

    def _zeros(self, x: Tensor) -> Tensor:
        if x.dim() != 2 or x.shape[1] != self.input_size:
            raise ValueError(f"{type(self).__name__}: one step is [N, {self.input_size}], got {list(x.shape)}; "
                             f"run whole sequences [T, N, {self.input_size}] with the multi-layer module")
        return x.new_zeros(x.shape[0], self.hidden_size)


class _GatedCell(SpikingRNNCellBase):
    """A cell whose step is a spikesmith ``GatedVariant`` (``VARIANTS['spikingjelly']``)."""

    VARIANTS = None

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, surrogate_function1=None,
                 surrogate_function2=None):
        super().__init__(input_size, hidden_size, bias)
        self.surrogate_function1 = Erf() if surrogate_function1 is None else surrogate_function1
        self.surrogate_function2 = surrogate_function2
        self.reset_parameters()

    def _params(self) -> GateParams:
        spike = self.surrogate_function1
        candidate = spike if self.surrogate_function2 is None else self.surrogate_function2
        return GateParams(self.linear_ih.weight, self.linear_hh.weight, self.linear_ih.bias, self.linear_hh.bias,
                          spike, candidate, threshold=1.0, reset="none", signed=False)

    def _step(self, x: Tensor, state: tuple) -> tuple:
        return self.VARIANTS.get("spikingjelly").update(x, state, self._params())


class SpikingLSTMCell(_GatedCell):
    """SpikingJelly's ``SpikingLSTMCell``: ``cell(x, (h, c)=None) -> (h, c)``, gates i, f, g, o spiking,
    c = c f + i g clamped to at most 1, h = c o."""

    gates = 4
    VARIANTS = LSTM_VARIANTS

    def forward(self, x: Tensor, hc=None) -> tuple[Tensor, Tensor]:
        if hc is None:
            h = self._zeros(x)
            hc = (h, torch.zeros_like(h))
        return self._step(x, (hc[0], hc[1]))


class SpikingGRUCell(_GatedCell):
    """SpikingJelly's ``SpikingGRUCell``: ``cell(x, h=None) -> h``, gates r, z and candidate n spiking,
    h = (1 - z) n + z h."""

    gates = 3
    VARIANTS = GRU_VARIANTS

    def forward(self, x: Tensor, h=None) -> Tensor:
        return self._step(x, (self._zeros(x) if h is None else h,))[0]


class SpikingVanillaRNNCell(SpikingRNNCellBase):
    """SpikingJelly's ``SpikingVanillaRNNCell``: ``cell(x, h=None) -> h = S(W_ih x + b_ih + W_hh h + b_hh)``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, surrogate_function=None):
        super().__init__(input_size, hidden_size, bias)
        self.surrogate_function = Erf() if surrogate_function is None else surrogate_function
        self.reset_parameters()

    def forward(self, x: Tensor, h=None) -> Tensor:
        h = self._zeros(x) if h is None else h
        return self.surrogate_function(self.linear_ih(x) + self.linear_hh(h))


def _run_cell(cell: nn.Module, x_seq: Tensor, state, reverse: bool = False):
    """``cell`` over the sequence (backwards if ``reverse``); the output spikes in time order and the last state."""
    outputs = []
    steps = range(x_seq.shape[0] - 1, -1, -1) if reverse else range(x_seq.shape[0])
    for t in steps:
        state = cell(x_seq[t], state)
        outputs.append(state[0] if isinstance(state, tuple) else state)
    if reverse:
        outputs.reverse()
    return torch.stack(outputs), state


class SpikingRNNBase(nn.Module):
    """Stacked (optionally bidirectional) cells over ``[T, N, input_size]``; see the module docstring."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int, bias: bool = True, dropout_p: float = 0,
                 invariant_dropout_mask: bool = False, bidirectional: bool = False, *args, **kwargs):
        super().__init__()
        if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"{type(self).__name__}: num_layers must be a positive int, got {num_layers!r}")
        if not 0 <= dropout_p < 1:
            raise ValueError(f"{type(self).__name__}: dropout_p must be in [0, 1), got {dropout_p!r}")
        self.input_size, self.hidden_size, self.num_layers, self.bias = input_size, hidden_size, num_layers, bias
        self.dropout_p, self.invariant_dropout_mask, self.bidirectional = dropout_p, invariant_dropout_mask, bidirectional
        if bidirectional:
            self.cells, self.cells_reverse = self.create_cells(*args, **kwargs)
        else:
            self.cells = self.create_cells(*args, **kwargs)

    @staticmethod
    def base_cell():
        raise NotImplementedError

    @staticmethod
    def states_num() -> int:
        raise NotImplementedError

    def create_cells(self, *args, **kwargs):
        directions = 2 if self.bidirectional else 1
        sizes = [self.input_size] + [self.hidden_size * directions] * (self.num_layers - 1)
        stacks = [nn.Sequential(*(self.base_cell()(n, self.hidden_size, self.bias, *args, **kwargs) for n in sizes))
                  for _ in range(directions)]
        return tuple(stacks) if self.bidirectional else stacks[0]

    def _initial_states(self, x: Tensor, states) -> Tensor:
        """The states as one tensor ``[states_num, num_layers * directions, N, hidden_size]``."""
        count, layers = self.states_num(), self.num_layers * (2 if self.bidirectional else 1)
        if states is None:
            return x.new_zeros(count, layers, x.shape[1], self.hidden_size)
        if isinstance(states, tuple):
            stacked = torch.stack(states)
        elif isinstance(states, Tensor) and states.dim() == 3:
            stacked = states.unsqueeze(0)
        else:
            raise TypeError(f"{type(self).__name__}: states must be None, a 3-D tensor or a tuple of tensors, "
                            f"got {type(states).__name__}")
        if stacked.dim() != 4 or stacked.shape[:2] != (count, layers):
            raise ValueError(f"{type(self).__name__}: states must be {count} tensor(s) of shape "
                             f"[{layers}, N, {self.hidden_size}], got {list(stacked.shape)}")
        return stacked

    def _cell_state(self, stacked: Tensor, index: int):
        return stacked[0, index] if self.states_num() == 1 else tuple(stacked[:, index])

    def forward(self, x: Tensor, states=None):
        if x.dim() != 3 or x.shape[2] != self.input_size:
            raise ValueError(f"{type(self).__name__}: input must be [T, N, {self.input_size}], got {list(x.shape)}")
        stacked = self._initial_states(x, states)
        directions = 2 if self.bidirectional else 1
        masks = None
        if self.training and self.dropout_p > 0 and self.invariant_dropout_mask and self.num_layers > 1:
            masks = F.dropout(x.new_ones(self.num_layers - 1, x.shape[1], self.hidden_size * directions),
                              p=self.dropout_p, training=True)
        finals: dict[int, object] = {}
        y = x
        for layer in range(self.num_layers):
            out, finals[layer] = _run_cell(self.cells[layer], y, self._cell_state(stacked, layer))
            if self.bidirectional:
                back = layer + self.num_layers
                out_r, finals[back] = _run_cell(self.cells_reverse[layer], y, self._cell_state(stacked, back), True)
                out = torch.cat((out, out_r), dim=-1)
            y = out
            if self.training and self.dropout_p > 0 and layer < self.num_layers - 1:
                y = y * masks[layer] if masks is not None else F.dropout(y, p=self.dropout_p, training=True)
        order = [finals[i] for i in range(self.num_layers * directions)]
        if self.states_num() == 1:
            return y, torch.stack(order)
        return y, tuple(torch.stack([state[k] for state in order]) for k in range(self.states_num()))


class SpikingLSTM(SpikingRNNBase):
    """SpikingJelly's ``SpikingLSTM(input_size, hidden_size, num_layers, bias=True, dropout_p=0,
    invariant_dropout_mask=False, bidirectional=False, surrogate_function1=Erf(), surrogate_function2=None)``;
    ``forward(x_seq, (h_0, c_0)=None) -> (y_seq, (h_n, c_n))``."""

    def __init__(self, input_size, hidden_size, num_layers, bias=True, dropout_p=0, invariant_dropout_mask=False,
                 bidirectional=False, surrogate_function1=None, surrogate_function2=None):
        super().__init__(input_size, hidden_size, num_layers, bias, dropout_p, invariant_dropout_mask, bidirectional,
                         surrogate_function1, surrogate_function2)

    @staticmethod
    def base_cell():
        return SpikingLSTMCell

    @staticmethod
    def states_num() -> int:
        return 2


class SpikingGRU(SpikingRNNBase):
    """SpikingJelly's ``SpikingGRU``; ``forward(x_seq, h_0=None) -> (y_seq, h_n)``."""

    def __init__(self, input_size, hidden_size, num_layers, bias=True, dropout_p=0, invariant_dropout_mask=False,
                 bidirectional=False, surrogate_function1=None, surrogate_function2=None):
        super().__init__(input_size, hidden_size, num_layers, bias, dropout_p, invariant_dropout_mask, bidirectional,
                         surrogate_function1, surrogate_function2)

    @staticmethod
    def base_cell():
        return SpikingGRUCell

    @staticmethod
    def states_num() -> int:
        return 1


class SpikingVanillaRNN(SpikingRNNBase):
    """SpikingJelly's ``SpikingVanillaRNN``; ``forward(x_seq, h_0=None) -> (y_seq, h_n)``."""

    def __init__(self, input_size, hidden_size, num_layers, bias=True, dropout_p=0, invariant_dropout_mask=False,
                 bidirectional=False, surrogate_function=None):
        super().__init__(input_size, hidden_size, num_layers, bias, dropout_p, invariant_dropout_mask, bidirectional,
                         surrogate_function)

    @staticmethod
    def base_cell():
        return SpikingVanillaRNNCell

    @staticmethod
    def states_num() -> int:
        return 1


__all__ = ["SpikingGRU", "SpikingGRUCell", "SpikingLSTM", "SpikingLSTMCell", "SpikingRNNBase", "SpikingRNNCellBase",
           "SpikingVanillaRNN", "SpikingVanillaRNNCell"]
