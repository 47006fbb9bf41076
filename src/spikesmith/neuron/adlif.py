"""Adaptive LIF of Bittar & Garner (2022), with learned per-neuron time constants and adaptation."""

from __future__ import annotations

import math
from typing import Optional, Union

import torch
from torch import Tensor, nn
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import UninitializedParameter

from ..dynamics import fire, reset
from ..dynamics.adlif import adlif_adaptation, adlif_charge
from ..kernels.charges.adlif import ADLIF
from ..module import InitFrom
from .base import BaseNode
from .registry import NEURONS

Scalar = Union[float, Tensor]

#: The range of each learned parameter (dt = 1 step): alpha = exp(-1/tau_u) for tau_u in [5, 25],
#: beta = exp(-1/tau_w) for tau_w in [30, 120], a in [-1, 1], b in [0, 2]. Each parameter is clamped
#: to its range in the forward and initialised uniformly in it, as in the paper.
RANGES = {
    "alpha": (math.exp(-1 / 5), math.exp(-1 / 25)),
    "beta": (math.exp(-1 / 30), math.exp(-1 / 120)),
    "a": (-1.0, 1.0),
    "b": (0.0, 2.0),
}


def _check_shape(shape, owner: str) -> Optional[tuple[int, ...]]:
    if shape is None:
        return None
    dims = (shape,) if isinstance(shape, int) and not isinstance(shape, bool) else shape
    if not isinstance(dims, (tuple, list, torch.Size)) or not dims or not all(
            isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in dims):
        raise ValueError(f"{owner}: shape must be a positive int or a tuple of them (one sample's neurons, e.g. 128 "
                         f"or (C, 1, 1) for one value per channel), got {shape!r}")
    return tuple(dims)


def _check_start(name: str, value, owner: str) -> Optional[Scalar]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, Tensor)):
        raise TypeError(f"{owner}: {name} must be a number, a tensor or None (uniform in its range), "
                        f"got {type(value).__name__}")
    lo, hi = RANGES[name]
    values = value.detach() if isinstance(value, Tensor) else torch.tensor(float(value))
    if not bool(((values >= lo) & (values <= hi)).all()):
        raise ValueError(f"{owner}: {name} must lie in [{lo:.6g}, {hi:.6g}], got {value}; leave it None to draw it "
                         f"uniformly in that range")
    return value.detach().clone() if isinstance(value, Tensor) else float(value)


