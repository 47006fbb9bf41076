"""Parallel spiking neurons (Fang et al., NeurIPS 2023): ``PSN``, ``MaskedPSN``, ``SlidingPSN``.

A neuron without a reset is linear in its inputs, so its hidden states for all T steps are one
matrix product over time (``spikesmith.dynamics.parallel``), followed by a threshold:

    PSN          H = W X                    W: T x T, learned in full (uses future inputs)
    MaskedPSN    H = (W * M(lambda)) X      M(1) = M_k: H[t] reads X[t-k+1 .. t] only
    SlidingPSN   H[t] = sum_i w[i] X[t-k+1+i]   one kernel w of length k shared by every step
    all          S = Heaviside(H - B)       B: a learned threshold (per step; one for SlidingPSN)

Input ``[T, N, ...]``, output the spikes in the same shape; the surrogate gradient of
``surrogate_function`` flows through the threshold into W, B and X. There is no reset and no
membrane state: in multi-step mode the neurons are stateless functions of the whole sequence.

T: ``PSN`` and ``MaskedPSN`` have a T x T weight. ``T=None`` (the default, and what
``--neuron psn`` builds) creates it from the first input's T, as torch's lazy modules do (the
trainer runs one batch before it builds the optimizer); a later input with another T is an error.
``SlidingPSN`` works for any T.

Single-step mode (``step_mode='s'``, one ``[N, ...]`` step per call) needs the past inputs only:
``SlidingPSN`` keeps the last k inputs, ``MaskedPSN`` too once lambda = 1 (and for at most T steps);
``PSN`` needs the future and refuses it. ``functional.reset_net`` empties the buffer.

Compared with SpikingJelly: their ``bias`` is -B here (``threshold``); the weights start as theirs do
(uniform in +-1/sqrt(T), the default of a T-input Linear; B = 1; the sliding kernel 2^-(k-1-i)).
"""

from __future__ import annotations

import math
from typing import Optional, Union

import torch
from torch import Tensor, nn
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import UninitializedParameter

from ..dynamics import fire
from ..dynamics.parallel import band_mask, blend_mask, parallel_charge, sliding_matrix
from ..kernels.backend import check_backend
from ..module import MemoryModule
from ..surrogate import SurrogateFunction
from ..surrogate import get as get_surrogate
from .base import check_input
from .registry import NEURONS

__all__ = ["MaskedPSN", "PSN", "ParallelNode", "SlidingPSN"]

_BACKENDS = ("auto", "torch")


def _positive_int(value, name: str, owner: str, allow_none: bool = False) -> Optional[int]:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        extra = " or None (taken from the first input)" if allow_none else ""
        raise ValueError(f"{owner}: {name} must be a positive int{extra}, got {value!r}")
    return value


