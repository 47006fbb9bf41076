"""What each neuron class is for the exporters: one entry per class, all of them in this file.

An entry (``NeuronExport``) says what the targets need to run the neuron: the potential it starts at,
whether it is a non-spiking readout, how it maps to a NIR node and to Loihi's CUBA neuron. The targets
read nothing else about a neuron. Entries are *exact*: a subclass may change the dynamics, so it is not
exported as its base until it has an entry of its own.

A neuron the targets cannot express is refused by name, with the reason, in one line::

    refuse(AdaptiveLIFNode, "its threshold adapts after every spike; NIR's and Loihi's thresholds are fixed")

and ``check`` reports ``AdaptiveLIFNode has no nir equivalent (its threshold adapts ...)``. A class
without an entry is refused the same way, without a reason.

The NIR and CUBA mappings (tau in steps, dt in seconds, forward Euler) are derived in the docstrings of
``export.nirgraph`` and ``export.lava``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

import torch
from torch import Tensor, nn

from ..neuron import (
    PSN,
    AdaptiveLIFNode,
    AdLIFNode,
    CubaLIFNode,
    CubaLINode,
    IFNode,
    IntegratorNode,
    IzhikevichNode,
    LIFNode,
    MaskedPSN,
    NonSpikingLIFNode,
    ParametricLIFNode,
    SlidingPSN,
)
from ..typeregistry import TypeRegistry

EVERY_TARGET = "*"


def _zero(m: nn.Module) -> float:
    return 0.0


def _nothing(m: nn.Module) -> dict:
    return {}


@dataclass(frozen=True)
class NeuronExport:
    """How the exporters run one neuron class (see the module docstring).

    Attributes:
        rest: the potential the target's neuron starts at and leaks towards (NIR and Loihi start at rest).
        readout: a non-spiking neuron (its potential is the output); Loihi takes it as the last layer only.
        read_last: the prediction is the argmax of the last step's output (an integrator), not of the mean.
        nir: ``(module, nir, arr, dt) -> NIR node``; ``arr(value)`` gives a float64 array of the layer's
            shape, ``nir`` is the nir package, ``dt`` seconds per step. None: NIR has no such node.
        cuba: ``module -> {"i": current decay, "v": voltage decay, "factor": input scale}`` per step, for
            Loihi's CUBA neuron. None: Loihi cannot run it.
        per_layer: ``module -> {name: value}``: parameters Loihi holds once per layer (checked to be scalars).
        current_tau: ``module -> tau_syn`` for a neuron whose input enters a decaying synaptic current
            (a bias before it would enter the current too, where Loihi adds it to the voltage).
        refused: target name (or ``"*"``) -> why the neuron cannot be exported there.
    """

    rest: Callable[[nn.Module], Any] = _zero
    readout: bool = False
    read_last: bool = False
    nir: Optional[Callable[..., Any]] = None
    cuba: Optional[Callable[[nn.Module], dict]] = None
    per_layer: Callable[[nn.Module], dict] = _nothing
    current_tau: Optional[Callable[[nn.Module], Any]] = None
    refused: Mapping[str, str] = field(default_factory=dict)

    def refusal(self, target: str) -> Optional[str]:
        """Why the neuron cannot be exported to ``target`` (None: nothing refuses it by name)."""
        return self.refused.get(target, self.refused.get(EVERY_TARGET))


NEURON_EXPORTS: TypeRegistry[NeuronExport] = TypeRegistry("neuron export entry")


def declare(cls: type, entry: Optional[NeuronExport] = None, **fields: Any) -> NeuronExport:
    """Register how the exporters run neuron class ``cls`` (``fields`` as ``NeuronExport``'s); return the entry."""
    if entry is None:
        entry = NeuronExport(**fields)
    elif fields:
        raise TypeError("declare: pass either an entry or its fields, not both")
    return NEURON_EXPORTS.register(cls, entry, exact=True)


def refuse(cls: type, reason: str, targets: Optional[tuple[str, ...]] = None) -> NeuronExport:
    """Refuse neuron class ``cls`` by name with ``reason`` on ``targets`` (default: every target)."""
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError(f"refuse({cls.__qualname__}, ...): give the reason the targets cannot express it")
    keys = (EVERY_TARGET,) if targets is None else tuple(targets)
    return declare(cls, refused={key: reason for key in keys})


def entry_of(m: nn.Module) -> Optional[NeuronExport]:
    """The entry of ``m``'s class, or None when it has none."""
    return NEURON_EXPORTS.get(m, None)


def rest_of(m: nn.Module):
    """The potential a NIR/Lava neuron starts at: v_leak (LIF, CubaLIF, LI), else 0 (IF, I)."""
    entry = entry_of(m)
    return 0.0 if entry is None else entry.rest(m)


# ----------------------------------------------------------------------------- the parts of the entries
def _d(v):
    """Parameters in float64 before they meet dt (tau dt must divide back to tau exactly)."""
    return v.detach().double() if isinstance(v, Tensor) else float(v)


def _first(v) -> float:
    return float(torch.as_tensor(v).detach().flatten()[0])


def _rest_potential(m):
    return m.rest_potential()


def _v_rest(m):
    return m.v_rest


def _v_leak(m):
    return m.v_leak


def _tau(m) -> dict:
    return {"tau": getattr(m, "tau", None)}


def _cuba_taus(m) -> dict:
    return {"tau_syn": m.tau_syn, "tau_mem": m.tau_mem}


def _tau_syn(m):
    return m.tau_syn


def _cuba_of_if(m) -> dict:
    return {"i": 1.0, "v": 0.0, "factor": 1.0}


def _cuba_of_lif(m) -> dict:
    tau = _first(m.tau)
    return {"i": 1.0, "v": 1.0 / tau, "factor": 1.0 / tau if m.decay_input else 1.0}


def _cuba_of_cuba(m) -> dict:
    ts, tm = _first(m.tau_syn), _first(m.tau_mem)
    return {"i": 1.0 / ts, "v": 1.0 / tm, "factor": 1.0 / tm if m.decay_input else 1.0}


def _nir_if(m, nir, A, dt):
    return nir.IF(r=A(1.0 / dt), v_threshold=A(m.v_threshold), v_reset=A(m.v_reset))


def _nir_lif(m, nir, A, dt):
    tau = _d(m.tau)
    r = 1.0 if m.decay_input else tau
    return nir.LIF(tau=A(tau * dt), r=A(r), v_leak=A(m.rest_potential()), v_threshold=A(m.v_threshold),
                   v_reset=A(m.v_reset))


def _nir_cuba_lif(m, nir, A, dt):
    r = 1.0 if m.decay_input else m.tau_mem
    return nir.CubaLIF(tau_syn=A(_d(m.tau_syn) * dt), tau_mem=A(_d(m.tau_mem) * dt), r=A(r), v_leak=A(m.rest_potential()),
                       v_threshold=A(m.v_threshold), v_reset=A(m.v_reset), w_in=A(m.tau_syn))


def _nir_li(m, nir, A, dt):
    r = 1.0 if m.decay_input else m.tau
    return nir.LI(tau=A(_d(m.tau) * dt), r=A(r), v_leak=A(m.v_rest))


def _nir_cuba_li(m, nir, A, dt):
    r = 1.0 if m.decay_input else m.tau_mem
    return nir.CubaLI(tau_syn=A(_d(m.tau_syn) * dt), tau_mem=A(_d(m.tau_mem) * dt), r=A(r), v_leak=A(m.v_leak),
                      w_in=A(m.tau_syn))


def _nir_i(m, nir, A, dt):
    return nir.I(r=A(1.0 / dt))


# ----------------------------------------------------------------------------- the entries
declare(IFNode, nir=_nir_if, cuba=_cuba_of_if)
declare(LIFNode, rest=_rest_potential, nir=_nir_lif, cuba=_cuba_of_lif, per_layer=_tau)
declare(ParametricLIFNode, rest=_rest_potential, nir=_nir_lif, cuba=_cuba_of_lif, per_layer=_tau)
declare(CubaLIFNode, rest=_rest_potential, nir=_nir_cuba_lif, cuba=_cuba_of_cuba, per_layer=_cuba_taus,
        current_tau=_tau_syn)
declare(NonSpikingLIFNode, rest=_v_rest, readout=True, nir=_nir_li, cuba=_cuba_of_lif, per_layer=_tau)
declare(CubaLINode, rest=_v_leak, readout=True, nir=_nir_cuba_li, cuba=_cuba_of_cuba, per_layer=_cuba_taus)
declare(IntegratorNode, readout=True, read_last=True, nir=_nir_i, cuba=_cuba_of_if)
_PARALLEL = ("it has no membrane recurrence: H = W X mixes the inputs of {which} through learned weights over time, "
             "which NIR's and Loihi's neurons (one step's state and input) cannot express")
refuse(PSN, _PARALLEL.format(which="all T steps, later ones included,"))
refuse(MaskedPSN, _PARALLEL.format(which="the last k steps (a T x T masked matrix)"))
refuse(SlidingPSN, _PARALLEL.format(which="the last k steps (a kernel over time)"))
refuse(AdaptiveLIFNode, "its threshold adapts after every spike; NIR's and Loihi's neurons have a fixed threshold")
refuse(AdLIFNode, "NIR has no adaptive LIF node: its neurons (IF, LIF, CubaLIF, LI, I) have no adaptation variable, "
                  "and adLIF's w is fed by the membrane potential and the spikes (w = beta w + a u + b s); Loihi's "
                  "CUBA neurons have none either")
refuse(IzhikevichNode, "its membrane is quadratic with a recovery variable; NIR's and Loihi's neurons are linear")
