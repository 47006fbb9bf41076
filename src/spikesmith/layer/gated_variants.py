"""The maths of the gated spiking cells: one ``GatedVariant`` per formulation, on explicit state.

A variant is two pure functions over tensors (no module, no hidden state):

    update(x, state, p) -> new state          (the gates and the cell state)
    emit(state, p)      -> output             (what the layer sends on, and feeds back)

``p`` is a ``GateParams`` (weights, surrogates, threshold, reset, sign). Keeping ``emit`` apart
from ``update`` lets a time gate (``phased_gate``) mix the old and new state *before* the output
is read from it. Variants live in two registries, ``LSTM_VARIANTS`` and ``GRU_VARIANTS``, keyed by
name; ``layer.SpikingLSTM(variant=...)`` looks its variant up there.

LSTM weights are laid out as ``torch.nn.LSTMCell``'s (gate rows i, f, g, o) and GRU weights as
``torch.nn.GRUCell``'s (r, z, n), so weights copy across from the peers unchanged.

``'spikingjelly'`` (SpikingJelly's ``SpikingLSTMCell`` / ``SpikingGRUCell``; state (h, c) / (h,)):

    u = W_ih x + b_ih + W_hh h + b_hh,   i, f, o = S(u_i), S(u_f), S(u_o),   g = S2(u_g)
    c = c f + i g, then clamped to c <= 1 (the gradient passes the clamp unchanged)
    h = c o                                                   (a spike when the gates spike)

    GRU: r = S(ih_r + hh_r), z = S(ih_z + hh_z), n = S2(ih_n + r hh_n), h = (1 - z) n + z h

``S`` is the surrogate spike (Heaviside(0) = 1) and ``S2`` the candidate's (``S`` unless given).
The gates see the previous output spikes h.

``'snntorch'`` (snnTorch's ``SLSTM``; state (mem, syn)): an ordinary LSTM cell whose hidden state
is the membrane ``mem`` and whose cell state is the synaptic current ``syn``:

    reset = H(mem_prev - theta)                                (no gradient)
    mem, syn = LSTMCell(x, (mem_prev, syn_prev))
    mem = mem - reset theta      ('subtract')  |  mem (1 - reset)  ('zero')  |  mem  ('none')
    spk = H(mem - theta)                       with H(0) = 0 (snnTorch spikes on mem > theta)

snnTorch's defaults are kept: theta = 1 and reset ``'none'``. As mem = o tanh(syn) lies in (-1, 1),
a cell with theta >= 1 never fires (in snnTorch too): give ``threshold`` below 1, such as 0.5. Note that the recurrent input of the
gates is ``mem``, not the spikes, as in snnTorch. The GRU form of this variant (an ``nn.GRUCell``
over ``mem``, same spikes and resets) has no peer to compare with; it is the same construction.

Signed values (``signed=True``) travel as two spike channels, a positive and a negative train,
and the value is their difference, pos - neg in {-1, 0, 1}:
  - ``'spikingjelly'``: the candidate is ``S2(u) - S2(-u)`` (the sign of u; 0 at u = 0), the cell
    state is clamped to [-1, 1], and h = c o is signed;
  - ``'snntorch'``: pos = H(mem - theta), neg = H(-mem - theta), and the reset subtracts
    theta (pos - neg) (or zeroes mem where either fired).
The layer's ``signed_output`` chooses what it sends on: ``'difference'`` (pos - neg, one channel
per neuron) or ``'pair'`` (the two {0, 1} trains concatenated, ``[pos, neg]``, 2 x hidden_size).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from ..registry import Registry

State = tuple[Tensor, ...]
SpikeFn = Callable[[Tensor], Tensor]


class GateParams(NamedTuple):
    """What a variant's ``update`` / ``emit`` read: weights, spike functions and options."""

    weight_ih: Tensor
    weight_hh: Tensor
    bias_ih: Optional[Tensor]
    bias_hh: Optional[Tensor]
    spike: SpikeFn
    candidate_spike: SpikeFn
    threshold: float
    reset: str
    signed: bool
    #: called as ``observe(x, h)`` with the two inputs of the step's matrix products (the profiler's hook)
    observe: Optional[Callable[[Tensor, Tensor], None]] = None