def _number(value, name: str, owner: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise TypeError(f"{owner}: {name} must be a number, got {value!r}")
    return float(value)


class ParallelNode(MemoryModule):
    """What the parallel neurons share: the surrogate, the step mode, the fire on H - B.

    ``detach_reset`` is accepted so that a model's neuron options apply to every neuron, and has no
    effect: these neurons have no reset. ``backend``: ``'auto'`` or ``'torch'`` (the forward is one
    matrix product; there is no fused kernel to choose).
    """

    emits_spikes = True

    def __init__(self, surrogate_function: Union[SurrogateFunction, str, None] = None, detach_reset: bool = False,
                 step_mode: str = "m", backend: str = "auto"):
        super().__init__(step_mode)
        owner = type(self).__name__
        self.surrogate_function = get_surrogate(surrogate_function)
        self.detach_reset = bool(detach_reset)
        backend = check_backend(backend, owner)
        if backend not in _BACKENDS:
            raise ValueError(f"{owner}: backend {backend!r} does not apply: its forward is one matrix product over "
                             f"time, with no fused kernel; use backend='auto' or 'torch'")
        self.backend = backend
        self.register_memory("queue", ())        # single-step mode: the last inputs, oldest first
        self.register_memory("t", 0)             # single-step mode: the steps run since the reset

    # ------------------------------------------------------------------ to define
    def time_weight(self, T: int) -> Tensor:  # pragma: no cover - abstract
        """The T x T matrix of H = W X."""
        raise NotImplementedError

    def threshold_seq(self, T: int) -> Tensor:  # pragma: no cover - abstract
        """B for T steps, shape [T] (or a scalar)."""
        raise NotImplementedError

    def step_charge(self, queue: tuple, t: int) -> Tensor:
        """H at step ``t`` from the last inputs ``queue`` (oldest first, the current one last)."""
        raise ValueError(f"{self.layer_name()} cannot run in single-step mode: H[t] = sum_j W[t, j] X[j] reads "
                         f"inputs of later steps; use step_mode='m' with the whole [T, N, ...] sequence, or a "
                         f"MaskedPSN / SlidingPSN, which read only the past")

    def history(self) -> int:
        """How many past inputs (the current one included) single-step mode keeps."""
        return 1

    def after_step(self) -> None:
        """Called after each multi-step training forward (MaskedPSN advances lambda there)."""

    # ------------------------------------------------------------------ forward
    def multi_step_forward(self, x_seq: Tensor) -> Tensor:
        check_input(x_seq, self, 2, "[T, N, ...]")
        T = x_seq.shape[0]
        # S = Heaviside(H - B) as dynamics.fire has it, with H - B from one addmm
        s = self.surrogate_function(parallel_charge(x_seq, self.time_weight(T), self.threshold_seq(T)))
        self.after_step()
        return s

    def single_step_forward(self, x: Tensor) -> Tensor:
        check_input(x, self, 1, "[N, ...]")
        if self.queue and self.queue[-1].shape != x.shape:
            raise ValueError(f"{self.layer_name()}: input shape {list(x.shape)} differs from the previous step's "
                             f"{list(self.queue[-1].shape)}; call spikesmith.functional.reset_net(net) between batches")
        queue = (self.queue + (x,))[-self.history():]
        h = self.step_charge(queue, self.t)
        b = self.threshold_seq(self.t + 1)
        b = b[self.t] if b.dim() == 1 else b
        s = fire(h, b.to(h.dtype), self.surrogate_function)
        object.__setattr__(self, "queue", queue)
        object.__setattr__(self, "t", self.t + 1)
        return s

    def forward(self, x: Tensor) -> Tensor:
        return self.single_step_forward(x) if self.step_mode == "s" else self.multi_step_forward(x)

    def detach(self) -> None:
        object.__setattr__(self, "queue", tuple(q.detach() for q in self.queue))

    def extra_repr(self) -> str:
        return f"step_mode={self.step_mode!r}"


class _FixedT(LazyModuleMixin, ParallelNode):
    """A parallel neuron with a T x T weight and a threshold per step, made for one T (or lazily)."""

    def __init__(self, T: Optional[int] = None, v_threshold: float = 1.0, **kwargs):
        owner = type(self).__name__
        T = _positive_int(T, "T", owner, allow_none=True)
        self._v_threshold = _number(v_threshold, "v_threshold", owner)
        super().__init__(**kwargs)
        if T is None:
            self.weight = UninitializedParameter()
            self.threshold = UninitializedParameter()
        else:
            self.weight = nn.Parameter(torch.empty(T, T))
            self.threshold = nn.Parameter(torch.empty(T))
            self._fill()

    def _fill(self) -> None:
        bound = 1.0 / math.sqrt(self.weight.shape[0])
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)
            self.threshold.fill_(self._v_threshold)

    def initialize_parameters(self, x: Tensor) -> None:
        """Create the T x T weight from the first multi-step input's T."""
        if not isinstance(self.weight, UninitializedParameter):
            return
        if self.step_mode == "s":
            self.step_charge((x,), 0)           # PSN: its own refusal of single-step mode
            raise ValueError(f"{self.layer_name()} with T=None takes T from a first multi-step [T, N, ...] input; in "
                             f"single-step mode give T when building it")
        check_input(x, self, 2, "[T, N, ...]")
        T = x.shape[0]
        self.weight.materialize((T, T), dtype=x.dtype, device=x.device)
        self.threshold.materialize((T,), dtype=x.dtype, device=x.device)
        self._fill()

    @property
    def T(self) -> Optional[int]:
        return None if isinstance(self.weight, UninitializedParameter) else self.weight.shape[0]

    def _check_T(self, T: int) -> None:
        if T != self.T:
            raise ValueError(f"{self.layer_name()} was built for T={self.T} (its weight is {self.T} x {self.T}), got "
                             f"an input with T={T}; build it with T={T} (or T=None to take it from the first "
                             f"input), or use SlidingPSN, which works for any T")

    def time_weight(self, T: Optional[int] = None) -> Tensor:
        """The T x T matrix of H = W X (``T``: checked against the neuron's)."""
        if T is not None:
            self._check_T(T)
        return self.weight

    def threshold_seq(self, T: int) -> Tensor:
        return self.threshold

    def extra_repr(self) -> str:
        return f"T={self.T if self.T is not None else 'lazy'}, " + super().extra_repr()


