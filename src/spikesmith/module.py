"""Base classes for step-mode-aware and stateful modules.

``StepModule``: has a ``step_mode``: ``'s'`` (one step, input ``N x ...``) or ``'m'`` (a whole
sequence, input ``T x N x ...``). ``MemoryModule``: a ``StepModule`` with state (membrane
potentials, last spikes, ...) that ``reset()`` restores and ``detach()`` cuts from the graph.

State lives on the instance as plain tensors: it is neither a parameter nor a buffer, so it is
not in ``state_dict`` and DistributedDataParallel does not broadcast it.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

STEP_MODES = ("s", "m")


def check_step_mode(step_mode: str, owner: str) -> str:
    if step_mode not in STEP_MODES:
        raise ValueError(f"{owner}: step_mode must be 's' (single step) or 'm' (multi step), got {step_mode!r}")
    return step_mode


def owner_name(module: nn.Module) -> str:
    """The name used in error messages: ``layer_name()`` for step modules, else the class name."""
    return module.layer_name() if isinstance(module, StepModule) else type(module).__name__


def check_tensor(x, module: nn.Module) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{owner_name(module)} expects a torch.Tensor input, got {type(x).__name__}")


def check_dims(x, module: nn.Module, layout: str, dims: tuple[int, ...] = (), min_dims: int = 2,
               step_mode: str = "m") -> None:
    """Check a step input: a tensor with ``x.dim()`` in ``dims`` (or ``>= min_dims``).

    The message names the module, the step mode, the layout expected and the shape received:
    ``Conv2d in step_mode='m' expects input of shape [T, N, C, H, W] (5 dims), got shape [8, 3, 32, 32]``.
    """
    check_tensor(x, module)
    ok = x.dim() in dims if dims else x.dim() >= min_dims
    if not ok:
        need = f"{' or '.join(str(d) for d in dims)} dims" if dims else f">= {min_dims} dims"
        hint = ""
        if step_mode == "m" and x.dim() == (min(dims) if dims else min_dims) - 1:
            hint = "; this looks like a single-step input: add the time dimension or use step_mode='s'"
        raise ValueError(
            f"{owner_name(module)} in step_mode={step_mode!r} expects input of shape {layout} ({need}), "
            f"got shape {list(x.shape)}{hint}"
        )


class StepModule(nn.Module):
    """A module whose forward depends on ``step_mode``."""

    def __init__(self, step_mode: str = "s"):
        super().__init__()
        self.step_mode = check_step_mode(step_mode, type(self).__name__)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "step_mode":
            check_step_mode(value, type(self).__name__)
        super().__setattr__(name, value)

    def layer_name(self) -> str:
        """The name given by ``functional.name_layers`` (or the class name)."""
        return self.__dict__.get("_sf_name") or type(self).__name__


class InitFrom:
    """An initial state value read from an attribute at reset time (e.g. a ``v_init`` buffer,
    which ``.to(device)`` and ``load_state_dict`` may replace)."""

    def __init__(self, attribute: str):
        self.attribute = attribute

    def __repr__(self) -> str:
        return f"InitFrom({self.attribute!r})"


class MemoryModule(StepModule):
    """A ``StepModule`` with state registered by ``register_memory(name, initial_value)``."""

    def __init__(self, step_mode: str = "s"):
        super().__init__(step_mode)
        self._memory_init: dict[str, Any] = {}

    def register_memory(self, name: str, value: Any) -> None:
        """Declare a state variable; ``reset()`` sets it back to ``value``."""
        if hasattr(self, name) and name not in self._memory_init:
            raise ValueError(f"{type(self).__name__}: memory name {name!r} is already an attribute")
        self._memory_init[name] = value
        object.__setattr__(self, name, self.memory_initial(name))

    def __setattr__(self, name: str, value: Any) -> None:
        memory = self.__dict__.get("_memory_init")
        if memory is not None and name in memory:          # a state variable set by hand (``node.v = x``)
            object.__setattr__(self, name, value)
            self.__dict__.setdefault("_set_by_hand", set()).add(name)
            return
        super().__setattr__(name, value)

    def set_by_hand(self, name: str) -> bool:
        """Whether state variable ``name`` was assigned by user code since the last ``reset()``."""
        return name in self.__dict__.get("_set_by_hand", ())

    def memory_names(self) -> list[str]:
        return list(self._memory_init)

    def memory_initial(self, name: str) -> Any:
        """The value ``reset()`` gives to the state variable ``name``."""
        value = self._memory_init[name]
        return getattr(self, value.attribute) if isinstance(value, InitFrom) else value

    def reset(self) -> None:
        """Restore every state variable to its initial value (lazily re-created on next input)."""
        for name in self._memory_init:
            object.__setattr__(self, name, self.memory_initial(name))
        self.__dict__.pop("_set_by_hand", None)

    def detach(self) -> None:
        """Detach the state from the autograd graph (truncated BPTT, streams fed in chunks)."""
        for name in self._memory_init:
            value = getattr(self, name)
            if isinstance(value, Tensor):
                object.__setattr__(self, name, value.detach())

    def __getstate__(self):
        state = super().__getstate__() if hasattr(super(), "__getstate__") else self.__dict__.copy()
        state = dict(state)
        # Pickle the initial state, not a live (possibly graph-attached) one.
        for name in self._memory_init:
            state[name] = self.memory_initial(name)
        if "_state_shape" in state:
            state["_state_shape"] = None
        return state


def as_float_tensor(value: Tensor) -> Tensor:
    """A detached float copy of a parameter tensor, for registering as a buffer."""
    value = value.detach().clone()
    return value if value.is_floating_point() else value.to(torch.get_default_dtype())
