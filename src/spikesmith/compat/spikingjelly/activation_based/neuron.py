"""SpikingJelly's ``activation_based.neuron`` on spikesmith's neurons, with SpikingJelly's arguments.

``IFNode``, ``LIFNode``, ``ParametricLIFNode``: spikesmith's neurons (fused kernels where they apply) with
SpikingJelly's argument order and defaults: ``(v_threshold=1., v_reset=0., surrogate_function=Sigmoid(),
detach_reset=False, step_mode='s', store_v_seq=False)``, plus ``backend=`` (``'torch'`` / ``'cupy'`` /
``'triton'``, mapped onto ours with one notice; the older order with ``backend`` before ``store_v_seq`` is
accepted too). ``v_threshold <= v_reset`` (a hard reset at or above threshold) is accepted with a warning.

Custom neurons the SpikingJelly way: subclass ``BaseNode`` (or ``SimpleBaseNode``, which starts from V = 0)
and write ``neuronal_charge(self, x)`` updating ``self.v``; ``neuronal_fire(self)`` and
``neuronal_reset(self, spike)`` may be overridden too; or write SpikingJelly 2.0's functional form,
``single_step_functional_forward(inputs, states) -> (outputs, states)`` (``states[0]`` is V). Such a neuron
runs on spikesmith's ``scan``, one step after another, with those methods (never on a fused kernel). A subclass that overrides
``single_step_forward`` alone gets a ``multi_step_forward`` that loops it.
"""

from __future__ import annotations

import inspect
import warnings

import torch

from .... import neuron as _sf
from .._backend import map_backend, outside_stacklevel, supported_backends
from .._missing import missing_name
from .base import MemoryModule


class ThresholdNotAboveResetWarning(UserWarning):
    """A neuron has v_threshold <= v_reset: after its first spike it may fire at every step."""


def _takes_state(method) -> bool:
    """Whether ``neuronal_charge`` is spikesmith's ``(self, x, state)`` (False: SpikingJelly's ``(self, x)``)."""
    try:
        return len(inspect.signature(method).parameters) >= 3
    except (TypeError, ValueError):
        return True


def _sj_step(self, x, state):
    """One step the SpikingJelly way: charge (updating ``self.v``), fire, reset, on explicit state."""
    names = self.memory_names()
    for name, value in zip(names, state):
        object.__setattr__(self, name, value)
    charge = type(self).neuronal_charge
    if _takes_state(charge):
        object.__setattr__(self, "v", charge(self, x, state))
    else:
        self.neuronal_charge(x)
    spike = self.neuronal_fire()
    self.neuronal_reset(spike)
    return (spike, self.v), tuple(getattr(self, name) for name in names)


def _functional_step(self, x, state):
    """One step of a neuron written in SpikingJelly 2.0's functional form,
    ``single_step_functional_forward(inputs, states) -> (outputs, states)``."""
    outputs, state = self.single_step_functional_forward((x,), tuple(state))
    return (outputs[0], state[0]), tuple(state)


def _loop_single_steps(self, x_seq):
    return torch.stack([self.single_step_forward(x) for x in x_seq.unbind(0)])


def _order(store_v_seq, backend):
    """SpikingJelly 2.0 puts ``store_v_seq`` sixth, the older API ``backend``: accept either."""
    if isinstance(store_v_seq, str):
        store_v_seq, backend = (backend if isinstance(backend, bool) else False), store_v_seq
    return bool(store_v_seq), backend