@NEURONS.register("psn")
class PSN(_FixedT):
    """The parallel spiking neuron: H = W X with a learned T x T weight W, S = Heaviside(H - B).

    Args:
        T: the number of steps; None (default) takes it from the first input.
        v_threshold: the initial threshold B of every step (learned).
        surrogate_function: the surrogate gradient (a name or a ``SurrogateFunction``; default
            ``Sigmoid(alpha=4)``).
        detach_reset: accepted for uniform model options; no effect (no reset).
        step_mode: ``'m'`` (default); ``'s'`` is refused (H[t] reads later inputs).

    >>> psn = PSN(T=4)
    >>> psn(torch.rand(4, 8, 16)).shape
    torch.Size([4, 8, 16])
    """


@NEURONS.register("masked_psn")
class MaskedPSN(_FixedT):
    """The masked PSN: H = (W * M(lambda)) X with M(lambda) = lambda M_k + (1 - lambda) J.

    M_k keeps W[i, j] for j <= i <= j + k - 1: H[t] reads the last k inputs only, so the neuron can
    run step by step. The paper trains it with progressive masking, lambda rising from 0 to 1, so
    that a fully connected W becomes the masked one: with ``lambda_steps = n``, every training
    forward (module in training mode, gradients enabled) raises lambda by (1 - lambda_init) / n,
    up to 1; evaluation and ``torch.no_grad()`` calls leave it. ``lambda_steps=0`` keeps lambda at
    ``lambda_init``; ``set_lambda`` sets it by hand (a schedule of your own).

    Args:
        k: the width of the band (the inputs each H[t] reads, the current one included); default 2.
        T: the number of steps; None takes it from the first input.
        lambda_init: lambda at the start, in [0, 1] (default 0: the full matrix).
        lambda_steps: the training forwards over which lambda reaches 1 (default 1000); 0: fixed.
        v_threshold, surrogate_function, detach_reset, step_mode, backend: as ``PSN``; single-step
        mode needs lambda = 1 and T given.
    """

    def __init__(self, k: int = 2, T: Optional[int] = None, lambda_init: float = 0.0, lambda_steps: int = 1000,
                 **kwargs):
        owner = type(self).__name__
        self.k = _positive_int(k, "k", owner)
        lam = _number(lambda_init, "lambda_init", owner)
        if not 0.0 <= lam <= 1.0:
            raise ValueError(f"{owner}: lambda_init must lie in [0, 1] (0: full matrix, 1: masked), got {lambda_init}")
        if isinstance(lambda_steps, bool) or not isinstance(lambda_steps, int) or lambda_steps < 0:
            raise ValueError(f"{owner}: lambda_steps must be an int >= 0 (0: lambda stays at lambda_init), "
                             f"got {lambda_steps!r}")
        super().__init__(T=T, **kwargs)
        self.lambda_steps = lambda_steps
        self._lambda_rate = (1.0 - lam) / lambda_steps if lambda_steps else 0.0
        self.register_buffer("lambda_", torch.tensor(lam))

    def set_lambda(self, value: float) -> None:
        """Set lambda (in [0, 1]) by hand."""
        value = _number(value, "lambda", type(self).__name__)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{type(self).__name__}: lambda must lie in [0, 1], got {value}")
        self.lambda_.fill_(value)

    def mask(self) -> Tensor:
        """M(lambda) for this neuron's T."""
        m = band_mask(self.T, self.k, dtype=self.weight.dtype, device=self.weight.device)
        return blend_mask(m, self.lambda_.to(m.dtype))     # exactly m at lambda = 1; no branch, so it compiles

    def time_weight(self, T: Optional[int] = None) -> Tensor:
        return super().time_weight(T) * self.mask()

    def after_step(self) -> None:
        if self.training and torch.is_grad_enabled() and self._lambda_rate:
            with torch.no_grad():                          # clamped: it stays at 1 once there
                self.lambda_.add_(self._lambda_rate).clamp_(max=1.0)

    def history(self) -> int:
        return self.k

    def step_charge(self, queue: tuple, t: int) -> Tensor:
        if self.T is None:
            raise ValueError(f"{self.layer_name()} with T=None cannot start in single-step mode; give T when "
                             f"building it")
        if float(self.lambda_) < 1.0:
            raise ValueError(f"{self.layer_name()}: single-step mode needs lambda = 1 (the masked, causal weight), "
                             f"lambda is {float(self.lambda_):g}; finish the progressive masking or call "
                             f"set_lambda(1.0), or use step_mode='m'")
        if t >= self.T:
            raise ValueError(f"{self.layer_name()} was built for T={self.T} steps and has run them; call "
                             f"spikesmith.functional.reset_net(net) before the next sequence")
        row = self.time_weight()[t, t + 1 - len(queue):t + 1]
        return sum(w * x for w, x in zip(row.to(queue[0].dtype), queue))

    def extra_repr(self) -> str:
        return f"k={self.k}, lambda_={float(self.lambda_):g}, " + super().extra_repr()


