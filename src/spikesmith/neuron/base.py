"""The common machinery of spiking neurons: parameters, lazy state, step modes, hooks.

A neuron is charge -> fire -> (step hooks) -> reset, with the equations in
``spikesmith.dynamics``. Subclasses write only ``neuronal_charge`` (and, for extra state
such as an adaptation variable, ``effective_threshold`` / ``update_extra_state``).

Shapes: ``step_mode='s'`` takes ``N x ...``; ``step_mode='m'`` takes ``T x N x ...`` and
returns ``T x N x ...``. The state is created on first input with the input's shape; a
different shape without ``reset()`` (``functional.reset_net``) is an error.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Optional, Union

import torch
from torch import Tensor
from torch.utils.hooks import RemovableHandle

from .. import _config, kernels, reset_check
from ..dynamics import fire, reset, scan
from ..kernels import KernelSpec
from ..kernels.arguments import EMPTY_SEQUENCE
from ..kernels.backend import BACKENDS, check_backend  # noqa: F401  (BACKENDS: re-exported by neuron)
from ..module import InitFrom, MemoryModule, as_float_tensor, check_dims
from ..surrogate import SurrogateFunction
from ..surrogate import get as get_surrogate

Scalar = Union[float, Tensor]
StepHook = Callable[["BaseNode", Tensor, Tensor], Optional[tuple[Tensor, Tensor]]]

#: The methods that define a neuron's dynamics: a subclass that overrides one of them is not the
#: neuron a fused kernel implements, and runs on ``scan``.
_DYNAMICS_METHODS = (
    "step", "_spike_only", "neuronal_charge", "effective_threshold", "update_extra_state", "decay",
    "rest_potential", "multi_step_forward",
)

def check_input(x, module: "MemoryModule", min_dims: int, layout: str) -> None:
    """Validate a neuron input: a floating tensor with enough dims (and T >= 1 in step mode 'm'),
    finite in debug mode."""
    check_dims(x, module, layout, min_dims=min_dims, step_mode=module.step_mode)
    if module.step_mode == "m" and x.shape[0] == 0:
        raise ValueError(f"{module.layer_name()}: {EMPTY_SEQUENCE}, got shape {list(x.shape)}; pass a {layout} "
                         f"tensor with T >= 1")
    if not x.is_floating_point():
        raise TypeError(
            f"{module.layer_name()} expects a floating-point input, got dtype {x.dtype}; "
            f"convert it first, e.g. x.float()"
        )
    if _config.is_debug() and not torch.isfinite(x).all():
        bad = "NaN" if torch.isnan(x).any() else "Inf"
        raise ValueError(f"{module.layer_name()} received {bad} in its input (spikesmith debug check)")


def check_state(module: "MemoryModule", state: tuple) -> None:
    """Debug mode: a NaN in the state after a call is an error naming the layer and the variable (a
    NaN membrane stays NaN and never fires again; see ``dynamics.fire_reset`` for the rule). NaN is
    absorbing, so the state after a multi-step call shows one anywhere in the sequence."""
    for name, value in zip(module.memory_names(), state):
        if isinstance(value, Tensor) and value.is_floating_point() and bool(torch.isnan(value).any()):
            count = int(torch.isnan(value).sum())
            raise ValueError(f"{module.layer_name()}: its state {name!r} became NaN in {count} of {value.numel()} "
                             f"neurons (spikesmith debug check); a NaN stays NaN and never fires: look for Inf or "
                             f"NaN in this layer's parameters or initial state (v_init), or an overflow of its input")


class BaseNode(MemoryModule):
    r"""Base class of spiking neurons with shared fire and reset.

    After a subclass's charge \(H[t] = f(V[t-1], X[t])\), every neuron fires and resets the same way:

    \[ S[t] = \Theta(H[t] - V_{th}), \qquad
       V[t] = \begin{cases} H[t]\,(1 - S[t]) + V_{reset}\,S[t] & \text{hard reset} \\
                            H[t] - V_{th}\,S[t] & \text{soft reset (} V_{reset} = \text{None)} \end{cases} \]

    with \(\Theta(0) = 1\); the backward pass replaces \(\Theta'\) by the surrogate's derivative.

    ``emits_spikes`` is True for neurons whose output is spikes (False for readouts whose
    output is a membrane potential).

    Args:
        v_threshold: V_th (float, or a tensor broadcastable to one step's input).
        v_reset: V_reset for a hard reset; ``None`` for a soft reset (V = H - V_th S).
        surrogate_function: a ``SurrogateFunction``, a name such as ``"atan"``, or None for a
            fresh ``Sigmoid(alpha=4)``.
        detach_reset: cut the gradient through S in the reset.
        step_mode: ``'s'`` or ``'m'``.
        backend: ``'auto'`` (default: the fused kernel where it applies, else ``scan``), ``'torch'``
            (the ``scan`` reference), ``'cpu'`` (the fused C++ kernel) or ``'triton'`` (the fused
            Triton kernel: CUDA inputs, or CPU inputs with ``TRITON_INTERPRET=1``); the last two are
            an error where they do not apply. Only the multi-step mode uses a kernel. Neurons with
            step hooks, ``store_v_seq=True``, Izhikevich, learnable Dspike or other surrogates without
            a closed form, inputs other than float32 (float16/bfloat16/float64), and CUDA inputs
            where triton is not installed run on ``scan``.
        store_v_seq: in multi-step mode keep the membrane after every step in ``v_seq``.
        v_init: the membrane potential a reset restores (default V_reset, or 0 for soft reset).
    """

    emits_spikes = True

    def __init__(
        self,
        v_threshold: Scalar = 1.0,
        v_reset: Optional[Scalar] = 0.0,
        surrogate_function: Union[SurrogateFunction, str, None] = None,
        detach_reset: bool = False,
        step_mode: str = "s",
        backend: str = "auto",
        store_v_seq: bool = False,
        v_init: Optional[Scalar] = None,
    ):
        super().__init__(step_mode)
        name = type(self).__name__
        self._set_param("v_threshold", v_threshold)
        self._set_param("v_reset", v_reset, allow_none=True)
        if v_reset is not None:
            gap = torch.as_tensor(self.v_threshold) - torch.as_tensor(self.v_reset)
            if not bool((gap > 0).all()):
                self.threshold_not_above_reset(v_threshold, v_reset)
        self.surrogate_function = get_surrogate(surrogate_function)
        self.detach_reset = bool(detach_reset)
        self.backend = check_backend(backend, name)
        self.store_v_seq = bool(store_v_seq)
        if v_init is None:
            v_init = 0.0 if v_reset is None else v_reset
        self._set_param("v_init", v_init)
        self._step_hooks: "OrderedDict[int, StepHook]" = OrderedDict()
        self._state_shape: Optional[torch.Size] = None
        self.register_memory("v", InitFrom("v_init"))
        self.v_seq: Optional[Tensor] = None
        self._ran_backend: Optional[str] = None

    # ----------------------------------------------------------------- parameters
    def threshold_not_above_reset(self, v_threshold, v_reset) -> None:
        """What a hard reset at or above the threshold gets: an error here (the neuron would fire at
        every step after its first spike); the SpikingJelly compat neurons warn instead, as
        SpikingJelly accepts it."""
        raise ValueError(
            f"{type(self).__name__}: v_threshold must be greater than v_reset, got v_threshold={v_threshold} "
            f"and v_reset={v_reset}; raise the threshold or lower the reset potential"
        )

    def _set_param(self, name: str, value, allow_none: bool = False, positive: bool = False) -> None:
        """Store a float as an attribute, a tensor as a registered buffer."""
        owner = type(self).__name__
        if value is None:
            if not allow_none:
                raise ValueError(f"{owner}: {name} must not be None")
            setattr(self, name, None)
            return
        if isinstance(value, Tensor):
            if torch.isnan(value).any():
                raise ValueError(f"{owner}: {name} contains NaN")
            self.register_buffer(name, as_float_tensor(value))
            return
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{owner}: {name} must be a float or a tensor, got {type(value).__name__}")
        if value != value:   # NaN, refused as in a tensor: it would reach the kernels and silence the neuron
            raise ValueError(f"{owner}: {name} is NaN; give a number")
        setattr(self, name, float(value))

    # ----------------------------------------------------------------- the step
    def neuronal_charge(self, x: Tensor, state: tuple) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define neuronal_charge")

    def effective_threshold(self, state: tuple) -> Scalar:
        """The threshold used at this step (V_th; ALIF adds its adaptation)."""
        return self.v_threshold

    def update_extra_state(self, state: tuple, s: Tensor) -> tuple:
        """State variables other than V after the spike (none by default)."""
        return ()

    def step(self, x: Tensor, state: tuple) -> tuple[tuple[Tensor, Tensor], tuple]:
        """One step on explicit state: returns ((spike, v_after_reset), new_state)."""
        h = self.neuronal_charge(x, state)
        v_th = self.effective_threshold(state)
        s = fire(h, v_th, self.surrogate_function)
        for hook in self._step_hooks.values():
            out = hook(self, h, s)
            if out is not None:
                h, s = out
        v = reset(h, s, v_th, self.v_reset, self.detach_reset)
        return (s, v), (v,) + self.update_extra_state(state, s)

    def _spike_only(self, x: Tensor, state: tuple):
        (s, _), state = self.step(x, state)
        return s, state

    # ----------------------------------------------------------------- state
    def _initial(self, value: Scalar, like: Tensor, name: str) -> Tensor:
        if isinstance(value, Tensor):
            try:
                return value.to(like).expand_as(like).clone()
            except RuntimeError:
                raise ValueError(
                    f"{self.layer_name()}: {name} of shape {list(value.shape)} does not broadcast to the "
                    f"input shape {list(like.shape)}"
                ) from None
        return torch.full_like(like, value)

    def _first_value(self, name: str):
        """A state variable's value at the first step: what user code assigned since the last reset, else the
        initial value as it is now (a ``v_init`` changed after the reset counts)."""
        return getattr(self, name) if self.set_by_hand(name) else self.memory_initial(name)

    def _get_state(self, x: Tensor) -> tuple:
        """The current state, created for the shape of ``x`` at the first step: from the values the state
        variables hold then, which are the initial values unless set by hand (``node.v = tensor`` before
        the first step starts from that tensor, as in SpikingJelly)."""
        if self._state_shape is None or not isinstance(self.v, Tensor):
            self._check_broadcast(x)
            self._state_shape = x.shape
            return tuple(self._initial(self._first_value(n), x, n) for n in self.memory_names())
        if x.shape != self._state_shape:
            raise ValueError(
                f"{self.layer_name()}: input shape {list(x.shape)} differs from the state shape "
                f"{list(self._state_shape)}; call spikesmith.functional.reset_net(net) between batches"
            )
        return tuple(getattr(self, n) for n in self.memory_names())

    def _fresh_numbers(self, x: Tensor) -> Optional[tuple]:
        """A fresh state whose initial values are all numbers, as those numbers (the CPU kernel fills
        them in cache, sparing two passes over N arrays); None otherwise."""
        if self._state_shape is not None and isinstance(self.v, Tensor):
            return None
        values = tuple(self._first_value(n) for n in self.memory_names())
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            return None
        self._check_broadcast(x)
        self._state_shape = x.shape
        return tuple(float(v) for v in values)

    def _check_broadcast(self, x: Tensor) -> None:
        """Every tensor parameter must broadcast to one step's input shape."""
        for name, value in self.named_buffers(recurse=False):
            try:
                shape = torch.broadcast_shapes(value.shape, x.shape)
            except RuntimeError:
                shape = None
            if shape != x.shape:
                raise ValueError(
                    f"{self.layer_name()}: {name} of shape {list(value.shape)} does not broadcast to the input "
                    f"shape {list(x.shape)} of one step; give per-channel values a shape like [C, 1, 1]"
                )

    def _set_state(self, state: tuple) -> None:
        for name, value in zip(self.memory_names(), state):
            object.__setattr__(self, name, value)

    def reset(self) -> None:
        super().reset()
        self._state_shape = None
        self.v_seq = None

    # ----------------------------------------------------------------- forward
    def single_step_forward(self, x: Tensor) -> Tensor:
        check_input(x, self, 1, "[N, ...]")
        out, state = self.step(x, self._get_state(x))
        self._set_state(state)
        if _config.is_debug():
            check_state(self, state)
        return out[0]

    def multi_step_forward(self, x_seq: Tensor) -> Tensor:
        check_input(x_seq, self, 2, "[T, N, ...]")
        fresh = self._fresh_numbers(x_seq[0])
        state = fresh if fresh is not None else self._get_state(x_seq[0])
        spec = reason = None
        if self.backend != "torch":
            reason = self._fused_obstacle()
            spec = self.kernel_spec() if reason is None else None
            if reason is None and spec is None:
                reason = f"{type(self).__name__} has no fused kernel"
        backend = kernels.choose(self.backend, x_seq, state, spec, owner=self.layer_name(), reason=reason)
        self._ran_backend = backend
        if backend != "torch":
            s_seq, state = kernels.run(backend, spec, x_seq, state)
        else:
            if fresh is not None:
                state = tuple(torch.full_like(x_seq[0], value) for value in fresh)
            if self.store_v_seq:
                (s_seq, v_seq), state = scan(self.step, x_seq, state)
                self.v_seq = v_seq
            else:
                s_seq, state = scan(self._spike_only, x_seq, state)
        self._set_state(state)
        if _config.is_debug():
            check_state(self, state)
        return s_seq

    # ----------------------------------------------------------------- fused kernels
    def kernel_spec(self) -> Optional[KernelSpec]:
        """This neuron's dynamics for the fused kernels (``kernels.KernelSpec``); None: it has none,
        and runs on ``scan``. The state is that of ``memory_names()``, in the kind's order."""
        return None

    def _spec(self, charge, params: Optional[dict] = None, options: Optional[dict] = None) -> KernelSpec:
        """A ``KernelSpec`` of ``charge`` with this neuron's threshold, reset and surrogate."""
        return KernelSpec(charge, params or {}, options or {}, v_threshold=self.v_threshold, v_reset=self.v_reset,
                          surrogate=self.surrogate_function, detach_reset=self.detach_reset)

    def _same_dynamics(self, owner: type) -> bool:
        """Whether this neuron's dynamics are exactly those of ``owner`` (no overridden method)."""
        return all(getattr(type(self), m, None) is getattr(owner, m, None) for m in _DYNAMICS_METHODS)

    def _fused_obstacle(self) -> Optional[str]:
        """Why this neuron cannot run on a fused kernel whatever the input (None: it may)."""
        if self._step_hooks:
            return "it has step hooks"
        if self.store_v_seq:
            return "store_v_seq=True"
        return None

    def forward(self, x: Tensor) -> Tensor:
        mode = self.step_mode
        run = self.single_step_forward if mode == "s" else self.multi_step_forward
        if not reset_check.active():
            return run(x)
        reset_check.before_call(self, self.v, mode)          # the forgotten-reset check (spikesmith.reset_check)
        out = run(x)
        reset_check.after_call(self, self.v, mode, 1 if mode == "s" else x.shape[0], out)
        return out

    # ----------------------------------------------------------------- hooks
    def register_step_hook(self, hook: StepHook) -> RemovableHandle:
        """Run ``hook(neuron, h, s)`` between fire and reset at every step.

        The hook sees the charged potential ``h`` and the spikes ``s`` of the whole layer and may
        return a replacement ``(h, s)`` (lateral inhibition, homeostasis) or None. A neuron with a
        hook always runs step by step.
        """
        if not callable(hook):
            raise TypeError(f"step hook must be callable, got {type(hook).__name__}")
        handle = RemovableHandle(self._step_hooks)
        self._step_hooks[handle.id] = hook
        return handle

    def extra_repr(self) -> str:
        def fmt(v):
            return f"tensor{list(v.shape)}" if isinstance(v, Tensor) else v

        return (
            f"v_threshold={fmt(self.v_threshold)}, v_reset={fmt(self.v_reset)}, detach_reset={self.detach_reset}, "
            f"step_mode={self.step_mode!r}, backend={self._backend_repr()}"
        )

    def _backend_repr(self) -> str:
        """``'auto'``, and after a multi-step call the backend that ran it: ``'auto' (ran 'cpu')``."""
        if self._ran_backend is None or self._ran_backend == self.backend:
            return repr(self.backend)
        return f"{self.backend!r} (ran {self._ran_backend!r})"