class BaseNode(_sf.BaseNode, MemoryModule):
    """The base of SpikingJelly-style neurons (see the module docstring)."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        sj_charge = "neuronal_charge" in cls.__dict__ and not _takes_state(cls.__dict__["neuronal_charge"])
        own_fire_reset = any(m in cls.__dict__ for m in ("neuronal_fire", "neuronal_reset"))
        if "single_step_functional_forward" in cls.__dict__ and "step" not in cls.__dict__:
            cls.step = _functional_step
        elif (sj_charge or own_fire_reset) and "step" not in cls.__dict__:
            cls.step = _sj_step
        if "single_step_forward" in cls.__dict__ and "multi_step_forward" not in cls.__dict__:
            cls.multi_step_forward = _loop_single_steps

    def __init__(self, v_threshold: float = 1.0, v_reset=0.0, surrogate_function=None, detach_reset: bool = False,
                 step_mode: str = "s", store_v_seq=False, backend: str = "torch", **kwargs):
        store_v_seq, backend = _order(store_v_seq, backend)
        super().__init__(v_threshold=v_threshold, v_reset=v_reset, surrogate_function=surrogate_function,
                         detach_reset=detach_reset, step_mode=step_mode, backend=map_backend(backend, type(self).__name__),
                         store_v_seq=store_v_seq, **kwargs)

    def threshold_not_above_reset(self, v_threshold, v_reset) -> None:
        warnings.warn(f"{type(self).__name__}: v_threshold={v_threshold} is not above v_reset={v_reset}; accepted as "
                      f"SpikingJelly does, but after a spike the neuron may fire at every step",
                      ThresholdNotAboveResetWarning, stacklevel=outside_stacklevel())

    @property
    def backend(self) -> str:
        return self.__dict__["_sj_backend"]

    @backend.setter
    def backend(self, value: str) -> None:
        self.__dict__["_sj_backend"] = map_backend(value, type(self).__name__)

    @property
    def supported_backends(self) -> tuple:
        """SpikingJelly's list: ``('torch',)`` in single-step mode, ``('torch', 'cupy', 'triton')`` in multi-step."""
        return supported_backends(self.step_mode)

    def single_step_forward(self, x):
        """One step; with ``store_v_seq=True`` the membrane after it is appended to ``v_seq``, as in
        SpikingJelly 2.0 (a new sequence starts when the shape changes; ``reset()`` clears it)."""
        spike = super().single_step_forward(x)
        if self.store_v_seq and isinstance(self.v, torch.Tensor):
            v = self.v.unsqueeze(0)
            seq = self.v_seq
            fresh = seq is None or seq.shape[1:] != v.shape[1:] or seq.dtype != v.dtype or seq.device != v.device
            self.v_seq = v.clone() if fresh else torch.cat((seq, v))
        return spike

    # SpikingJelly's fire and reset, used by neurons that write neuronal_charge(self, x)
    def neuronal_fire(self):
        return self.surrogate_function(self.v - self.v_threshold)

    def neuronal_reset(self, spike) -> None:
        spike_d = spike.detach() if self.detach_reset else spike
        if self.v_reset is None:
            self.v = self.v - self.v_threshold * spike_d
        else:
            self.v = spike_d * self.v_reset + (1.0 - spike_d) * self.v

    def v_float_to_tensor(self, x) -> None:
        """SpikingJelly's helper: make ``self.v`` a tensor shaped like ``x`` (it already is here)."""
        if not isinstance(self.v, torch.Tensor):
            object.__setattr__(self, "v", torch.full_like(x, float(self.v)))


class IFNode(_sf.IFNode, BaseNode):
    """SpikingJelly's ``IFNode``: H = V + X."""

    def __init__(self, v_threshold: float = 1.0, v_reset=0.0, surrogate_function=None, detach_reset: bool = False,
                 step_mode: str = "s", store_v_seq=False, backend: str = "torch"):
        BaseNode.__init__(self, v_threshold, v_reset, surrogate_function, detach_reset, step_mode, store_v_seq, backend)


class LIFNode(_sf.LIFNode, BaseNode):
    """SpikingJelly's ``LIFNode``: H = V + (X - (V - V_reset)) / tau (``decay_input=False``: the input undecayed)."""

    def __init__(self, tau: float = 2.0, decay_input: bool = True, v_threshold: float = 1.0, v_reset=0.0,
                 surrogate_function=None, detach_reset: bool = False, step_mode: str = "s", store_v_seq=False,
                 backend: str = "torch"):
        store_v_seq, backend = _order(store_v_seq, backend)
        _sf.LIFNode.__init__(self, tau=tau, decay_input=decay_input, v_threshold=v_threshold, v_reset=v_reset,
                             surrogate_function=surrogate_function, detach_reset=detach_reset, step_mode=step_mode,
                             store_v_seq=store_v_seq, backend=backend)


class ParametricLIFNode(_sf.ParametricLIFNode, BaseNode):
    """SpikingJelly's ``ParametricLIFNode``: LIF with 1/tau = sigmoid(w) learned, w0 = -log(init_tau - 1)."""

    def __init__(self, init_tau: float = 2.0, decay_input: bool = True, v_threshold: float = 1.0, v_reset=0.0,
                 surrogate_function=None, detach_reset: bool = False, step_mode: str = "s", store_v_seq=False,
                 backend: str = "torch"):
        store_v_seq, backend = _order(store_v_seq, backend)
        _sf.ParametricLIFNode.__init__(self, init_tau=init_tau, decay_input=decay_input, v_threshold=v_threshold,
                                       v_reset=v_reset, surrogate_function=surrogate_function,
                                       detach_reset=detach_reset, step_mode=step_mode, store_v_seq=store_v_seq,
                                       backend=backend)


