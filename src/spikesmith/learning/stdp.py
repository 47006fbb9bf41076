"""Trace-based STDP on Linear and Conv2d synapses: the learner, its bounds and normalisation.

A learner watches one synapse (``nn.Linear`` / ``nn.Conv2d``, torch's or ``spikesmith.layer``'s)
and the spiking neuron that receives its output; forward hooks record the pre-synaptic spikes
(the synapse's input) and the post-synaptic spikes (the neuron's output). ``learner.step()``
turns what was recorded since the last call into a weight change and applies it:

    pre trace  x[t] = exp(-dt/tau_plus)  x[t-1] + s_pre[t]
    post trace y[t] = exp(-dt/tau_minus) y[t-1] + s_post[t]
    dW = A+ f+(W) sum_t s_post[t] x[t]^T  -  A- f-(W) sum_t y[t] s_pre[t]^T      (summed over the batch;
                                                                                   reduction='mean' averages)
    additive:        f+ = f- = 1
    multiplicative:  f+ = w_max - W,  f- = W - w_min        (soft bounds)

so one pre spike at t0 and one post spike at t0 + dt_s give dW = A+ f+ exp(-dt_s/tau_plus), and
the reverse order dW = -A- f- exp(-dt_s/tau_minus). Then, in order: hard bounds (clamp to
[w_min, w_max]), normalisation (each post-synaptic neuron's input weights rescaled to sum to
``norm``: a row of a Linear weight, an output channel of a convolution), and the bounds again.

Online or batched: in single-step mode call ``step()`` after every step (the weights change
within the sequence); in multi-step mode call it once after the sequence: the change is computed
for the whole ``T x N`` recording with one matrix product (a convolution's weight gradient for
Conv2d) and, with ``reduction='mean'``, averaged over the batch (many inputs simulated at once,
one averaged update). For a batch of one and the same spikes the two agree (exactly for the
additive rule within the bounds).

Under ``torch.distributed`` (``sync='auto'``) the weight change is combined over the replicas
before it is applied (averaged with ``reduction='mean'``, summed with ``'sum'``: the replicas'
shards together are one batch), so their plastic weights stay identical. By default (``freeze=True``) the
synapse's parameters stop requiring gradients: an optimiser built from
``[p for p in model.parameters() if p.requires_grad]`` leaves them to STDP.

>>> fc, lif = layer.Linear(784, 100, bias=False, step_mode="m"), neuron.LIFNode(step_mode="m")
>>> learner = STDPLearner(fc, lif, a_plus=1e-2, a_minus=1e-4, w_min=0.0, w_max=1.0)
>>> lif(fc(spikes))            # spikes: [T, N, 784]
>>> learner.step()             # applies the averaged change, returns it ([100, 784])
>>> functional.reset_net(net); learner.reset()
"""

from __future__ import annotations

import math
from typing import Optional

import torch
import torch.distributed as dist
from torch import Tensor, nn

from ..neuron import BaseNode
from .synapses import check_pair, check_synapse, fan_in, outer_sum
from .traces import check_positive, check_trace_mode, decay_factor, exp_trace

WEIGHT_DEPENDENCES = ("additive", "multiplicative")
REDUCTIONS = ("mean", "sum")