@NEURONS.register("sliding_psn")
class SlidingPSN(ParallelNode):
    """The sliding PSN: one kernel w of length k over time, H[t] = sum_i w[i] X[t-k+1+i] (inputs before
    the first step count 0), S = Heaviside(H - B) with one learned threshold B. Works for any T; in
    single-step mode it keeps the last k inputs.

    Args:
        k: the kernel's length (default 2).
        exp_init: start with w[i] = 2^-(k-1-i) (the current input weighs 1, each older one half the
            next); False: uniform in +-1/sqrt(k).
        v_threshold: the initial B (learned).
        surrogate_function, detach_reset, step_mode, backend: as ``PSN``.
    """

    def __init__(self, k: int = 2, exp_init: bool = True, v_threshold: float = 1.0, **kwargs):
        owner = type(self).__name__
        self.k = _positive_int(k, "k", owner)
        v_threshold = _number(v_threshold, "v_threshold", owner)
        super().__init__(**kwargs)
        if exp_init:
            kernel = torch.pow(2.0, -torch.arange(k - 1, -1, -1, dtype=torch.get_default_dtype()))
        else:
            bound = 1.0 / math.sqrt(k)
            kernel = torch.empty(k).uniform_(-bound, bound)
        self.weight = nn.Parameter(kernel)
        self.threshold = nn.Parameter(torch.tensor(v_threshold))

    def time_weight(self, T: int) -> Tensor:
        """The T x T banded Toeplitz matrix of the kernel."""
        return sliding_matrix(self.weight, T)

    def threshold_seq(self, T: int) -> Tensor:
        return self.threshold

    def history(self) -> int:
        return self.k

    def step_charge(self, queue: tuple, t: int) -> Tensor:
        taps = self.weight[self.k - len(queue):].to(queue[0].dtype)
        return sum(w * x for w, x in zip(taps, queue))

    def extra_repr(self) -> str:
        return f"k={self.k}, " + super().extra_repr()
