"""The module every snnTorch-compatible neuron shares: snnTorch's arguments, buffers and calling rules.

A neuron has named states (``state_names``, in the order ``forward`` takes them) and a pure
``step(x, state) -> (spikes, new_state)``; this class does the rest the way snnTorch does:

- ``init_hidden=False``: ``spk, mem = lif(x, mem)``; a state passed in replaces the stored one, a
  state left out continues from the stored one, and ``mem = lif.init_leaky()`` gives zeros;
- ``init_hidden=True``: ``spk = lif(x)`` (``spk, mem = ...`` with ``output=True``); passing a state is
  an error;
- a state whose shape is not the input's starts from zeros (snnTorch's rule: nothing raises), and so
  does one on another device (states are plain attributes, not buffers: ``.to()`` does not move them);
- ``threshold``, ``graded_spikes_factor``, ``beta`` (and ``alpha``, ...) are buffers, or parameters with
  ``learn_threshold`` / ``learn_beta`` ..., under snnTorch's ``state_dict`` names, so a snnTorch
  ``state_dict`` loads strict.

Beyond snnTorch: ``step_mode='m'`` takes a whole ``T x N x ...`` sequence and runs ``step`` through
``dynamics.scan`` (the outputs are stacked over T); ``spikesmith.functional.reset_net`` resets the state.
"""

from __future__ import annotations

from typing import Callable, ClassVar, Optional

import torch
from torch import Tensor, nn

from ...dynamics import scan
from ...module import MemoryModule, check_tensor
from .fire_reset import MECHANISMS, FireParams
from .surrogate import NoGradient, atan


