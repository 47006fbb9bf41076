"""Izhikevich (2003) neuron, in its own units (mV, ms) and with its own reset."""

from __future__ import annotations

from typing import Optional, Union

from torch import Tensor

from ..dynamics import izhikevich_charge
from ..dynamics.fire_reset import below_inf
from ..module import InitFrom
from .base import BaseNode
from .registry import NEURONS

Scalar = Union[float, Tensor]


@NEURONS.register("izhikevich")
class IzhikevichNode(BaseNode):
    """Two-variable Izhikevich model, forward Euler with step ``dt`` (ms).

    H(t) = V + dt (0.04 V^2 + 5 V + 140 - U + X)
    U'   = U + dt a (b V - U)
    S(t) = Heaviside((H - v_peak) / surrogate_scale)       (spike when H >= v_peak)
    V(t) = H (1 - S) + c S;   U(t) = U' + d S

    It is the one neuron outside the shared fire/reset. The surrogate acts on the distance to
    the peak divided by ``surrogate_scale`` (default v_peak - c), so the usual surrogate widths
    make sense in millivolts. Defaults are the regular-spiking cell (a=0.02, b=0.2, c=-65, d=8).
    It always runs on the ``scan`` path.
    """

    def __init__(
        self,
        a: Scalar = 0.02,
        b: Scalar = 0.2,
        c: Scalar = -65.0,
        d: Scalar = 8.0,
        dt: float = 0.5,
        v_peak: float = 30.0,
        v_init: Optional[Scalar] = None,
        surrogate_scale: Optional[float] = None,
        surrogate_function=None,
        detach_reset: bool = False,
        step_mode: str = "s",
        backend: str = "auto",
        store_v_seq: bool = False,
    ):
        if not (isinstance(dt, (int, float)) and dt > 0):
            raise ValueError(f"IzhikevichNode: dt must be a positive number of ms, got {dt!r}")
        super().__init__(
            v_threshold=v_peak,
            v_reset=c,
            surrogate_function=surrogate_function,
            detach_reset=detach_reset,
            step_mode=step_mode,
            backend=backend,
            store_v_seq=store_v_seq,
            v_init=c if v_init is None else v_init,
        )
        for name, value in (("a", a), ("b", b), ("d", d)):
            self._set_param(name, value)
        self.dt = float(dt)
        scale = (float(v_peak) - float(c if not isinstance(c, Tensor) else c.min())) if surrogate_scale is None else surrogate_scale
        if not scale > 0:
            raise ValueError(f"IzhikevichNode: surrogate_scale must be > 0, got {scale}")
        self.surrogate_scale = float(scale)
        self.register_memory("u", InitFrom("u_init"))

    @property
    def c(self) -> Scalar:
        return self.v_reset

    @property
    def u_init(self) -> Scalar:
        """U starts at b * V_init (the fixed point of the recovery variable)."""
        return self.b * self.v_init

    def step(self, x: Tensor, state: tuple):
        v, u = state
        h, u_next = izhikevich_charge(x, v, u, self.a, self.b, self.dt)
        s = self.surrogate_function((h - self.v_threshold) / self.surrogate_scale)
        for hook in self._step_hooks.values():
            out = hook(self, h, s)
            if out is not None:
                h, s = out
        s_r = s.detach() if self.detach_reset else s
        v_new = below_inf(h) * (1.0 - s_r) + self.v_reset * s_r   # +Inf spikes and resets to c (fire_reset)
        u_new = u_next + self.d * s_r
        return (s, v_new), (v_new, u_new)

    def extra_repr(self) -> str:
        return f"a={self.a}, b={self.b}, c={self.c}, d={self.d}, dt={self.dt}, v_peak={self.v_threshold}"
