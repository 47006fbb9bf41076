"""NeuronSpec: which registered neuron a model builds, with which arguments, checked once.

A model family turns its neuron options (``neuron``, ``tau``, ``surrogate``, ``detach_reset``)
into one spec and builds every neuron from it::

    spec = NeuronSpec.of("plif", tau=3.0)        # tau goes to PLIF's init_tau
    hidden, out = spec.build(), spec.build()     # multi-step neurons

The checks happen when the spec is made: an unknown neuron lists the registered ones; an
argument the neuron's constructor does not take names the neurons that do take it; ``tau`` for
a neuron without a time constant (IF, Izhikevich) is refused the same way instead of dropped.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

from torch import nn

from ..neuron import NEURONS, time_constant_argument

__all__ = ["NeuronSpec", "accepted_arguments", "default_time_constant"]

_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def accepted_arguments(cls: type) -> set[str]:
    """The keyword arguments ``cls(...)`` takes, following ``**kwargs`` up to the base classes."""
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = list(inspect.signature(init).parameters.values())[1:]     # without self
        names |= {p.name for p in params if p.kind in _NAMED}
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
            break
    return names


def default_time_constant(neuron: str) -> Optional[float]:
    """The time constant neuron ``neuron`` has when none is given (its constructor's default),
    or None if it has no time constant."""
    argument = time_constant_argument(neuron)
    if argument is None:
        return None
    for klass in NEURONS.get(neuron).__mro__:
        init = klass.__dict__.get("__init__")
        if init is not None and argument in inspect.signature(init).parameters:
            default = inspect.signature(init).parameters[argument].default
            return None if default is inspect.Parameter.empty else default
    return None


def _neurons_taking(argument: str) -> str:
    takers = [name for name in NEURONS.names() if argument in accepted_arguments(NEURONS.get(name))]
    return ", ".join(takers) if takers else "none"


@dataclass(frozen=True)
class NeuronSpec:
    """A registered neuron (``name``, any accepted spelling) and its constructor ``arguments``."""

    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        canonical = NEURONS.canonical(self.name)             # unknown: lists the registered names
        accepted = accepted_arguments(NEURONS.get(canonical))
        for key in self.arguments:
            if key not in accepted:
                raise ValueError(f"neuron {canonical!r} takes no argument {key!r}; neurons that take it: "
                                 f"{_neurons_taking(key)}")
        object.__setattr__(self, "name", canonical)
        object.__setattr__(self, "arguments", dict(self.arguments))

    @classmethod
    def of(cls, neuron: str, *, tau: Optional[float] = None, surrogate: Optional[str] = None,
           detach_reset: Optional[bool] = None) -> "NeuronSpec":
        """The spec for a model's neuron options.

        ``tau`` goes to the argument that takes the neuron's time constant (``tau``, PLIF's
        ``init_tau``); None keeps the neuron's own default. ``surrogate`` and ``detach_reset``
        are left to the neuron's defaults when None.
        """
        arguments: dict[str, Any] = {}
        if tau is not None:
            argument = time_constant_argument(neuron)
            if argument is None:
                with_tau = [n for n in NEURONS.names() if time_constant_argument(n)]
                raise ValueError(f"option 'tau' does not apply to neuron {NEURONS.canonical(neuron)!r}: it has no "
                                 f"time constant; neurons that accept it: {', '.join(with_tau)}")
            arguments[argument] = tau
        if surrogate is not None:
            from ..surrogate import get as get_surrogate

            get_surrogate(surrogate)                        # an unknown name lists the known ones now
            arguments["surrogate_function"] = surrogate
        if detach_reset is not None:
            arguments["detach_reset"] = detach_reset
        return cls(neuron, arguments)

    @property
    def neuron_class(self) -> type[nn.Module]:
        return NEURONS.get(self.name)

    def build(self, **extra: Any) -> nn.Module:
        """A new neuron, multi-step unless ``extra`` says otherwise; ``extra`` adds per-layer
        arguments (a per-neuron tensor, a step mode) on top of the spec's."""
        return self.neuron_class(**{"step_mode": "m", **self.arguments, **extra})