def as_tensor_param(module: nn.Module, name: str, value, learn: bool) -> None:
    """Register ``value`` as a parameter (``learn``) or a buffer named ``name``, as snnTorch does."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Tensor)):
        raise TypeError(f"{type(module).__name__}: {name} must be a number or a tensor, got "
                        f"{type(value).__name__} {value!r}")
    value = torch.as_tensor(value)
    if value.is_floating_point() and torch.isnan(value).any():
        raise ValueError(f"{type(module).__name__}: {name} is NaN; give a number (e.g. {name}=0.9)")
    if learn:
        setattr(module, name, nn.Parameter(value))
    else:
        module.register_buffer(name, value)


class SpikingNeuron(MemoryModule):
    """snnTorch's ``SpikingNeuron`` arguments: threshold, spike_grad, init_hidden, inhibition, ..."""

    #: the states, in the order ``forward`` takes them (and ``reset_mem`` returns them)
    state_names: ClassVar[tuple[str, ...]] = ("mem",)
    #: the states returned after the spikes
    returned_names: ClassVar[tuple[str, ...]] = ("mem",)

    def __init__(self, threshold=1.0, spike_grad: Optional[Callable] = None, surrogate_disable: bool = False,
                 init_hidden: bool = False, inhibition: bool = False, learn_threshold: bool = False,
                 reset_mechanism: str = "subtract", state_quant=False, output: bool = False,
                 graded_spikes_factor=1.0, learn_graded_spikes_factor: bool = False):
        super().__init__(step_mode="s")
        name = type(self).__name__
        if spike_grad is not None and not callable(spike_grad):
            raise TypeError(f"{name}: spike_grad must be a spike function such as surrogate.atan(), got "
                            f"{type(spike_grad).__name__}")
        if state_quant is not False and state_quant is not None and not callable(state_quant):
            raise TypeError(f"{name}: state_quant must be False or a function of the state (e.g. snnTorch's "
                            f"functional.quant.state_quant(num_bits=8)), got {type(state_quant).__name__}")
        if surrogate_disable:
            self.spike_grad = NoGradient()
        else:
            self.spike_grad = atan() if spike_grad is None else spike_grad
        self.surrogate_disable = bool(surrogate_disable)
        self.init_hidden = bool(init_hidden)
        self.inhibition = bool(inhibition)
        self.output = bool(output)
        self.state_quant = state_quant or False
        self.reset_delay = True
        as_tensor_param(self, "threshold", threshold, learn_threshold)
        as_tensor_param(self, "graded_spikes_factor", graded_spikes_factor, learn_graded_spikes_factor)
        self.register_buffer("reset_mechanism_val", torch.as_tensor(0))
        self.reset_mechanism = reset_mechanism
        for state in self.state_names:
            self.register_memory(state, torch.zeros(0))

    # -- snnTorch's reset_mechanism property -------------------------------------------------------
    @property
    def reset_mechanism(self) -> str:
        return self._reset_mechanism

    @reset_mechanism.setter
    def reset_mechanism(self, value: str) -> None:
        if value not in MECHANISMS:
            raise ValueError(f"{type(self).__name__}: reset_mechanism must be 'subtract', 'zero' or 'none', "
                             f"got {value!r}")
        self.reset_mechanism_val = torch.as_tensor(MECHANISMS.index(value))
        object.__setattr__(self, "_reset_mechanism", value)

    def fire_params(self) -> FireParams:
        return FireParams(self.threshold, self.graded_spikes_factor, self._reset_mechanism, self.spike_grad,
                          self.inhibition, self.state_quant or None, self.reset_delay)

    # -- the dynamics ------------------------------------------------------------------------------
    def step(self, x: Tensor, state: tuple) -> tuple[Tensor, tuple]:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define step(x, state)")

    # -- snnTorch's calling rules ------------------------------------------------------------------
    def run(self, x: Tensor, given: tuple):
        check_tensor(x, self)
        if self.init_hidden and any(v is not None for v in given):
            names = ", ".join(f"`{n}`" for n in self.state_names)
            raise TypeError(f"{type(self).__name__}: {names} must not be passed while init_hidden=True; call "
                            f"it with the input only, or build it with init_hidden=False")
        for name, value in zip(self.state_names, given):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"{type(self).__name__}: {name} must be a tensor (the one the last call returned, "
                                f"or reset_mem()'s zeros), got {type(value).__name__}")
        for name, value in zip(self.state_names, given):
            if value is not None:
                object.__setattr__(self, name, value)
        if self.step_mode == "m":
            outs, _ = scan(lambda x_t, _: (self._one_step(x_t), None), x, None)
            return outs
        return self._one_step(x)

    def _one_step(self, x: Tensor):
        state = tuple(self._sized(getattr(self, name), x) for name in self.state_names)
        spk, new = self.step(x, state)
        for name, value in zip(self.state_names, new):
            object.__setattr__(self, name, value)
        if self.init_hidden and not self.output:
            return spk
        named = dict(zip(self.state_names, new))
        return (spk, *(named[name] for name in self.returned_names))

    @staticmethod
    def _sized(value, x: Tensor) -> Tensor:
        if not isinstance(value, Tensor) or value.shape != x.shape or value.device != x.device:
            return torch.zeros_like(x)          # snnTorch's rule, and a state left on another device
        return value

    def reset_mem(self):
        """Zero the states (keeping their shapes) and return them, as snnTorch's ``reset_mem``."""
        for name in self.state_names:
            object.__setattr__(self, name, torch.zeros_like(getattr(self, name)))
        values = tuple(getattr(self, name) for name in self.state_names)
        return values[0] if len(values) == 1 else values

    def reset_hidden_state(self) -> None:
        """What ``utils.reset`` does to each neuron: zero the states and cut them from the graph."""
        self.reset_mem()
        self.detach()

    @classmethod
    def reset_hidden(cls):
        raise TypeError(f"{cls.__name__}.reset_hidden(): spikesmith keeps no global list of neurons; call "
                        f"utils.reset(net) on your network instead")

    @classmethod
    def detach_hidden(cls):
        raise TypeError(f"{cls.__name__}.detach_hidden(): spikesmith keeps no global list of neurons; call "
                        f"spikesmith.functional.detach_net(net) (or neuron.detach()) instead")

    def extra_repr(self) -> str:
        parts = [f"threshold={float(self.threshold.detach().reshape(-1)[0]):g}" if self.threshold.numel() == 1
                 else "threshold=tensor", f"reset_mechanism={self._reset_mechanism!r}"]
        if self.init_hidden:
            parts.append("init_hidden=True")
        if self.output:
            parts.append("output=True")
        if self.step_mode == "m":
            parts.append("step_mode='m'")
        return ", ".join(parts)


class LIF(SpikingNeuron):
    """A ``SpikingNeuron`` with a membrane decay ``beta`` (a parameter with ``learn_beta``)."""

    def __init__(self, beta, threshold=1.0, spike_grad=None, surrogate_disable=False, init_hidden=False,
                 inhibition=False, learn_beta=False, learn_threshold=False, reset_mechanism="subtract",
                 state_quant=False, output=False, graded_spikes_factor=1.0, learn_graded_spikes_factor=False):
        super().__init__(threshold, spike_grad, surrogate_disable, init_hidden, inhibition, learn_threshold,
                         reset_mechanism, state_quant, output, graded_spikes_factor, learn_graded_spikes_factor)
        as_tensor_param(self, "beta", beta, learn_beta)
