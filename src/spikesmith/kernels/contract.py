"""The kernel contract: what a neuron tells the fused kernels (``KernelSpec``) and what a charge
kind gives them (``ChargeKind``, one table entry per kind, with its C++ and Triton code).

A neuron with a fused kernel returns, from ``kernel_spec()``::

    KernelSpec(charge=LIF, params={"decay": 0.5}, options={"decay_input": True},
               v_threshold=1.0, v_reset=0.0, surrogate=Sigmoid(), detach_reset=False)

and the kernels generate, compile and run the code of ``LIF`` (``kernels.charges``) with the
surrogate's own code (``SurrogateFunction.kernel_code``). A new neuron adds one ``ChargeKind``
(a file in ``kernels/``) and nothing else in this package.

Every kind shares fire and reset (those of ``spikesmith.dynamics``)::

    h = <charge>;  th = <threshold>;  s = (h - th >= 0);  <update>;
    v = soft ? h - th s : (s ? rest : h)          (rest: V_reset, 0 for a soft reset)

The kind's code is statements on one neuron's float scalars, named:
    ``x`` the input, ``vth`` and ``rest``, each parameter by its name, each state variable by its
    name (its value before the step; ``v`` first), each option by its name (a compile-time bool);
    the backward adds ``h``, ``s``, ``th`` and from the shared fire/reset derivative ``gh`` = dL/dH
    and ``gth`` = dL/dth, ``g_<state>`` = dL/d(state after the step), which it turns into
    dL/d(state before the step), and sets ``g_x``; under ``GD`` it adds each parameter's
    gradient to ``d_<param>`` (a double).
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
    "x", "h", "s", "th", "z", "G", "g", "gh", "gth", "go", "gz", "g_s", "g_x", "vth", "rest", "i", "j", "n",
    "t", "T", "N", "K", "SOFT", "DETACH", "GD", "OPT", "BLOCK", "CKPT", "m", "offs", "row", "srow", "p0", "p1",
    "p2", "spike", "tl",
})

_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class KernelCode:
    """One language's code of a charge kind (see the module docstring for the names it may use).

    charge:     statements that set ``h``.
    threshold:  an expression for ``th`` (``vth`` unless the threshold moves).
    update:     statements that give the state variables other than ``v`` their values after the
                step (from their values before it, ``h`` and ``s``).
    spike_grad: an expression added to dL/dS: the gradient that reaches S through ``update``.
    backward:   statements from ``gh``, ``gth`` and ``g_<state>``: ``g_x``, the ``g_<state>`` of the
                step before, and under ``GD`` the ``d_<param>`` sums.
    """

    charge: str
    backward: str
    threshold: str = "vth"
    update: str = ""
    spike_grad: str = ""


@dataclass(frozen=True)
class ChargeKind:
    """One entry of the kernel table: a charge equation and its code in C++ and Triton.

    Args:
        name: the kind's name (registered in ``CHARGES``).
        state: the state variables, ``"v"`` first (e.g. ``("v", "a")``).
        params: the parameters besides ``vth`` and ``rest``, each a float or a tensor that
            broadcasts to one step.
        grad_params: the parameters whose gradient the backward computes (a tensor parameter
            that requires grad gets it); the others are constants.
        options: compile-time choices, each a bool (e.g. ``("decay_input",)``).
        prev: the state variables the backward reads at each step, before the step:
            ``"always"``, or ``"grad"`` where only the parameter gradients need them.
        cpp, triton: the code (``KernelCode``) in each language.
        doc: the equations, for messages and the generated sources.
    """

    name: str
    state: tuple[str, ...]
    params: tuple[str, ...]
    cpp: KernelCode
    triton: KernelCode
    grad_params: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    prev: Mapping[str, str] = field(default_factory=dict)
    doc: str = ""

    def __post_init__(self):
        owner = f"charge kind {self.name!r}"
        if not self.state or self.state[0] != "v":
            raise ValueError(f"{owner}: the state must start with 'v', got {self.state}")
        names = list(self.state) + list(self.params) + list(self.options)
        for n in names:
            if not _IDENT.match(n) or n in RESERVED or n.startswith(("g_", "d_", "p_", "ck_", "pv_")):
                raise ValueError(f"{owner}: {n!r} cannot name a state, parameter or option (reserved or not a "
                                 f"lower-case identifier); reserved: {', '.join(sorted(RESERVED))}")
        if len(set(names)) != len(names):
            raise ValueError(f"{owner}: state, parameter and option names must differ, got {names}")
        for p in self.grad_params:
            if p not in self.params:
                raise ValueError(f"{owner}: grad_params names {p!r}, which is not a parameter {self.params}")
        for k, when in self.prev.items():
            if k not in self.state or when not in ("always", "grad"):
                raise ValueError(f"{owner}: prev maps a state variable to 'always' or 'grad', got {k!r}: {when!r}")
        if len(self.options) > 4:
            raise ValueError(f"{owner}: at most 4 options (each doubles the compiled variants)")

    def option_code(self, options: Mapping[str, Any]) -> int:
        """The options as the integer the generated code switches on (bit k: option k)."""
        return sum(1 << k for k, name in enumerate(self.options) if options.get(name, False))

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
            broadcasts to one step; a tensor that requires grad gets its gradient where the kind
            computes it).
        options: the kind's compile-time options by name (missing ones are False).
        v_threshold, v_reset: as in the neurons; ``v_reset=None`` is a soft reset.
        surrogate: the spike function (its ``kernel_form()`` must not be None to run fused).
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
        missing = [p for p in kind.params if p not in self.params]
        extra = [p for p in self.params if p not in kind.params]
        if missing or extra:
            raise ValueError(f"KernelSpec for charge {kind.name!r}: parameters {sorted(self.params)} do not match "
                             f"the kind's {list(kind.params)} (missing {missing}, unknown {extra})")
        unknown = [o for o in self.options if o not in kind.options]
        if unknown:
            raise ValueError(f"KernelSpec for charge {kind.name!r}: unknown options {unknown}; "
                             f"the kind's options: {list(kind.options) or 'none'}")

    @property
    def soft(self) -> bool:
        return self.v_reset is None

    def tensors(self) -> list[Tensor]:
        """The tensor values among the parameters, threshold and reset."""
        values = [self.v_threshold, self.v_reset, *self.params.values()]
        return [v for v in values if isinstance(v, Tensor)]