class SimpleBaseNode(BaseNode):
    """SpikingJelly's ``SimpleBaseNode``: a neuron written as ``neuronal_charge(self, x)``; V starts at 0."""

    def __init__(self, v_threshold: float = 1.0, v_reset=0.0, surrogate_function=None, detach_reset: bool = False,
                 step_mode: str = "s"):
        BaseNode.__init__(self, v_threshold, v_reset, surrogate_function, detach_reset, step_mode, v_init=0.0)

    def neuronal_charge(self, x) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define neuronal_charge(self, x), updating self.v")


class SimpleIFNode(SimpleBaseNode):
    """SpikingJelly's ``SimpleIFNode``: V = V + X, step by step."""

    def neuronal_charge(self, x) -> None:
        self.v = self.v + x


class SimpleLIFNode(SimpleBaseNode):
    """SpikingJelly's ``SimpleLIFNode(tau, decay_input)``: V = V + (V_reset - V + X) / tau, or with
    ``decay_input=False`` V = V + (V_reset - V) / tau + X (V_reset taken as 0 for a soft reset)."""

    def __init__(self, tau: float, decay_input: bool, v_threshold: float = 1.0, v_reset=0.0, surrogate_function=None,
                 detach_reset: bool = False, step_mode: str = "s"):
        super().__init__(v_threshold, v_reset, surrogate_function, detach_reset, step_mode)
        _sf.lif.check_tau(tau, type(self).__name__)
        self.tau = float(tau)
        self.decay_input = bool(decay_input)

    def neuronal_charge(self, x) -> None:
        rest = 0.0 if self.v_reset is None else self.v_reset
        if self.decay_input:
            self.v = self.v + (rest - self.v + x) / self.tau
        else:
            self.v = self.v + (rest - self.v) / self.tau + x


class OTTTLIFNode(LIFNode):
    """SpikingJelly's ``OTTTLIFNode`` (online training through time), single-step only, with its defaults
    ``tau=2, decay_input=False, v_reset=None, detach_reset=True``. In training the membrane enters each
    step detached (no gradient through time) and the node returns ``[spike, trace]``, the trace
    ``trace (1 - 1/tau) + spike`` carried without gradient (``layer.OTTTSequential`` uses it); in eval
    it returns the spikes alone. ``reset()`` clears the trace with the membrane."""

    def __init__(self, tau: float = 2.0, decay_input: bool = False, v_threshold: float = 1.0, v_reset=None,
                 surrogate_function=None, detach_reset: bool = True, step_mode: str = "s", store_v_seq=False):
        if step_mode != "s":
            raise ValueError(f"OTTTLIFNode runs single-step only (its memory-efficient training), got "
                             f"step_mode={step_mode!r}")
        super().__init__(tau, decay_input, v_threshold, v_reset, surrogate_function, detach_reset, step_mode,
                         store_v_seq)
        self.trace = None

    def supported_step_mode(self) -> tuple:
        return ("s",)

    def reset(self) -> None:
        super().reset()
        self.trace = None

    def single_step_forward(self, x):
        if not self.training:
            return super().single_step_forward(x)
        if isinstance(self.v, torch.Tensor):
            object.__setattr__(self, "v", self.v.detach())
        spike = super().single_step_forward(x)
        with torch.no_grad():
            trace = torch.zeros_like(self.v) if self.trace is None else self.trace
            self.trace = trace * (1.0 - 1.0 / self.tau) + spike
        return [spike, self.trace]


_NEAREST = {
    "IzhikevichNode": "spikesmith.neuron.IzhikevichNode (parameterised differently: rebuild it by hand)",
    "LIFNodeWithAdaptiveThreshold": "spikesmith.neuron.AdaptiveLIFNode",
    "AdaptBaseNode": "spikesmith.neuron.AdaptiveLIFNode",
    "NonSpikingIFNode": "spikesmith.neuron.IntegratorNode (decode v_seq yourself)",
    "NonSpikingLIFNode": "spikesmith.neuron.NonSpikingLIFNode (decode v_seq yourself)",
    "CLIFNode": "spikesmith.neuron.LIFNode, or a BaseNode subclass with neuronal_charge(self, x)",
    "KLIFNode": "spikesmith.neuron.LIFNode, or a BaseNode subclass with neuronal_charge(self, x)",
    "QIFNode": "a BaseNode subclass with neuronal_charge(self, x) (the SpikingJelly tutorial's way)",
    "EIFNode": "a BaseNode subclass with neuronal_charge(self, x) (the SpikingJelly tutorial's way)",
    "PSN": "no counterpart yet (parallel spiking neurons)",
}

__all__ = ["BaseNode", "IFNode", "LIFNode", "OTTTLIFNode", "ParametricLIFNode", "SimpleBaseNode", "SimpleIFNode", "SimpleLIFNode",
           "ThresholdNotAboveResetWarning"]


def __getattr__(name: str):
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    raise missing_name(__name__, name, _NEAREST, __all__)
