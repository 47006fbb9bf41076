"""What the fused kernels accept, checked in Python before anything reaches compiled code.

Two levels, so that the neurons' hot path pays only for what is cheap:

``structure`` (every call, ``fused.run``): ``time_chunk`` (a positive int, or None for the whole
sequence; capped at T), at least one time step, a surrogate that declares its kernel form, and
states and tensor parameters that broadcast to one step. Shapes and Python numbers only: no pass
over a tensor, no device synchronisation.

``keywords`` (the public ``multi_step`` of either backend, on top): the input's dtype and rank,
every number and tensor finite (thresholds, reset, the kind's parameters, initial states given as
numbers), each parameter within its kind's range (``ChargeKind.ranges``), a hard reset below the
threshold, and a bool ``detach_reset``. The neurons check the same when they are built.

Every failure is a one-line ``ValueError`` / ``TypeError`` that names the argument and the fix.
"""

from __future__ import annotations

import math
import numbers
from typing import Optional, Sequence

import torch
from torch import Tensor

from .contract import KernelSpec

EMPTY_SEQUENCE = "x_seq has T=0 time steps; multi-step input needs at least one step"


def time_chunk(value, T: int) -> int:
    """``value`` as the kernels' steps between kept states: a positive int (at most T: a chunk
    longer than the sequence is the whole sequence), or None for the whole sequence."""
    if value is None:
        return max(1, T)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"time_chunk must be a positive int (steps between kept states), got {value!r}; "
                         f"pass time_chunk=None to keep only the first state of the sequence")
    return int(min(int(value), max(1, T)))


def check_steps(x_seq: Tensor) -> None:
    """At least one time step (an error naming T=0, not an IndexError)."""
    if x_seq.dim() < 1 or x_seq.shape[0] == 0:
        raise ValueError(f"{EMPTY_SEQUENCE}, got x_seq of shape {list(x_seq.shape)}")


def _broadcasts(value: Tensor, shape: torch.Size) -> bool:
    try:
        return torch.broadcast_shapes(value.shape, shape) == shape
    except RuntimeError:
        return False


def structure(spec: KernelSpec, x_seq: Tensor, state: Sequence, owner: str = "fused kernel") -> None:
    """The cheap checks of every call (see the module docstring)."""
    kind = spec.charge
    check_steps(x_seq)
    kernel_form = getattr(spec.surrogate, "kernel_form", None)
    if not callable(kernel_form):
        raise TypeError(f"{owner}: surrogate must be a spikesmith SurrogateFunction, got "
                        f"{type(spec.surrogate).__name__}; pass e.g. surrogate.Sigmoid()")
    form = kernel_form()
    if form is None:
        raise ValueError(f"the fused kernels do not support the surrogate {spec.surrogate!r} (its class declares no "
                         f"kernel_code); use the scan path (backend='torch')")
    if not all(math.isfinite(p) for p in form.params):
        raise ValueError(f"{owner}: the surrogate's parameters {form.params} are not all finite; give it finite "
                         f"hyper-parameters")
    if len(state) != len(kind.state):
        raise ValueError(f"charge kind {kind.name!r} has the state {kind.state}; got {len(state)} initial values")
    step = x_seq.shape[1:]
    for name, value in zip(kind.state, state):
        if isinstance(value, Tensor):
            if not value.is_floating_point():
                raise TypeError(f"{owner}: the initial {name} must be a floating tensor or a number, got {value.dtype}")
            if not _broadcasts(value, step):
                raise ValueError(f"{owner}: the initial {name} of shape {list(value.shape)} does not broadcast to one "
                                 f"step of the input, {list(step)}")
        elif isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{owner}: the initial {name} must be a tensor or a number, got {type(value).__name__}")
    for name, value in spec.values():
        if isinstance(value, Tensor) and value.numel() > 1 and not _broadcasts(value, step):
            raise ValueError(f"{owner}: {name} of shape {list(value.shape)} does not broadcast to one step of the "
                             f"input, {list(step)}; give per-channel values a shape like [C, 1, 1]")


def _finite(name: str, value, owner: str) -> None:
    if isinstance(value, Tensor):
        ok = bool(torch.isfinite(value.detach()).all()) if value.is_floating_point() else True
    elif isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number or a tensor, got {type(value).__name__}")
    else:
        ok = math.isfinite(value)
    if not ok:
        raise ValueError(f"{owner}: {name} must be finite, got {_show(value)}; give a finite number")


def _show(value) -> str:
    if isinstance(value, Tensor):
        return f"a tensor with {'NaN' if bool(torch.isnan(value).any()) else 'Inf'}" if value.is_floating_point() \
            else f"a {value.dtype} tensor"
    return repr(value)


def _bounds(value) -> tuple[float, float]:
    if isinstance(value, Tensor):
        v = value.detach()
        return float(v.min()), float(v.max())
    return float(value), float(value)


def keywords_input(x_seq, owner: str = "multi_step", device_type: Optional[str] = None) -> None:
    """``x_seq`` of the public ``multi_step``: a float32 tensor (on ``device_type``), [T, N, ...], T >= 1."""
    if not isinstance(x_seq, Tensor) or x_seq.dtype != torch.float32 or (
            device_type is not None and x_seq.device.type != device_type):
        what = type(x_seq).__name__ if not isinstance(x_seq, Tensor) else f"{x_seq.dtype} on {x_seq.device}"
        where = f" {device_type.upper()}" if device_type else ""
        raise TypeError(f"the fused{where} kernel takes a float32{where} tensor, got {what}; convert it with "
                        f".float(){'.cpu()' if device_type == 'cpu' else ''}, or use the neuron's scan path "
                        f"(backend='torch')")
    if x_seq.dim() < 2:
        raise ValueError(f"{owner}: x_seq must be [T, N, ...] (time first, then at least one neuron dim), got shape "
                         f"{list(x_seq.shape)}; add a neuron dim with x_seq.unsqueeze(1)")
    check_steps(x_seq)


def keywords(spec: KernelSpec, x_seq: Tensor, state: Sequence, owner: str = "multi_step") -> None:
    """The full checks of the public ``multi_step`` (see the module docstring), after ``keywords_input``."""
    if not isinstance(spec.detach_reset, bool):
        raise TypeError(f"{owner}: detach_reset must be a bool, got {type(spec.detach_reset).__name__}")
    kind = spec.charge
    for name, value in spec.values():
        if name == "rest" and spec.soft:
            continue
        label = {"vth": "v_threshold", "rest": "v_reset"}.get(name, name)
        _finite(label, value, owner)
        if name in kind.ranges:
            lo, hi = kind.ranges[name]
            vmin, vmax = _bounds(value)
            if vmin < lo or vmax > hi:
                raise ValueError(f"{owner}: {name} must lie in [{lo:g}, {hi:g}] for charge {kind.name!r}, got "
                                 f"{_show(value) if isinstance(value, Tensor) else value!r}")
    if not spec.soft:
        th_min, _ = _bounds(spec.v_threshold)
        _, reset_max = _bounds(spec.v_reset)
        if not th_min > reset_max:
            raise ValueError(f"{owner}: v_threshold must be greater than v_reset, got v_threshold={spec.v_threshold!r} "
                             f"and v_reset={spec.v_reset!r}; raise the threshold or lower the reset potential")
    for name, value in zip(kind.state, state):
        if not isinstance(value, Tensor):
            _finite(f"the initial {name} ({name}0)", value, owner)
        elif value.device != x_seq.device:
            raise ValueError(f"{owner}: the initial {name} is on {value.device} and x_seq on {x_seq.device}; move "
                             f"it with .to(x_seq.device)")
