"""Event-driven contrastive divergence (Neftci et al. 2014): an RBM of spiking LIF neurons with
stochastic inputs, trained by a symmetric STDP rule whose sign flips between two phases.

Neurons (discrete time, one step = dt). Every unit, visible or hidden, is a LIF neuron with a
refractory period, driven by its synapses, its bias and balanced Bernoulli noise (the stochastic
inputs that make it sample, after Neftci et al.'s Poisson noise sources):

    H[t]  = V[t-1] - V[t-1] / tau + I[t]                       (dynamics.leaky_charge, no input decay)
    I[t]  = W s_pre[t-1] + bias + w_noise (n_exc[t] - n_inh[t]),   n ~ Bernoulli(noise_rate)
    S[t]  = 1 if H[t] >= V_th and the unit is not refractory;   V[t] = 0 after a spike (and held
            at 0 for ``refractory`` steps), else V[t] = H[t]

Each presentation of a batch has two phases of ``burn_in + learn`` steps:

    data phase (g = +1):            visible units emit Bernoulli spikes with probability
                                    ``input_rate * x`` (the data, clamped); hidden units run free
    reconstruction phase (g = -1):  the data is removed: visible units are LIF neurons driven by
                                    W^T s_h + b; hidden units keep running

and g = 0 during each phase's first ``burn_in`` steps, while the network settles. During the
learning steps the symmetric STDP rule with traces (decay exp(-1/tau_stdp))

    x_v[t] = lambda x_v[t-1] + s_v[t],   x_h[t] = lambda x_h[t-1] + s_h[t]
    dW    += lr g(t) (s_h[t] x_v[t]^T + x_h[t-1] s_v[t]^T)       (each pre/post pair once, either order)
    db    += lr g(t) s_v[t],   dc += lr g(t) s_h[t]

is summed over the phase and averaged over the batch (independent networks sharing W, one averaged
update per presentation). Integrated over the two phases it is <v h>_data - <v h>_model as in CD,
with the spiking network doing the sampling (Neftci et al. 2014, eq. 7).

>>> rbm = EventCDRBM(64, 100, seed=0)
>>> history = rbm.fit(x, epochs=10, batch_size=32)         # x: [N, 64] in [0, 1]
>>> counts = rbm.hidden_counts(x)                           # [N, 100] hidden spikes in a data phase
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple, Optional

import torch
from torch import Tensor, nn

from ..dynamics import leaky_charge

__all__ = ["EventCDOptions", "EventCDRBM", "EventCDStats", "LayerState", "lif_step", "run_phase",
           "event_cd_update"]


def _check_number(value, name: str, low: float, high: float = math.inf, low_open: bool = False, fix: str = "") -> None:
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
    ok = ok and (value > low if low_open else value >= low) and value <= high
    if not ok:
        bound = f"{'>' if low_open else '>='} {low}" + (f" and <= {high}" if math.isfinite(high) else "")
        raise ValueError(f"EventCDRBM: {name} must be a finite number {bound}, got {value!r}" + (f"; {fix}" if fix else ""))


def _check_int(value, name: str, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"EventCDRBM: {name} must be an int >= {low}, got {value!r}")


@dataclass(frozen=True)
class EventCDOptions:
    """The neuron, phase and plasticity constants (steps are simulation steps)."""

    burn_in: int = 10              # steps of each phase without plasticity
    learn: int = 40                # steps of each phase with plasticity
    tau: float = 4.0               # membrane time constant
    v_threshold: float = 1.0
    refractory: int = 1            # steps a unit stays silent after a spike
    input_rate: float = 0.8        # spike probability per step of a visible unit at x = 1 (data phase)
    noise_rate: float = 0.3        # probability per step of each of the two noise inputs
    noise_weight: float = 0.5
    tau_stdp: float = 4.0          # STDP trace time constant
    lr: float = 0.02

    def __post_init__(self):
        _check_int(self.burn_in, "burn_in", 0)
        _check_int(self.learn, "learn", 1)
        _check_int(self.refractory, "refractory", 0)
        _check_number(self.tau, "tau", 1.0, low_open=True, fix="the decay 1/tau must lie in (0, 1)")
        _check_number(self.v_threshold, "v_threshold", 0.0, low_open=True)
        _check_number(self.input_rate, "input_rate", 0.0, 1.0, low_open=True, fix="it is a probability per step")
        _check_number(self.noise_rate, "noise_rate", 0.0, 1.0, fix="it is a probability per step")
        _check_number(self.noise_weight, "noise_weight", 0.0)
        _check_number(self.tau_stdp, "tau_stdp", 0.0, low_open=True)
        _check_number(self.lr, "lr", 0.0, low_open=True)


class LayerState(NamedTuple):
    v: Tensor             # membrane
    refractory: Tensor    # steps left silent
    spike: Tensor         # last step's spikes
    trace: Tensor         # STDP trace


class EventCDStats(NamedTuple):
    data_visible_rate: float      # spikes per step per unit, learning steps of the data phase
    data_hidden_rate: float
    model_visible_rate: float     # the same in the reconstruction phase
    model_hidden_rate: float
    reconstruction_error: float   # mean (x - visible rate / input_rate)^2 in the reconstruction phase


def _zeros(batch: int, n: int, like: Tensor) -> LayerState:
    z = torch.zeros(batch, n, dtype=like.dtype, device=like.device)
    return LayerState(z, z.clone(), z.clone(), z.clone())


def lif_step(state: LayerState, current: Tensor, options: EventCDOptions, trace_decay: float) -> LayerState:
    """One step of a layer of LIF units with refractory period; returns the new state (spikes, trace)."""
    h = leaky_charge(current, state.v, 1.0 / options.tau, 0.0, decay_input=False)
    free = state.refractory <= 0
    spike = ((h >= options.v_threshold) & free).to(h.dtype)
    v = torch.where(free, h, torch.zeros_like(h)) * (1 - spike)
    refractory = torch.where(spike > 0, torch.full_like(h, float(options.refractory)), state.refractory - 1)
    return LayerState(v, refractory, spike, trace_decay * state.trace + spike)


def _noise(shape, options: EventCDOptions, generator: Optional[torch.Generator], like: Tensor) -> Tensor:
    if options.noise_rate == 0 or options.noise_weight == 0:
        return torch.zeros(shape, dtype=like.dtype, device=like.device)
    u = torch.rand((2, *shape), generator=generator, dtype=like.dtype, device=like.device)
    return options.noise_weight * ((u[0] < options.noise_rate).to(like.dtype) - (u[1] < options.noise_rate).to(like.dtype))


def run_phase(weight: Tensor, visible_bias: Tensor, hidden_bias: Tensor, visible: LayerState, hidden: LayerState,
              data: Optional[Tensor], steps: int, sign: float, options: EventCDOptions,
              generator: Optional[torch.Generator]) -> tuple[LayerState, LayerState, tuple[Tensor, Tensor, Tensor],
                                                              tuple[Tensor, Tensor]]:
    """Run ``steps`` steps; ``data`` ``[N, k]`` given: the first k visible units are clamped Bernoulli
    spike trains of it (k may be less than the visible units: the rest run free, as the label units
    do when an image is classified), None: all visible units are free LIF units. With ``sign`` != 0 the STDP sums (dW, db, dc) accumulate (times
    ``sign``; not yet scaled by lr or the batch). Returns the states, the sums and the spike counts
    (visible, hidden) of the phase."""
    lam = math.exp(-1.0 / options.tau_stdp)
    dw = torch.zeros_like(weight)
    db, dc = torch.zeros_like(visible_bias), torch.zeros_like(hidden_bias)
    count_v, count_h = torch.zeros_like(visible.v), torch.zeros_like(hidden.v)
    n, n_visible = visible.v.shape
    k = 0 if data is None else data.shape[1]
    if k > n_visible:
        raise ValueError(f"run_phase: data has {k} columns but the network {n_visible} visible units")
    for _ in range(steps):
        # the first k visible units are clamped to the data, the others are free LIF units
        current = hidden.spike @ weight[:, k:] + visible_bias[k:] + _noise((n, n_visible - k), options, generator,
                                                                           visible.v)
        free = lif_step(LayerState(*(t[:, k:] for t in visible)), current, options, lam)
        if k:
            u = torch.rand(data.shape, generator=generator, dtype=data.dtype, device=data.device)
            s_v = (u < options.input_rate * data).to(data.dtype)
            clamped = LayerState(visible.v[:, :k], visible.refractory[:, :k], s_v, lam * visible.trace[:, :k] + s_v)
            visible_new = LayerState(*(torch.cat(pair, 1) for pair in zip(clamped, free)))
        else:
            visible_new = free
        current = visible.spike @ weight.t() + hidden_bias + _noise(hidden.v.shape, options, generator, hidden.v)
        hidden_new = lif_step(hidden, current, options, lam)
        if sign:
            # s_h x_v^T (pre before or with post) + x_h(previous) s_v^T (post before pre)
            dw += sign * (hidden_new.spike.t() @ visible_new.trace + hidden.trace.t() @ visible_new.spike * lam)
            db += sign * visible_new.spike.sum(0)
            dc += sign * hidden_new.spike.sum(0)
        visible, hidden = visible_new, hidden_new
        count_v, count_h = count_v + visible.spike, count_h + hidden.spike
    return visible, hidden, (dw, db, dc), (count_v, count_h)


def event_cd_update(weight: Tensor, visible_bias: Tensor, hidden_bias: Tensor, x: Tensor, options: EventCDOptions,
                    generator: Optional[torch.Generator]) -> tuple[tuple[Tensor, Tensor, Tensor], EventCDStats]:
    """One presentation of a batch ``[N, V]``: a data phase then a reconstruction phase from a fresh
    network; returns the parameter changes (dW, db, dc), already scaled, and the phase rates."""
    visible, hidden = _zeros(x.shape[0], weight.shape[1], x), _zeros(x.shape[0], weight.shape[0], x)
    sums = []
    counts = []
    for data, sign in ((x, 1.0), (None, -1.0)):
        visible, hidden, _, _ = run_phase(weight, visible_bias, hidden_bias, visible, hidden, data, options.burn_in,
                                          0.0, options, generator)
        visible, hidden, delta, count = run_phase(weight, visible_bias, hidden_bias, visible, hidden, data,
                                                  options.learn, sign, options, generator)
        sums.append(delta)
        counts.append(count)
    scale = options.lr / (x.shape[0] * options.learn)
    dw, db, dc = (scale * (a + b) for a, b in zip(*sums))
    (data_v, data_h), (model_v, model_h) = counts
    steps = options.learn
    stats = EventCDStats(
        data_visible_rate=float(data_v.mean() / steps), data_hidden_rate=float(data_h.mean() / steps),
        model_visible_rate=float(model_v.mean() / steps), model_hidden_rate=float(model_h.mean() / steps),
        reconstruction_error=float((x - model_v / (steps * options.input_rate)).pow(2).mean()),
    )
    return (dw, db, dc), stats


class EventCDRBM(nn.Module):
    """A spiking RBM trained by event-driven CD. Options as in ``EventCDOptions``; ``seed`` seeds the
    initial weights (N(0, init_std^2)) and the spike generator.

    With ``n_classes`` > 0 the visible layer also holds ``label_copies`` label units per class
    (Neftci et al. 2014): training clamps them to the one-hot label beside the image, and
    ``classify`` clamps the image only and returns the class whose label units fire most while they
    run free. ``weight`` is ``[n_hidden, n_visible + n_classes * label_copies]``.
    """

    def __init__(self, n_visible: int, n_hidden: int, *, n_classes: int = 0, label_copies: int = 4,
                 init_std: float = 0.05, seed: int = 0, **options):
        super().__init__()
        for name, value in (("n_visible", n_visible), ("n_hidden", n_hidden), ("label_copies", label_copies)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"EventCDRBM: {name} must be a positive int, got {value!r}")
        _check_int(n_classes, "n_classes (0: no label units)", 0)
        unknown = set(options) - set(EventCDOptions.__dataclass_fields__)
        if unknown:
            raise TypeError(f"EventCDRBM: unknown option(s) {sorted(unknown)}; "
                            f"known: {sorted(EventCDOptions.__dataclass_fields__)}")
        self.options = EventCDOptions(**options)
        self.n_visible, self.n_hidden = n_visible, n_hidden
        self.n_classes, self.label_copies = n_classes, label_copies
        n_units = n_visible + n_classes * label_copies
        self.generator = torch.Generator().manual_seed(int(seed))
        self.weight = nn.Parameter(init_std * torch.randn(n_hidden, n_units, generator=self.generator),
                                   requires_grad=False)
        self.visible_bias = nn.Parameter(torch.zeros(n_units), requires_grad=False)
        self.hidden_bias = nn.Parameter(torch.zeros(n_hidden), requires_grad=False)
        self.history: list[EventCDStats] = []

    def _check(self, x: Tensor, where: str) -> Tensor:
        if not isinstance(x, Tensor) or not x.is_floating_point():
            raise TypeError(f"EventCDRBM.{where}: data must be a floating-point tensor, got "
                            f"{getattr(x, 'dtype', type(x).__name__)}; convert it with .float()")
        x = x.reshape(x.shape[0], -1) if x.dim() >= 2 else x
        if x.dim() != 2 or x.shape[1] != self.n_visible:
            raise ValueError(f"EventCDRBM.{where}: data must be [N, {self.n_visible}], got {list(x.shape)}")
        if x.numel() and (float(x.min()) < 0 or float(x.max()) > 1):
            raise ValueError(f"EventCDRBM.{where}: data must lie in [0, 1] (spike probabilities), got "
                             f"[{float(x.min())}, {float(x.max())}]; rescale it, e.g. x / x.max()")
        return x.to(self.weight.dtype)

    def _with_labels(self, x: Tensor, labels: Optional[Tensor], where: str) -> Tensor:
        """The clamped visible values: the image, then the one-hot label repeated ``label_copies`` times."""
        if not self.n_classes:
            if labels is not None:
                raise ValueError(f"EventCDRBM.{where}: labels given but the network has no label units; "
                                 f"build it with n_classes=...")
            return x
        if not isinstance(labels, Tensor) or labels.shape != (x.shape[0],):
            raise ValueError(f"EventCDRBM.{where}: this network has label units: pass labels [{x.shape[0]}], got "
                             f"{getattr(labels, 'shape', labels)!r}")
        labels = labels.long()
        if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= self.n_classes):
            raise ValueError(f"EventCDRBM.{where}: labels must lie in [0, {self.n_classes}), got "
                             f"[{int(labels.min())}, {int(labels.max())}]")
        one_hot = torch.nn.functional.one_hot(labels, self.n_classes).to(x.dtype)
        return torch.cat([x, one_hot.repeat_interleave(self.label_copies, 1)], 1)

    @torch.no_grad()
    def update(self, x: Tensor, labels: Optional[Tensor] = None) -> EventCDStats:
        """One presentation of the batch (with its labels where the network has label units) and its
        averaged STDP update."""
        clamped = self._with_labels(self._check(x, "update"), labels, "update")
        (dw, db, dc), stats = event_cd_update(self.weight, self.visible_bias, self.hidden_bias, clamped,
                                              self.options, self.generator)
        self.weight += dw
        self.visible_bias += db
        self.hidden_bias += dc
        self.history.append(stats)
        return stats

    def fit(self, x: Tensor, labels: Optional[Tensor] = None, epochs: int = 1, batch_size: int = 32,
            progress: bool = False) -> list[EventCDStats]:
        from tqdm.auto import tqdm

        x = self._check(x, "fit")
        self._with_labels(x[:0], None if labels is None else labels[:0], "fit")
        if labels is not None and labels.shape[:1] != x.shape[:1]:
            raise ValueError(f"EventCDRBM.fit: labels must be [{x.shape[0]}], got {list(labels.shape)}")
        _check_int(epochs, "epochs", 1)
        _check_int(batch_size, "batch_size", 1)
        start = len(self.history)
        bar = tqdm(range(epochs), desc="event-driven CD", disable=not progress, unit="epoch")
        for _ in bar:
            order = torch.randperm(x.shape[0], generator=self.generator)
            for i in range(0, x.shape[0], batch_size):
                idx = order[i:i + batch_size]
                stats = self.update(x[idx], None if labels is None else labels[idx])
            bar.set_postfix(recon=f"{stats.reconstruction_error:.3f}", h=f"{stats.data_hidden_rate:.3f}")
        return self.history[start:]

    @torch.no_grad()
    def _counts(self, x: Tensor, steps: Optional[int], batch_size: int) -> tuple[Tensor, Tensor]:
        """Spike counts (visible, hidden) over ``steps`` steps with the image clamped and any label units free."""
        steps = self.options.burn_in + self.options.learn if steps is None else steps
        _check_int(steps, "steps", 1)
        out_v, out_h = [], []
        for i in range(0, x.shape[0], batch_size):
            xb = x[i:i + batch_size]
            visible, hidden = _zeros(xb.shape[0], self.weight.shape[1], xb), _zeros(xb.shape[0], self.n_hidden, xb)
            _, _, _, (count_v, count_h) = run_phase(self.weight, self.visible_bias, self.hidden_bias, visible, hidden,
                                                    xb, steps, 0.0, self.options, self.generator)
            out_v.append(count_v)
            out_h.append(count_h)
        return torch.cat(out_v), torch.cat(out_h)

    def hidden_counts(self, x: Tensor, steps: Optional[int] = None, batch_size: int = 256) -> Tensor:
        """Hidden spike counts ``[N, n_hidden]`` over ``steps`` steps (default burn_in + learn) of a
        data phase without plasticity: the features a readout or a label assignment uses."""
        return self._counts(self._check(x, "hidden_counts"), steps, batch_size)[1]

    def classify(self, x: Tensor, steps: Optional[int] = None, batch_size: int = 256) -> Tensor:
        """The class whose label units fire most with the image clamped (networks with ``n_classes``)."""
        if not self.n_classes:
            raise ValueError("EventCDRBM.classify: the network has no label units; build it with n_classes=..., "
                             "or read out hidden_counts")
        counts = self._counts(self._check(x, "classify"), steps, batch_size)[0][:, self.n_visible:]
        return counts.reshape(x.shape[0], self.n_classes, self.label_copies).sum(-1).argmax(-1)

    def extra_repr(self) -> str:
        labels = f", n_classes={self.n_classes} x {self.label_copies} label units" if self.n_classes else ""
        return f"n_visible={self.n_visible}, n_hidden={self.n_hidden}{labels}, {self.options}"
