"""SpikingJelly's ``activation_based.base``: ``StepModule``, ``SingleStepModule``, ``MultiStepModule``,
``MemoryModule``, for modules users write themselves.

``MemoryModule`` is a spikesmith ``MemoryModule`` (so ``functional.reset_net`` of either package resets
it) with SpikingJelly's subclass API:

- ``register_memory(name, value)``: state restored to (a copy of) ``value`` by ``reset()``;
- ``forward`` runs ``single_step_forward(x)`` (``step_mode='s'``) or ``multi_step_forward(x_seq)``
  (``'m'``); the default ``multi_step_forward`` runs ``single_step_forward`` at every step and stacks;
- the functional form: a subclass may instead define ``single_step_functional_forward(inputs, states)``
  returning ``(outputs, states)`` (and ``materialize_states(inputs, states, step_mode)``), and the
  default ``single_step_forward`` / ``multi_step_forward`` drive it over the registered memories.
"""

from __future__ import annotations

import copy

import torch

from ....module import InitFrom
from ....module import MemoryModule as _MemoryModule
from ....module import STEP_MODES


class StepModule:
    """Mixin for a module with ``step_mode`` (list it after ``nn.Module``): ``supported_step_mode()``
    names the modes it accepts."""

    def supported_step_mode(self) -> tuple:
        return STEP_MODES

    @property
    def step_mode(self) -> str:
        return self.__dict__.get("_sj_step_mode", "s")

    @step_mode.setter
    def step_mode(self, value: str) -> None:
        if value not in self.supported_step_mode():
            raise ValueError(f"{type(self).__name__}: step_mode must be one of {self.supported_step_mode()}, "
                             f"got {value!r}")
        self.__dict__["_sj_step_mode"] = value


class SingleStepModule(StepModule):
    """A module that only runs one step at a time (``step_mode='s'``)."""

    def supported_step_mode(self) -> tuple:
        return ("s",)


class MultiStepModule(StepModule):
    """A module that only runs whole sequences (``step_mode='m'``)."""

    def supported_step_mode(self) -> tuple:
        return ("m",)

    @property
    def step_mode(self) -> str:
        return self.__dict__.get("_sj_step_mode", "m")

    @step_mode.setter
    def step_mode(self, value: str) -> None:
        StepModule.step_mode.fset(self, value)


class MemoryModule(_MemoryModule):
    """A stateful module written the SpikingJelly way (see the module docstring)."""

    def __init__(self, step_mode: str = "s"):
        super().__init__(step_mode)

    def supported_step_mode(self) -> tuple:
        return STEP_MODES

    def register_memory(self, name: str, value) -> None:
        """Declare the state variable ``name``; ``reset()`` gives it back a copy of ``value``."""
        super().register_memory(name, copy.deepcopy(value))

    def set_reset_value(self, name: str, value) -> None:
        if name not in self._memory_init:
            raise ValueError(f"{type(self).__name__}: {name!r} is not a registered memory; register_memory it first")
        self._memory_init[name] = copy.deepcopy(value)

    def get_reset_value(self, name: str):
        if name not in self._memory_init:
            raise ValueError(f"{type(self).__name__}: {name!r} is not a registered memory")
        return self._memory_init[name]

    def memories(self):
        for name in self.memory_names():
            yield getattr(self, name)

    def named_memories(self):
        for name in self.memory_names():
            yield name, getattr(self, name)

    def reset(self) -> None:
        for name in self.memory_names():
            value = self._memory_init[name]
            value = self.memory_initial(name) if isinstance(value, InitFrom) else copy.deepcopy(value)
            object.__setattr__(self, name, value)

    # ----------------------------------------------------------------- the functional form
    def materialize_states(self, inputs: tuple, states: tuple, step_mode: str) -> tuple:
        return states

    def single_step_functional_forward(self, inputs: tuple, states: tuple, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define single_step_forward(x) or "
                                  f"single_step_functional_forward(inputs, states)")

    def multi_step_functional_forward(self, inputs: tuple, states: tuple, **kwargs):
        steps = []
        for t in range(inputs[0].shape[0]):
            outputs, states = self.single_step_functional_forward(tuple(x[t] for x in inputs), states, **kwargs)
            steps.append(outputs)
        return tuple(torch.stack(seq) for seq in zip(*steps)), states

    def _store_states(self, states: tuple) -> None:
        for name, value in zip(self.memory_names(), states):
            object.__setattr__(self, name, value)

    def single_step_forward(self, x, *args, **kwargs):
        inputs = (x, *args)
        states = self.materialize_states(inputs, tuple(self.memories()), "s")
        outputs, states = self.single_step_functional_forward(inputs, states, **kwargs)
        self._store_states(states)
        return outputs[0] if len(outputs) == 1 else outputs

    def multi_step_forward(self, x_seq, *args, **kwargs):
        if type(self).single_step_functional_forward is MemoryModule.single_step_functional_forward:
            return torch.stack([self.single_step_forward(x, *args, **kwargs) for x in x_seq.unbind(0)])
        inputs = (x_seq, *args)
        states = self.materialize_states(inputs, tuple(self.memories()), "m")
        outputs, states = self.multi_step_functional_forward(inputs, states, **kwargs)
        self._store_states(states)
        return outputs[0] if len(outputs) == 1 else outputs

    def forward(self, *args, **kwargs):
        if self.step_mode == "s":
            return self.single_step_forward(*args, **kwargs)
        return self.multi_step_forward(*args, **kwargs)

    def extra_repr(self) -> str:
        return f"step_mode={self.step_mode}"


__all__ = ["MemoryModule", "MultiStepModule", "SingleStepModule", "StepModule"]