@dataclass(frozen=True)
class GatedVariant:
    """One formulation of a gated spiking cell.

    gates: row blocks of ``weight_ih`` (4 for an LSTM, 3 for a GRU).
    state_names: the state tensors, in order (each ``[N, hidden_size]``).
    update / emit: the pure step, see the module docstring.
    resets: the reset mechanisms it accepts; default_reset: the one used when none is given.
    default_surrogate: the spike function when none is given.
    """

    name: str
    gates: int
    state_names: tuple[str, ...]
    update: Callable[[Tensor, State, GateParams], State]
    emit: Callable[[State, GateParams], Tensor]
    resets: tuple[str, ...] = ("none",)
    default_reset: str = "none"
    default_surrogate: str = "atan"


#: the SpikingJelly formulation's default spike function: all its gates are Heaviside spikes, and a
#: narrow surrogate trains them far better than atan's (sequential Fashion-MNIST, 10,000 images, 4
#: epochs, hidden 128: LSTM 73.0% against 56.4% with atan:alpha=2, its nn.LSTM twin 74.7%; GRU 76.4%
#: against 75.7%); SpikingJelly itself defaults to Erf
SPIKINGJELLY_SURROGATE = "fastsigmoid:slope=10"


# --------------------------------------------------------------------------- shared pieces
def _projections(x: Tensor, h: Tensor, p: GateParams) -> tuple[Tensor, Tensor]:
    if p.observe is not None:
        p.observe(x, h)
    return F.linear(x, p.weight_ih, p.bias_ih), F.linear(h, p.weight_hh, p.bias_hh)


def _signed(spike: SpikeFn, u: Tensor) -> Tensor:
    """Two spike channels for a signed value: S(u) - S(-u) (1, -1, or 0 at u = 0)."""
    return spike(u) - spike(-u)


def straight_through_clamp(x: Tensor, low: Optional[float], high: float) -> Tensor:
    """``x`` clamped to [low, high] in the forward pass; the gradient is the identity.

    Exact for the values a cell state takes here (|x| <= 2): x + (high - x) rounds to high.
    """
    return x + (x.clamp(low, high) - x).detach()


def strict_spike(spike: SpikeFn, v: Tensor) -> Tensor:
    """``spike(v)`` with H(0) = 0 instead of 1 (snnTorch fires on v > 0); same gradient."""
    s = spike(v)
    if getattr(spike, "spiking", True):
        s = s - (v == 0).to(s.dtype)
    return s


def _heaviside_strict(v: Tensor) -> Tensor:
    return (v > 0).to(v.dtype)


# --------------------------------------------------------------------------- SpikingJelly
def _sj_lstm_update(x: Tensor, state: State, p: GateParams) -> State:
    h, c = state
    ih, hh = _projections(x, h, p)
    u = ih + hh
    if p.candidate_spike is p.spike and not p.signed:  # one surrogate call for the four gates
        i, f, g, o = p.spike(u).chunk(4, dim=-1)
    else:
        u_i, u_f, u_g, u_o = u.chunk(4, dim=-1)
        i, f, o = p.spike(u_i), p.spike(u_f), p.spike(u_o)
        g = _signed(p.candidate_spike, u_g) if p.signed else p.candidate_spike(u_g)
    c = straight_through_clamp(c * f + i * g, -1.0 if p.signed else None, 1.0)
    return c * o, c


def _sj_gru_update(x: Tensor, state: State, p: GateParams) -> State:
    (h,) = state
    ih, hh = _projections(x, h, p)
    ih_r, ih_z, ih_n = ih.chunk(3, dim=-1)
    hh_r, hh_z, hh_n = hh.chunk(3, dim=-1)
    r = p.spike(ih_r + hh_r)
    z = p.spike(ih_z + hh_z)
    u_n = ih_n + r * hh_n
    n = _signed(p.candidate_spike, u_n) if p.signed else p.candidate_spike(u_n)
    return ((1.0 - z) * n + z * h,)


