"""The fused kernels on the CPU: C++ generated per charge kind (``_cpp``), compiled with OpenMP on
first use (``_build``) and called through the one struct of ``_abi``.

    s_seq, v_T, a_T = multi_step(x_seq, v0, charge="lif", v_threshold=1.0, v_reset=0.0, decay=0.5,
                                 surrogate=Sigmoid(alpha=4.0))

``x_seq`` is ``T x N x ...`` float32 on the CPU. The neurons call ``fused.run`` with this module's
``LAUNCHER`` (``backend.run``); ``multi_step`` is the same by keyword arguments.
"""

from __future__ import annotations

import ctypes
from typing import Optional, Union

import torch
from torch import Tensor

from . import _abi, _build, arguments, ops
from .contract import CHARGES, KernelSpec
from .fused import DEFAULT_TIME_CHUNK, run


def available(kind=None) -> bool:
    """Whether the compiled CPU kernels of ``kind`` (default: IF's) can be used (builds them on the
    first call)."""
    kind = kind if kind is not None else CHARGES.get("if")
    if torch.compiler.is_compiling():
        return _available_by_name(kind.name)   # Dynamo cannot hash a kind (a dataclass with a dict) as a key
    return _build.library(kind) is not None


@torch.compiler.assume_constant_result
def _available_by_name(name: str) -> bool:
    """``available`` of the registered kind ``name``, run once while ``torch.compile`` traces and
    taken as a constant of the compiled code."""
    return _build.library(CHARGES.get(name)) is not None


def unavailable_reason() -> Optional[str]:
    return _build.error()


def _ptr(t: Optional[Tensor]):
    return None if t is None else t.data_ptr()


class _Launcher:
    """Fills ``_abi.Args`` and calls the kind's ``sf_forward`` / ``sf_backward``."""

    name = 'cpu'
    fills_in_kernel = True   # a fresh state and a zero state gradient are written tile by tile

    @staticmethod
    def _args(plan, x: Tensor, T: int, N: int) -> _abi.Args:
        a = _abi.Args()
        a.T, a.N, a.K = T, N, plan.time_chunk
        a.nthreads = torch.get_num_threads()
        a.soft, a.detach, a.options = int(plan.soft), int(plan.detach), plan.options
        a.x = x.data_ptr()
        for k, (t, stride) in enumerate(plan.params):
            a.param[k], a.pstride[k] = t.data_ptr(), stride
        return a

    def forward(self, plan, x, s, states, ck, init):
        lib = _build.library(plan.kind)
        if lib is None:
            raise RuntimeError(f"spikesmith: the CPU kernels of {plan.kind.name!r} could not be built: {_build.error()}")
        T, N = x.shape
        a = self._args(plan, x, T, N)
        a.s = s.data_ptr()
        a.init = int(init is not None)
        for k, st in enumerate(states):
            a.state[k] = st.data_ptr()
            a.ck[k] = _ptr(ck[k]) if ck else None
            a.init_value[k] = init[k] if init is not None else 0.0
        rc = lib.cdll.sf_forward(ctypes.byref(a))
        if rc != 0:
            raise RuntimeError(f"spikesmith kernel sf_forward ({plan.kind.name}): unsupported variant (code {rc})")

    def backward(self, plan, x, gs, gx, gstates, gparams, ck, zero_gstate, need_gd):
        lib = _build.library(plan.kind, plan.form.code)
        number = None if lib is None else lib.surrogate_number(plan.form.code)
        if number is None:
            raise RuntimeError(f"spikesmith: the CPU kernels of {plan.kind.name!r} with the surrogate code "
                               f"{plan.form.code.name!r} could not be built: {_build.error()}")
        T, N = x.shape
        a = self._args(plan, x, T, N)
        a.gs, a.gx = gs.data_ptr(), gx.data_ptr()
        a.zero_gstate, a.grad_params = int(zero_gstate), int(need_gd)
        a.surrogate = number
        a.p0, a.p1, a.p2 = plan.form.params
        for k, g in enumerate(gstates):
            a.gstate[k], a.ck[k] = g.data_ptr(), ck[k].data_ptr()
        for name, g in gparams.items():
            a.gparam[plan.param_names.index(name)] = g.data_ptr()
        rc = lib.cdll.sf_backward(ctypes.byref(a))
        if rc == _abi.NOMEM:
            raise MemoryError(f"spikesmith kernel sf_backward ({plan.kind.name}): could not allocate "
                              f"{a.fail_rows * a.fail_row_bytes} bytes of scratch ({a.fail_rows} x {a.fail_row_bytes} "
                              f"bytes, time_chunk={plan.time_chunk}); lower time_chunk or the number of threads")
        if rc != 0:
            raise RuntimeError(f"spikesmith kernel sf_backward ({plan.kind.name}): unsupported variant (code {rc})")