def check_amplitude(value, owner: str, name: str, sign_hint: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{owner}: {name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(
            f"{owner}: {name} is a magnitude and must be >= 0, got {value}; {sign_hint}"
        )
    return value


class TraceLearner:
    """Base of the trace rules: recording, bounds, normalisation, reduction, sync and application.

    Subclasses implement ``_changes(pre, post) -> (ltp, ltd)``: the potentiation and depression
    sums (amplitudes included, weight dependence not) in the weight's shape, and may keep traces.
    """

    def __init__(self, synapse: nn.Module, neuron: nn.Module, *, dt: float = 1.0,
                 weight_dependence: str = "additive", w_min: Optional[float] = None, w_max: Optional[float] = None,
                 norm: Optional[float] = None, reduction: str = "mean", sync: str = "auto", freeze: bool = True):
        owner = type(self).__name__
        self.synapse = check_synapse(synapse, owner)
        if not isinstance(neuron, BaseNode) or not neuron.emits_spikes:
            raise TypeError(f"{owner}: neuron must be a spiking neuron (a spikesmith BaseNode that emits spikes), "
                            f"got {type(neuron).__name__}")
        self.neuron = neuron
        self.dt = check_positive(dt, owner, "dt")
        if weight_dependence not in WEIGHT_DEPENDENCES:
            raise ValueError(f"{owner}: weight_dependence must be 'additive' or 'multiplicative', got {weight_dependence!r}")
        self.weight_dependence = weight_dependence
        self.w_min = None if w_min is None else float(w_min)
        self.w_max = None if w_max is None else float(w_max)
        if self.w_min is not None and self.w_max is not None and not self.w_min < self.w_max:
            raise ValueError(f"{owner}: the bounds contradict each other: w_min={w_min} must be < w_max={w_max}")
        if weight_dependence == "multiplicative" and (self.w_min is None or self.w_max is None):
            raise ValueError(f"{owner}: the multiplicative (soft-bound) rule needs both w_min and w_max, got "
                             f"w_min={w_min}, w_max={w_max}")
        self.norm = None if norm is None else check_positive(norm, owner, "norm")
        if self.norm is not None:
            k = fan_in(synapse)
            low = -math.inf if self.w_min is None else self.w_min * k
            high = math.inf if self.w_max is None else self.w_max * k
            if not low <= self.norm <= high:
                raise ValueError(
                    f"{owner}: norm={norm} cannot be reached within the bounds: {k} input weights in "
                    f"[{w_min}, {w_max}] sum to between {low} and {high}; change norm or the bounds")
        self._check_weights_in_bounds(owner)
        if reduction not in REDUCTIONS:
            raise ValueError(f"{owner}: reduction must be 'mean' (average over the batch) or 'sum', got {reduction!r}")
        self.reduction = reduction
        if sync not in ("auto", "never"):
            raise ValueError(f"{owner}: sync must be 'auto' (average over torch.distributed replicas) or 'never', "
                             f"got {sync!r}")
        self.sync = sync
        if freeze:
            for p in synapse.parameters(recurse=False):
                p.requires_grad_(False)
        self.enabled = True
        self._pre: list[Tensor] = []
        self._post: list[Tensor] = []
        self._handles = [synapse.register_forward_hook(self._record_pre),
                         neuron.register_forward_hook(self._record_post)]

    # ----------------------------------------------------------------- recording
    def _record_pre(self, module, inputs, output) -> None:
        if self.enabled:
            self._pre.append(inputs[0].detach())

    def _record_post(self, module, inputs, output) -> None:
        if self.enabled:
            s = output.detach()
            self._post.append(s if self.neuron.step_mode == "m" else s.unsqueeze(0))

    def record(self, pre: Tensor, post: Tensor) -> None:
        """Add spikes by hand (``T x N x ...`` each, time first): the synapse's input and the neuron's output.

        What the hooks do while the network runs; useful to drive a rule with given spike trains.
        """
        owner = type(self).__name__
        for name, t in (("pre", pre), ("post", post)):
            if not isinstance(t, Tensor) or t.dim() < 3:
                raise ValueError(f"{owner}.record: {name} must be a T x N x ... tensor, got "
                                 f"{list(t.shape) if isinstance(t, Tensor) else type(t).__name__}")
        self._pre.append(pre.detach())
        self._post.append(post.detach())

    def _take(self) -> tuple[Tensor, Tensor]:
        owner = type(self).__name__
        if not self._pre or not self._post:
            raise ValueError(f"{owner}: nothing recorded since the last step(); run the network forward first "
                             f"(with learner.enabled = True)")
        post = torch.cat(self._post) if len(self._post) > 1 else self._post[0]
        pres = []
        for p in self._pre:
            if p.dim() == post.dim() - 1:  # single-step synapse, or time folded into the batch
                p = p.unsqueeze(0) if p.shape[0] == post.shape[1] else p.unflatten(0, (-1, post.shape[1]))
            pres.append(p)
        pre = torch.cat(pres) if len(pres) > 1 else pres[0]
        self._pre, self._post = [], []
        check_pair(self.synapse, pre, post, owner)
        return pre.to(self.synapse.weight.dtype), post.to(self.synapse.weight.dtype)

    # ----------------------------------------------------------------- the update
    def _changes(self, pre: Tensor, post: Tensor) -> tuple[Tensor, Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define _changes(pre, post)")

    def _weight_factors(self, w: Tensor):
        if self.weight_dependence == "additive":
            return 1.0, 1.0
        return self.w_max - w, w - self.w_min

    def _reduce(self, dw: Tensor, batch: int) -> Tensor:
        return dw / batch if self.reduction == "mean" else dw

    def _all_reduce(self, dw: Tensor) -> Tensor:
        """Combine the replicas' changes as the batch's samples are: averaged (``'mean'``) or summed."""
        if self.sync == "auto" and dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            dist.all_reduce(dw)
            if self.reduction == "mean":
                dw /= dist.get_world_size()
        return dw

    def compute(self) -> Tensor:
        """The weight change for what was recorded since the last call (not applied; traces advance)."""
        pre, post = self._take()
        ltp, ltd = self._changes(pre, post)
        f_plus, f_minus = self._weight_factors(self.synapse.weight.detach())
        return self._reduce(f_plus * ltp - f_minus * ltd, post.shape[1])

    @torch.no_grad()
    def apply(self, dw: Tensor) -> None:
        """Add ``dw`` to the weight, then bounds, normalisation and bounds again."""
        w = self.synapse.weight
        w.add_(self._all_reduce(dw.to(w.dtype)))
        self.clamp_and_normalize()

    @torch.no_grad()
    def clamp_and_normalize(self) -> None:
        w = self.synapse.weight
        if self.w_min is not None or self.w_max is not None:
            w.clamp_(self.w_min, self.w_max)
        if self.norm is not None:
            normalize_weights(w, self.norm)
            if self.w_max is not None:
                w.clamp_(max=self.w_max)

    def step(self, apply: bool = True) -> Tensor:
        """Compute the change for the recorded steps and (``apply=True``) apply it; return it."""
        dw = self.compute()
        if apply:
            self.apply(dw)
        return dw

    # ----------------------------------------------------------------- housekeeping
    def reset(self) -> None:
        """Forget the traces and any unprocessed recording (between independent inputs)."""
        self._pre, self._post = [], []

    def remove(self) -> None:
        """Remove the recording hooks."""
        for h in self._handles:
            h.remove()
        self._handles = []

    def _check_weights_in_bounds(self, owner: str) -> None:
        w = self.synapse.weight.detach()
        low = self.w_min if self.w_min is not None else -math.inf
        high = self.w_max if self.w_max is not None else math.inf
        if bool((w < low).any() or (w > high).any()):
            raise ValueError(
                f"{owner}: the synapse's weights lie in [{float(w.min()):.4g}, {float(w.max()):.4g}], outside the bounds "
                f"[{self.w_min}, {self.w_max}]; initialise them inside, e.g. "
                f"synapse.weight.data.uniform_({self.w_min if self.w_min is not None else 0.0}, "
                f"{self.w_max if self.w_max is not None else 1.0})")

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({type(self.synapse).__name__}{tuple(self.synapse.weight.shape)}, "
                f"weight_dependence={self.weight_dependence!r}, w_min={self.w_min}, w_max={self.w_max}, "
                f"norm={self.norm}, reduction={self.reduction!r})")


def check_state(learner, state: Optional[Tensor], seq: Tensor) -> None:
    """A carried trace must have the shape of one recorded step (same batch): else reset() was missed."""
    if state is not None and state.shape != seq.shape[1:]:
        raise ValueError(
            f"{type(learner).__name__}: the traces carried from the last step() have shape {list(state.shape)} but the "
            f"new recording has steps of shape {list(seq.shape[1:])}; call learner.reset() between inputs")


def normalize_weights(w: Tensor, norm: float) -> Tensor:
    """Scale each post-synaptic neuron's input weights (``w[j]``) in place so that they sum to ``norm``.

    Neurons whose weights sum to 0 are left as they are.
    """
    flat = w.view(w.shape[0], -1)
    sums = flat.sum(1, keepdim=True)
    scale = torch.where(sums != 0, norm / torch.where(sums != 0, sums, torch.ones_like(sums)), torch.ones_like(sums))
    flat.mul_(scale)
    return w


class STDPLearner(TraceLearner):
    """Pair-based trace STDP (see the module docstring for the rule and the arguments' meaning).

    Args:
        synapse: the ``Linear`` / ``Conv2d`` whose weight learns.
        neuron: the spiking neuron fed directly by the synapse.
        a_plus: potentiation amplitude A+ (>= 0): the change when a post spike follows a pre spike.
        a_minus: depression amplitude A- (>= 0, the sign is the rule's): a pre spike after a post spike.
        tau_plus, tau_minus: time constants of the pre and post traces (same unit as ``dt``).
        dt: the simulation step.
        trace: ``'all_to_all'`` (traces add up) or ``'nearest'`` (a spike sets its trace to 1).
        weight_dependence: ``'additive'`` or ``'multiplicative'`` (soft bounds; needs w_min and w_max).
        w_min, w_max: hard bounds (None: unbounded on that side).
        norm: fixed sum of each post-synaptic neuron's input weights (None: no normalisation).
        reduction: ``'mean'`` (average over the batch) or ``'sum'``.
        sync: ``'auto'``: average over ``torch.distributed`` replicas when initialised; ``'never'``.
        freeze: stop gradients to the synapse's parameters (they belong to STDP).
    """

    def __init__(self, synapse: nn.Module, neuron: nn.Module, a_plus: float = 1e-2, a_minus: float = 1e-2,
                 tau_plus: float = 20.0, tau_minus: float = 20.0, dt: float = 1.0, trace: str = "all_to_all", **kwargs):
        owner = type(self).__name__
        self.a_plus = check_amplitude(a_plus, owner, "a_plus", "potentiation is A+ exp(-dt/tau_plus) >= 0")
        self.a_minus = check_amplitude(a_minus, owner, "a_minus",
                                       "the rule subtracts A- exp(-dt/tau_minus); pass the magnitude, e.g. 1e-4")
        self.tau_plus = check_positive(tau_plus, owner, "tau_plus")
        self.tau_minus = check_positive(tau_minus, owner, "tau_minus")
        self.trace = check_trace_mode(trace, owner)
        super().__init__(synapse, neuron, dt=dt, **kwargs)
        self.pre_trace: Optional[Tensor] = None
        self.post_trace: Optional[Tensor] = None

    def traces(self, pre: Tensor, post: Tensor) -> tuple[Tensor, Tensor]:
        """The pre and post traces over the recorded steps, carried over from the last call."""
        check_state(self, self.pre_trace, pre)
        d_pre, d_post = decay_factor(self.tau_plus, self.dt), decay_factor(self.tau_minus, self.dt)
        x = exp_trace(pre, d_pre, self.pre_trace, self.trace)
        y = exp_trace(post, d_post, self.post_trace, self.trace)
        self.pre_trace, self.post_trace = x[-1], y[-1]
        return x, y

    def _changes(self, pre: Tensor, post: Tensor) -> tuple[Tensor, Tensor]:
        x, y = self.traces(pre, post)
        return self.a_plus * outer_sum(self.synapse, post, x), self.a_minus * outer_sum(self.synapse, y, pre)

    def reset(self) -> None:
        super().reset()
        self.pre_trace = self.post_trace = None
