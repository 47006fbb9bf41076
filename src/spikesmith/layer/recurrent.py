"""``Recurrent``: a spiking layer that feeds its own spikes back through a recurrent weight.

For t = 1 .. T, with S(0) = 0:

    I(t) = layer_in(X(t)) + W_rec S(t-1) (+ b_rec)       (the neuron's input current)
    S(t) = neuron(I(t))                                   (the neuron keeps its own V, ...)

``W_rec`` is ``layer_rec``: by default ``nn.Linear(hidden_size, hidden_size, bias=False)``;
any module that maps one step of the output back to the shape of ``layer_in``'s output works
(a ``Conv2d`` for a convolutional recurrence). With ``self_connections=False`` the diagonal of
``W_rec`` is masked in the forward pass, W_rec <- W_rec * (1 - I), so no neuron excites itself
whatever the optimiser or a loaded ``state_dict`` does to the diagonal.

An LSNN (Bellec et al., 2018) is ``Recurrent(nn.Linear(n_in, n), AdaptiveLIFNode(beta=b),
self_connections=False)``, with ``b`` a tensor that is 0 for the LIF units and > 0 for the
adaptive ones, followed by a readout such as ``NonSpikingLIFNode``.

Because of the feedback, time runs step by step even in ``step_mode='m'``; the neuron is
always driven in single-step mode (set to ``'s'`` at every forward, whatever
``functional.set_step_mode`` did). In ``'m'`` mode a stateless ``layer_in`` is applied to the
whole sequence in one call (time folded into the batch), so only the recurrence loops.
S(t-1) is state (``reset()`` / ``functional.reset_net`` set it back to zeros, of the shape of
the next input) and stays in the graph, so gradients reach ``W_rec`` through time.

>>> rnn = Recurrent(nn.Linear(40, 128), LIFNode(tau=2.0), step_mode="m")
>>> rnn(torch.rand(25, 16, 40)).shape            # T=25, N=16
torch.Size([25, 16, 128])
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .. import reset_check
from ..dynamics import scan
from ..module import MemoryModule
from ._seq import check_seq, check_tensor, fold_time, has_memory, pin_single_step


def _check_module(value, name: str) -> None:
    if not isinstance(value, nn.Module):
        raise TypeError(f"Recurrent: {name} must be an nn.Module, got {type(value).__name__}")


class Recurrent(MemoryModule):
    """A spiking layer with recurrent connections from its own previous output.

    Args:
        layer_in: the input synapses, e.g. ``nn.Linear(n_in, hidden)``; None for the identity.
        neuron: the spiking neuron (any module; driven one step at a time).
        hidden_size: the number of neurons; inferred from ``layer_in.out_features`` or
            ``layer_rec.in_features`` when left out. Needed to build the default ``layer_rec``.
        layer_rec: the recurrent synapses; default ``nn.Linear(hidden_size, hidden_size, bias=bias)``.
        self_connections: keep the diagonal of the recurrent weight (False masks it; needs a
            square ``nn.Linear`` as ``layer_rec``).
        bias: bias of the default ``layer_rec`` (``layer_in`` usually has one already).
        step_mode: ``'s'`` (input ``[N, ...]``) or ``'m'`` (input ``[T, N, ...]``).
    """

    def __init__(
        self,
        layer_in: Optional[nn.Module],
        neuron: nn.Module,
        hidden_size: Optional[int] = None,
        layer_rec: Optional[nn.Module] = None,
        self_connections: bool = True,
        bias: bool = False,
        step_mode: str = "s",
    ):
        super().__init__(step_mode)
        layer_in = nn.Identity() if layer_in is None else layer_in
        _check_module(layer_in, "layer_in")
        _check_module(neuron, "neuron")
        if layer_rec is not None:
            _check_module(layer_rec, "layer_rec")
        hidden_size = self._hidden_size(hidden_size, layer_in, layer_rec)
        if layer_rec is None:
            if hidden_size is None:
                raise ValueError(
                    "Recurrent: cannot infer the number of neurons from layer_in "
                    f"({type(layer_in).__name__} has no out_features); pass hidden_size=... or layer_rec=..."
                )
            layer_rec = nn.Linear(hidden_size, hidden_size, bias=bias)
        self.layer_in = layer_in
        self.neuron = neuron
        self.layer_rec = layer_rec
        self.hidden_size = hidden_size
        self.self_connections = bool(self_connections)
        mask = None
        if not self.self_connections:
            if not isinstance(layer_rec, nn.Linear) or layer_rec.in_features != layer_rec.out_features:
                raise ValueError(
                    "Recurrent: self_connections=False masks the diagonal of a square nn.Linear layer_rec, "
                    f"got {layer_rec!r}; pass hidden_size=... for the default layer_rec or keep self connections"
                )
            mask = 1.0 - torch.eye(layer_rec.in_features, dtype=layer_rec.weight.dtype,
                                   device=layer_rec.weight.device)
        self.register_buffer("rec_mask", mask, persistent=False)
        self.register_memory("s_prev", None)

    @staticmethod
    def _hidden_size(hidden_size, layer_in: nn.Module, layer_rec: Optional[nn.Module]) -> Optional[int]:
        if hidden_size is not None:
            if isinstance(hidden_size, bool) or not isinstance(hidden_size, int) or hidden_size < 1:
                raise ValueError(f"Recurrent: hidden_size must be a positive int, got {hidden_size!r}")
        sizes = {
            "hidden_size": hidden_size,
            "layer_in.out_features": getattr(layer_in, "out_features", None),
            "layer_rec.in_features": getattr(layer_rec, "in_features", None),
            "layer_rec.out_features": getattr(layer_rec, "out_features", None),
        }
        known = {k: v for k, v in sizes.items() if isinstance(v, int)}
        if len(set(known.values())) > 1:
            raise ValueError(
                f"Recurrent: the layer sizes disagree: {known}; layer_rec must map the neurons' output "
                f"back onto the same neurons, so all of these must be equal"
            )
        return next(iter(known.values()), None)

    # ----------------------------------------------------------------- the step
    def recurrent_input(self, s_prev: Tensor) -> Tensor:
        """W_rec S(t-1) (+ b_rec), with the diagonal masked when ``self_connections=False``."""
        if self.rec_mask is None:
            return self.layer_rec(s_prev)
        return F.linear(s_prev, self.layer_rec.weight * self.rec_mask, self.layer_rec.bias)

    def _step(self, current: Tensor, s_prev: Optional[Tensor]) -> tuple[Tensor, Tensor]:
        """One step from the input current ``layer_in(X(t))``: returns (S(t), new state S(t))."""
        if s_prev is None:
            if self.hidden_size is not None and current.shape[-1] != self.hidden_size:
                raise ValueError(
                    f"{self.layer_name()}: layer_in gives {current.shape[-1]} features (shape "
                    f"{list(current.shape)}) but the recurrent layer has hidden_size={self.hidden_size}"
                )
            s_prev = torch.zeros_like(current)
        elif s_prev.shape != current.shape:
            raise ValueError(
                f"{self.layer_name()}: input current of shape {list(current.shape)} differs from the previous "
                f"spikes of shape {list(s_prev.shape)}; call spikesmith.functional.reset_net(net) between batches"
            )
        s = self.neuron(current + self.recurrent_input(s_prev))
        return s, s

    def _step_from_input(self, x: Tensor, s_prev: Optional[Tensor]) -> tuple[Tensor, Tensor]:
        return self._step(self.layer_in(x), s_prev)

    # ----------------------------------------------------------------- forward
    def single_step_forward(self, x: Tensor) -> Tensor:
        check_tensor(x, self)
        pin_single_step(self)
        s, self.s_prev = self._step_from_input(x, self.s_prev)
        return s

    def multi_step_forward(self, x_seq: Tensor) -> Tensor:
        check_seq(x_seq, self, "[T, N, ...]")
        pin_single_step(self)
        with reset_check.continuing():  # the neuron's steps are one multi-step call
            if has_memory(self.layer_in):  # e.g. a Dropout mask or a neuron: must see the steps in order
                s_seq, self.s_prev = scan(self._step_from_input, x_seq, self.s_prev)
            else:
                s_seq, self.s_prev = scan(self._step, fold_time(self.layer_in, x_seq), self.s_prev)
        return s_seq

    def forward(self, x: Tensor) -> Tensor:
        if self.step_mode == "s":
            return self.single_step_forward(x)
        return self.multi_step_forward(x)

    def extra_repr(self) -> str:
        return (f"hidden_size={self.hidden_size}, self_connections={self.self_connections}, "
                f"step_mode={self.step_mode!r}")