def _first_state(state: State, p: GateParams) -> Tensor:
    return state[0]


# --------------------------------------------------------------------------- snnTorch
RESETS: dict[str, Callable[[Tensor, Tensor, float], Tensor]] = {
    "none": lambda mem, fired, theta: mem,
    "subtract": lambda mem, fired, theta: mem - fired * theta,
    "zero": lambda mem, fired, theta: mem - mem * fired.abs(),
}
"""Membrane after the reset, from the spikes ``fired`` of the previous step (pos - neg if signed)."""


def _fired_before(mem: Tensor, p: GateParams) -> Tensor:
    fired = _heaviside_strict(mem - p.threshold)
    if p.signed:
        fired = fired - _heaviside_strict(-mem - p.threshold)
    return fired


def _snntorch_lstm_update(x: Tensor, state: State, p: GateParams) -> State:
    mem, syn = state
    fired = _fired_before(mem, p)
    ih, hh = _projections(x, mem, p)
    u_i, u_f, u_g, u_o = (ih + hh).chunk(4, dim=-1)
    syn = torch.sigmoid(u_f) * syn + torch.sigmoid(u_i) * torch.tanh(u_g)
    mem = torch.sigmoid(u_o) * torch.tanh(syn)
    return RESETS[p.reset](mem, fired, p.threshold), syn


def _snntorch_gru_update(x: Tensor, state: State, p: GateParams) -> State:
    (mem,) = state
    fired = _fired_before(mem, p)
    ih, hh = _projections(x, mem, p)
    ih_r, ih_z, ih_n = ih.chunk(3, dim=-1)
    hh_r, hh_z, hh_n = hh.chunk(3, dim=-1)
    r = torch.sigmoid(ih_r + hh_r)
    z = torch.sigmoid(ih_z + hh_z)
    n = torch.tanh(ih_n + r * hh_n)
    mem = (1.0 - z) * n + z * mem
    return (RESETS[p.reset](mem, fired, p.threshold),)


def _snntorch_emit(state: State, p: GateParams) -> Tensor:
    mem = state[0]
    spk = strict_spike(p.spike, mem - p.threshold)
    if p.signed:
        spk = spk - strict_spike(p.spike, -mem - p.threshold)
    return spk


# --------------------------------------------------------------------------- registries
LSTM_VARIANTS: Registry[GatedVariant] = Registry("spiking LSTM variant")
GRU_VARIANTS: Registry[GatedVariant] = Registry("spiking GRU variant")

_RESET_NAMES = tuple(RESETS)
LSTM_VARIANTS.register("spikingjelly", GatedVariant("spikingjelly", 4, ("h", "c"), _sj_lstm_update, _first_state,
                                                    default_surrogate=SPIKINGJELLY_SURROGATE))
LSTM_VARIANTS.register("snntorch", GatedVariant("snntorch", 4, ("mem", "syn"), _snntorch_lstm_update,
                                                _snntorch_emit, _RESET_NAMES, "none"))
GRU_VARIANTS.register("spikingjelly", GatedVariant("spikingjelly", 3, ("h",), _sj_gru_update, _first_state,
                                                   default_surrogate=SPIKINGJELLY_SURROGATE))
GRU_VARIANTS.register("snntorch", GatedVariant("snntorch", 3, ("mem",), _snntorch_gru_update,
                                               _snntorch_emit, _RESET_NAMES, "none"))


# --------------------------------------------------------------------------- signed output
SIGNED_OUTPUTS: Registry[Callable[[Tensor], Tensor]] = Registry("signed_output")
"""How a signed layer sends on its pos - neg value: as is, or as the two {0, 1} trains."""
SIGNED_OUTPUTS.register("difference", lambda v: v, width=1)
SIGNED_OUTPUTS.register("pair", lambda v: torch.cat((v.clamp(min=0), (-v).clamp(min=0)), dim=-1), width=2)