@NEURONS.register("adlif")
class AdLIFNode(LazyModuleMixin, BaseNode):
    """Adaptive LIF (Bittar & Garner, Frontiers in Neuroscience 2022), in the order of the authors'
    reference code (the sparch repository's adLIF layer)::

        w_t = beta w_{t-1} + a u_{t-1} + b s_{t-1}
        u_t = alpha (u_{t-1} - theta s_{t-1}) + (1 - alpha) (I_t - w_t)
        s_t = Heaviside(u_t - theta)

    The soft reset is subtracted inside the next step's decay, and w uses the membrane before that
    reset. In this package's terms (``spikesmith.dynamics``):

    =====================  =================================================================
    paper / sparch          here
    =====================  =================================================================
    u_t                     H(t), the charged potential
    theta                   ``v_threshold``
    u_t - theta s_t         V(t), the potential after the shared soft reset (``v_reset=None``)
    I_t                     X(t), the input
    w_t                     the state ``w`` after step t-1 (computed from H and S of that step)
    =====================  =================================================================

    so one step is ``H = alpha V + (1 - alpha)(X - w)``, ``S = Heaviside(H - V_th)``, then
    ``w <- beta w + a H + b S`` and ``V = H - V_th S``. With ``v_reset`` set (a hard reset, an
    option the paper does not have) V is ``v_reset`` after a spike instead.

    alpha, beta, a and b are learned, one per neuron, clamped in the forward to alpha in
    [e^-1/5, e^-1/25], beta in [e^-1/30, e^-1/120], a in [-1, 1], b in [0, 2] (time constants of
    5-25 and 30-120 steps), and initialised uniformly in those ranges as the paper does.

    Args:
        shape: one sample's neurons (``128``, or ``(C, 1, 1)`` for one value per channel), the shape
            of each learned parameter; None (default) takes the shape of the first input's sample
            (the parameters are created then, as torch's lazy modules do: run one batch before
            building the optimizer).
        alpha, beta, a, b: the initial values (a number or a tensor, within the range); None
            (default) draws each neuron's value uniformly in its range.
        v_threshold: theta (default 1).
        v_reset: None (default): the soft reset of the paper; a number: hard reset to it.
        **kwargs: the ``BaseNode`` arguments (surrogate_function, detach_reset, step_mode, backend, ...).

    The state is (V, w); ``functional.reset_net`` resets both (V to ``v_init``, w to 0).
    """

    def __init__(self, shape=None, alpha: Optional[Scalar] = None, beta: Optional[Scalar] = None,
                 a: Optional[Scalar] = None, b: Optional[Scalar] = None, v_threshold: Scalar = 1.0,
                 v_reset: Optional[Scalar] = None, **kwargs):
        owner = type(self).__name__
        shape = _check_shape(shape, owner)
        starts = {n: _check_start(n, v, owner) for n, v in (("alpha", alpha), ("beta", beta), ("a", a), ("b", b))}
        super().__init__(v_threshold=v_threshold, v_reset=v_reset, **kwargs)
        self._starts = starts
        for name in RANGES:
            if shape is None:
                self.register_parameter(name, UninitializedParameter())
            else:
                self.register_parameter(name, nn.Parameter(torch.empty(shape)))
                self._fill(name)
        self.w_init = 0.0
        self.register_memory("w", InitFrom("w_init"))

    # ----------------------------------------------------------------- parameters
    def _fill(self, name: str) -> None:
        param, start = getattr(self, name), self._starts[name]
        with torch.no_grad():
            if start is None:
                param.uniform_(*RANGES[name])
            else:
                start = torch.as_tensor(start, dtype=param.dtype, device=param.device)  # a number in the param's dtype
                try:
                    param.copy_(start.expand(param.shape))
                except RuntimeError:
                    raise ValueError(f"{type(self).__name__}: {name} of shape {list(start.shape)} does "
                                     f"not broadcast to the neurons' shape {list(param.shape)}") from None

    def initialize_parameters(self, x: Tensor) -> None:
        """Create the lazy parameters with the shape of one sample of the first input."""
        sample = x.shape[2:] if self.step_mode == "m" else x.shape[1:]
        if not sample:
            raise ValueError(f"{self.layer_name()} expects [N, ...] ({'[T, N, ...]' if self.step_mode == 'm' else ''}) "
                             f"inputs with at least one neuron dimension, got shape {list(x.shape)}")
        for name in RANGES:
            param = getattr(self, name)
            if isinstance(param, UninitializedParameter):
                param.materialize(sample)
                self._fill(name)

    def clamped(self) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """alpha, beta, a and b clamped to their ranges (what the dynamics use)."""
        return tuple(getattr(self, n).clamp(*RANGES[n]) for n in RANGES)

    def _check_broadcast(self, x: Tensor) -> None:
        super()._check_broadcast(x)
        for name in RANGES:
            shape = getattr(self, name).shape
            try:
                ok = torch.broadcast_shapes(shape, x.shape) == x.shape
            except RuntimeError:
                ok = False
            if not ok:
                raise ValueError(f"{self.layer_name()}: {name} of shape {list(shape)} (the neurons' shape) does not "
                                 f"broadcast to the input shape {list(x.shape)} of one step; give shape= one sample's "
                                 f"shape, or leave it None to take it from the first input")

    # ----------------------------------------------------------------- the step
    def step(self, x: Tensor, state: tuple) -> tuple[tuple[Tensor, Tensor], tuple]:
        v, w = state
        alpha, beta, a, b = self.clamped()
        h = adlif_charge(x, v, w, alpha)
        s = fire(h, self.v_threshold, self.surrogate_function)
        for hook in self._step_hooks.values():
            out = hook(self, h, s)
            if out is not None:
                h, s = out
        w = adlif_adaptation(w, h, s, beta, a, b)
        v = reset(h, s, self.v_threshold, self.v_reset, self.detach_reset)
        return (s, v), (v, w)

    def kernel_spec(self):
        if not self._same_dynamics(AdLIFNode):
            return None
        alpha, beta, a, b = self.clamped()
        return self._spec(ADLIF, params={"alpha": alpha, "beta": beta, "a": a, "b": b})

    def extra_repr(self) -> str:
        shape = self.alpha.shape if not isinstance(self.alpha, UninitializedParameter) else "lazy"
        return f"shape={list(shape) if shape != 'lazy' else shape}, " + super().extra_repr()
