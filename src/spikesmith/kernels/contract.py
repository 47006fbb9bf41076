"""The kernel contract: what a neuron tells the fused kernels (``KernelSpec``) and what one charge
kind gives them (``ChargeKind``: one table entry per kind, its step and derivative in C++ and Triton).

A neuron with a fused kernel returns, from ``kernel_spec()``::

    KernelSpec(LIF, params={"decay": 0.5}, options={"decay_input": True},
               v_threshold=1.0, v_reset=0.0, surrogate=Sigmoid(), detach_reset=False)

and the kernels generate, compile and run the code of ``LIF`` (``kernels.charges``) with the
surrogate's own code (``SurrogateFunction.kernel_code``). A new neuron adds one ``ChargeKind`` (a
module in ``kernels/charges/``) and nothing else in this package.

Every kind shares fire and reset (those of ``spikesmith.dynamics``)::

    h = <charge>;  th = <threshold>;  s = (h - th >= 0);  <update>;
    v = soft ? h - th s : (s ? rest : h)          (rest: V_reset, 0 for a soft reset)

A kind's code is statements on one neuron's floats (C++; a block of neurons in Triton), named:
``x`` the input, ``vth`` and ``rest``, each parameter by its name, each state variable by its name
(its value before the step), and each option by its name (a compile-time bool). The backward adds
``h``, ``s``, ``th``, the compile-time bool ``GD`` (parameter gradients wanted) and, from the shared
fire/reset derivative, ``gh`` = dL/dH and ``gth`` = dL/d(threshold); ``g_<state>`` holds
dL/d(state after the step), which the backward turns into dL/d(state before the step), and it sets
``g_x``; under ``GD`` it adds each gradient parameter's share to ``d_<param>`` (a double).
Temporaries are the kind's own (in Triton they must not start with ``_``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Union

from torch import Tensor

from ..registry import Registry

Scalar = Union[float, Tensor]

#: Charge kinds by name (``"lif"``); each kind registers itself where it is defined.
CHARGES: Registry["ChargeKind"] = Registry("charge kind")

#: Names the generated code uses itself: a kind's states, parameters and options must avoid them.
RESERVED = frozenset({
    "x", "h", "s", "th", "z", "g", "gh", "gth", "gz", "go", "g_x", "vth", "rest", "i", "n", "p0", "p1", "p2",
    "SOFT", "DETACH", "GD", "CKPT", "BLOCK", "T", "N", "K", "tl", "tp", "xt", "st", "ck",
})

_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class ChargeCode:
    """One language's code of a charge kind (see the module docstring for the names it may use).

    charge:     statements that set ``h``.
    backward:   statements from ``gh``, ``gth`` and ``g_<state>``: ``g_x``, the ``g_<state>`` of the
                step before, and under ``GD`` the ``d_<param>`` sums.
    threshold:  an expression for ``th`` (``vth`` unless the threshold moves).
    update:     statements that give the state variables other than ``v`` their values after the
                step (from their values before it, ``h`` and ``s``).
    spike_grad: an expression added to dL/dS: the gradient that reaches S through ``update``.
    h_grad:     an expression added to dL/dH: the gradient that reaches H through ``update``.
    """

    charge: str
    backward: str
    threshold: str = "vth"
    update: str = ""
    spike_grad: str = ""
    h_grad: str = ""


@dataclass(frozen=True, eq=False)
class ChargeKind:
    """One entry of the kernel table: a charge equation and its code in C++ and Triton.

    Args:
        name: the kind's name (registered in ``CHARGES``).
        state: the state variables, ``"v"`` first, in the neuron's ``memory_names()`` order.
        params: the parameters besides ``vth`` and ``rest``: each a float, or a tensor that
            broadcasts to one step's shape.
        cpp, triton: the code (``ChargeCode``) in each language.
        grad_params: the parameters whose gradient the backward computes (a tensor among them that
            requires grad receives it); a tensor parameter outside them must not require grad.
        options: compile-time choices and their defaults (e.g. ``{"decay_input": True}``).
        prev: the state variables the backward reads as they were before each step: ``"always"``
            (e.g. one the threshold uses), or ``"grad"`` where only the parameter gradients do.
        ranges: the closed interval ``(lo, hi)`` each bounded parameter must lie in (``multi_step``
            refuses a value outside it; every parameter must be finite in any case).
        doc: the equations, for messages and the generated sources.
    """

    name: str
    state: tuple[str, ...]
    params: tuple[str, ...]
    cpp: ChargeCode
    triton: ChargeCode
    grad_params: tuple[str, ...] = ()
    options: Mapping[str, bool] = field(default_factory=dict)
    prev: Mapping[str, str] = field(default_factory=dict)
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    doc: str = ""

    def __post_init__(self):
        owner = f"charge kind {self.name!r}"
        if not self.state or self.state[0] != "v":
            raise ValueError(f"{owner}: the state must start with 'v', got {self.state}")
        names = [*self.state, *self.params, *self.options]
        for n in names:
            if not _IDENT.match(n) or n in RESERVED or n.startswith(("g_", "d_")):
                raise ValueError(f"{owner}: {n!r} cannot name a state, parameter or option (it must be a lower-case "
                                 f"identifier, not starting with g_ or d_, and not one of {', '.join(sorted(RESERVED))})")
        if len(set(names)) != len(names):
            raise ValueError(f"{owner}: state, parameter and option names must differ, got {names}")
        bad = [p for p in self.grad_params if p not in self.params]
        if bad:
            raise ValueError(f"{owner}: grad_params {bad} are not among the parameters {list(self.params)}")
        bad = [p for p in self.ranges if p not in self.params]
        if bad:
            raise ValueError(f"{owner}: ranges {bad} are not among the parameters {list(self.params)}")
        for k, when in self.prev.items():
            if k not in self.state or when not in ("always", "grad"):
                raise ValueError(f"{owner}: prev maps a state variable to 'always' or 'grad', got {k!r}: {when!r}")

    def option_bits(self, options: Mapping[str, bool]) -> int:
        """The options as the integer the compiled code switches on (bit k: option k)."""
        return sum(1 << k for k, name in enumerate(self.options) if options[name])

    def __repr__(self) -> str:
        return f"ChargeKind({self.name!r})"


def register(kind: ChargeKind) -> ChargeKind:
    """Add ``kind`` to ``CHARGES`` and return it."""
    CHARGES.register(kind.name, kind)
    return kind


@dataclass(frozen=True, eq=False)
class KernelSpec:
    """A neuron's multi-step dynamics, as the fused kernels run them.

    Args:
        charge: the ``ChargeKind`` (or its name in ``CHARGES``).
        params: a value for each of the kind's parameters, by name (a float, or a tensor that
            broadcasts to one step; see ``ChargeKind.grad_params`` for gradients).
        options: the kind's compile-time options by name (missing ones take the kind's default).
        v_threshold, v_reset: as in the neurons; ``v_reset=None`` is a soft reset.
        surrogate: the spike function (it runs fused where its ``kernel_form()`` is not None).
        detach_reset: cut the gradient through S in the reset.
    """

    charge: ChargeKind
    params: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, bool] = field(default_factory=dict)
    v_threshold: Any = 1.0
    v_reset: Optional[Any] = 0.0
    surrogate: Any = None
    detach_reset: bool = False

    def __post_init__(self):
        kind = self.charge if isinstance(self.charge, ChargeKind) else CHARGES.get(self.charge)
        object.__setattr__(self, "charge", kind)
        owner = f"KernelSpec for charge {kind.name!r}"
        missing = [p for p in kind.params if p not in self.params]
        extra = [p for p in self.params if p not in kind.params]
        if missing or extra:
            raise ValueError(f"{owner}: parameters {sorted(self.params)} do not match the kind's {list(kind.params)} "
                             f"(missing {missing}, unknown {extra})")
        unknown = [o for o in self.options if o not in kind.options]
        if unknown:
            raise ValueError(f"{owner}: unknown options {unknown}; the kind's options: {list(kind.options) or 'none'}")
        object.__setattr__(self, "options", {**kind.options, **{k: bool(v) for k, v in self.options.items()}})
        for name, value in self.params.items():
            if isinstance(value, Tensor) and value.requires_grad and name not in kind.grad_params:
                raise ValueError(f"{owner}: parameter {name!r} requires grad, but the kernel computes gradients only "
                                 f"of {list(kind.grad_params) or 'no parameter'}; detach it or run on scan "
                                 f"(backend='torch')")

    @property
    def soft(self) -> bool:
        return self.v_reset is None

    def values(self) -> list[tuple[str, Any]]:
        """Every number the kernel reads, by its name in the code: ``vth``, ``rest``, then the kind's
        parameters."""
        rest = 0.0 if self.soft else self.v_reset
        return [("vth", self.v_threshold), ("rest", rest), *((p, self.params[p]) for p in self.charge.params)]

    def tensors(self) -> list[Tensor]:
        """The tensor values among the threshold, reset and parameters."""
        return [v for _, v in self.values() if isinstance(v, Tensor)]