LAUNCHER = _Launcher()
ops.LAUNCHERS[LAUNCHER.name] = LAUNCHER


def spec_from_keywords(charge: str, v_threshold, v_reset, surrogate, detach_reset: bool, named: dict):
    """``multi_step``'s keywords as a ``KernelSpec`` and the initial values of the states after V
    (``a0`` for a state named ``a``)."""
    kind = CHARGES.get(charge)
    params = {p: named.pop(p) for p in kind.params if p in named}
    options = {o: named.pop(o) for o in kind.options if o in named}
    missing = [f"{s}0" for s in kind.state[1:] if f"{s}0" not in named]
    if missing:
        raise ValueError(f"charge {kind.name!r} needs the initial state {', '.join(missing)}")
    extra_state = [named.pop(f"{s}0") for s in kind.state[1:]]
    if named:
        accepted = [*kind.params, *kind.options, *(f"{s}0" for s in kind.state[1:])]
        raise TypeError(f"multi_step: charge {kind.name!r} takes no argument {', '.join(sorted(named))}; "
                        f"its arguments: {', '.join(accepted) or 'none'}")
    spec = KernelSpec(kind, params, options, v_threshold=v_threshold, v_reset=v_reset, surrogate=surrogate,
                      detach_reset=detach_reset)
    return spec, extra_state


def multi_step(x_seq: Tensor, v0: Union[Tensor, float], *, charge: str, v_threshold, v_reset, surrogate,
               detach_reset: bool = False, time_chunk: Optional[int] = DEFAULT_TIME_CHUNK,
               **named) -> tuple[Tensor, Tensor, Optional[Tensor]]:
    """Run a whole sequence through the fused CPU kernel; returns ``(spikes, v_T, second state or None)``.

    Args:
        x_seq: ``T x N x ...`` float32 CPU tensor.
        v0: the membrane potential before the first step, one step's shape, or a number: a fresh
            state with every neuron at that value (filled by the kernel, no N array to read).
        charge: a charge kind's name (``'if'``, ``'lif'``, ``'alif'``, ... : ``contract.CHARGES``).
        v_threshold, v_reset: as in the neurons; ``v_reset=None`` is a soft reset.
        surrogate: a surrogate that declares its kernel form.
        time_chunk: steps between kept states (see ``fused``): a positive int (capped at T), or None
            for the whole sequence.

    Every argument is checked here (``arguments.keywords``) before it reaches the compiled code.
        **named: the kind's parameters (``decay=0.5``; a tensor that requires grad receives its
            gradient where the kind computes it), options (``decay_input=True``) and the initial
            value of each state after V (``a0`` for ALIF's ``a``).
    """
    arguments.keywords_input(x_seq, "multi_step", device_type="cpu")
    spec, rest = spec_from_keywords(charge, v_threshold, v_reset, surrogate, detach_reset, named)
    arguments.keywords(spec, x_seq, [v0, *rest], "multi_step")
    s, state = run(LAUNCHER, spec, x_seq, [v0, *rest], time_chunk)
    return s, state[0], (state[1] if len(state) > 1 else None)
