"""The Diehl & Cook (2015) network: unsupervised digit recognition with STDP.

Poisson input -> Linear (plastic, STDP) -> excitatory LIF layer with adaptive thresholds and
lateral inhibition. Each input is shown for ``time`` (ms) at steps of ``dt`` (ms); pixel
intensity x in [0, 1] fires at ``x * max_rate`` Hz, i.e. with probability ``x max_rate dt / 1000``
per step. The excitatory neurons (potentials relative to rest, in mV) follow

    H = V - V / tau_steps + sum_i W[j, i] s_i        (tau_steps = tau / dt, reset to rest)

spike when H clears 13 mV + theta_j, and inhibit each other: with ``k=1`` at most one neuron
fires per step, and every spike lowers the others' potential by ``inhibition`` mV. The default
(120 mV) is far above the paper's 17.5: theta grows to tens of mV here, and a weaker inhibition
lets several neurons answer (and learn) the same input, so they all drift to the same blurred
average (Fashion-MNIST subset: 37% with 17.5 mV, 66% with 120 mV). Learning is
the pair rule with nearest-spike traces, A+ on post spikes (1e-2) and A- on pre spikes (1e-4),
weights in [0, w_max] and each neuron's input weights normalised to ``0.1 * n_inputs`` (78.4 for
MNIST). After training, each neuron is labelled with the class it responds to most, and an
input is classified by the group of neurons that fired most on average.

Departures from the paper, for speed: current-based instead of conductance-based synapses, the
inhibitory population folded into a direct inhibition hook, the reset at rest, no refractory
period and no rest phase between inputs (the state is reset instead), and many inputs simulated
at once (``batch_size``; a batch of one is the sequential rule). A batch's weight and threshold
changes are summed (``reduction='sum'``, as in BindsNET's batched Diehl & Cook): a batch of B
moves the weights about as far as B inputs shown one by one, which averaging (``'mean'``) does
not: it divides the learning rate by B and the network barely learns in one pass.

``input_norm`` (optional) scales each image's rates so that its mean intensity is ``input_norm``
(probabilities capped at 1): faint images (sandals, sneakers) then drive the layer as strongly as
bright ones (pullovers, bags) and get neurons of their own.

>>> net = DiehlCook(n_inputs=784, n_neurons=100, time=250.0, dt=1.0)
>>> counts = net.run(images, learn=True)          # images [N, 1, 28, 28] in [0, 1] -> counts [N, 100]
>>> pred = net.predict(counts)                     # after net.assign(assigner)
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from .. import functional, layer
from ..learning import AdaptiveThreshold, LateralInhibition, ResponseAssigner, STDPLearner, classify
from ..neuron import LIFNode


class DiehlCook(nn.Module):
    """Diehl & Cook's STDP network (see the module docstring).

    Args:
        n_inputs: input pixels (784 for 28 x 28, 64 for 8 x 8 digits).
        n_neurons: excitatory neurons (100 to 6400).
        num_classes: classes for the label assignment.
        time: simulated time per input in ms; dt: the step in ms (``round(time / dt)`` steps).
        max_rate: input rate in Hz at intensity 1.
        tau: membrane time constant in ms; v_threshold: threshold above rest in mV.
        theta_plus, tau_theta: adaptive threshold rise per spike (mV) and decay time (ms).
        inhibition: mV taken from every other neuron per spike; k: winners per step (None: no limit).
        a_plus, a_minus, tau_plus, tau_minus, trace, weight_dependence: the STDP rule
            (:class:`~spikesmith.learning.STDPLearner`).
        w_max: upper weight bound (lower: 0); norm: sum of each neuron's input weights
            (None: ``0.1 * n_inputs``; 0: no normalisation); w_init: weights start uniform in [0, w_init].
        reduction: how the weight and threshold changes of a batch combine: ``'sum'`` (batched
            Diehl & Cook: a batch moves the weights as far as its inputs shown one by one) or ``'mean'``.
        input_norm: scale every image's rates to this mean intensity in (0, 1] (None: as they are).
    """

    def __init__(self, n_inputs: int = 784, n_neurons: int = 100, num_classes: int = 10, time: float = 250.0,
                 dt: float = 1.0, max_rate: float = 128.0, tau: float = 100.0, v_threshold: float = 13.0,
                 theta_plus: float = 0.05, tau_theta: float = 1e7, inhibition: float = 120.0, k: Optional[int] = 1,
                 a_plus: float = 1e-2, a_minus: float = 1e-4, tau_plus: float = 20.0, tau_minus: float = 20.0,
                 trace: str = "nearest", weight_dependence: str = "additive", w_max: float = 1.0,
                 norm: Optional[float] = None, w_init: float = 0.3, reduction: str = "sum",
                 input_norm: Optional[float] = None):
        super().__init__()
        owner = type(self).__name__
        for name, value in (("n_inputs", n_inputs), ("n_neurons", n_neurons), ("num_classes", num_classes)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
        if not (time > 0 and dt > 0 and round(time / dt) >= 1):
            raise ValueError(f"{owner}: time and dt must be > 0 with at least one step, got time={time}, dt={dt}")
        if not 0 < max_rate * dt / 1000.0 <= 1:
            raise ValueError(f"{owner}: max_rate * dt / 1000 is a spike probability per step and must lie in (0, 1], "
                             f"got max_rate={max_rate} Hz, dt={dt} ms")
        if not tau > dt:
            raise ValueError(f"{owner}: tau must exceed dt (the decay dt/tau must lie in (0, 1)), got tau={tau}, dt={dt}")
        if input_norm is not None and not 0 < input_norm <= 1:
            raise ValueError(f"{owner}: input_norm is the mean intensity every image is scaled to and must lie in "
                             f"(0, 1], or None to keep the images as they are; got {input_norm!r}")
        if not 0 < w_init <= w_max:
            raise ValueError(f"{owner}: w_init must lie in (0, w_max={w_max}], got {w_init}")
        self.n_inputs, self.n_neurons, self.num_classes = n_inputs, n_neurons, num_classes
        self.time, self.dt, self.max_rate = float(time), float(dt), float(max_rate)
        self.input_norm = None if input_norm is None else float(input_norm)
        self.fc = layer.Linear(n_inputs, n_neurons, bias=False, step_mode="m")
        with torch.no_grad():
            self.fc.weight.uniform_(0.0, w_init)
        self.exc = LIFNode(tau=tau / dt, decay_input=False, v_threshold=v_threshold, v_reset=0.0, step_mode="m",
                           backend="torch")
        AdaptiveThreshold(n_neurons, theta_plus=theta_plus, tau_theta=tau_theta, dt=dt, reduction=reduction
                          ).attach(self.exc)
        LateralInhibition(strength=inhibition, k=k).attach(self.exc)
        norm = 0.1 * n_inputs if norm is None else (None if norm == 0 else float(norm))
        self.learner = STDPLearner(self.fc, self.exc, a_plus=a_plus, a_minus=a_minus, tau_plus=tau_plus,
                                   tau_minus=tau_minus, dt=dt, trace=trace, weight_dependence=weight_dependence,
                                   w_min=0.0, w_max=w_max, norm=norm, reduction=reduction)
        self.learner.clamp_and_normalize()
        self.learner.enabled = False
        self.register_buffer("assignments", torch.full((n_neurons,), -1, dtype=torch.long))
        self.register_buffer("rates", torch.zeros(n_neurons, num_classes))

    @property
    def steps(self) -> int:
        return max(1, round(self.time / self.dt))

    @property
    def theta(self) -> Tensor:
        """The adaptive threshold offsets (mV) of the excitatory neurons."""
        return self.exc.adaptive_threshold.theta

    def encode(self, x: Tensor, generator: Optional[torch.Generator] = None) -> Tensor:
        """Images ``[N, ...]`` in [0, 1] -> Poisson spikes ``[T, N, n_inputs]``."""
        flat = x.reshape(x.shape[0], -1)
        if flat.shape[1] != self.n_inputs:
            raise ValueError(f"{type(self).__name__}: inputs have {flat.shape[1]} values per sample "
                             f"(shape {list(x.shape)}) but the network has n_inputs={self.n_inputs}")
        p = flat.clamp(0, 1) * (self.max_rate * self.dt / 1000.0)
        if self.input_norm is not None:  # every image drives the layer equally: its mean rate is fixed
            mean = flat.clamp(0, 1).mean(1, keepdim=True)
            p = (p * (self.input_norm / mean.clamp(min=1e-6))).clamp(max=1.0)
        u = torch.rand((self.steps, *p.shape), generator=generator, device=p.device, dtype=p.dtype)
        return (u < p).to(p.dtype)

    def forward(self, x_seq: Tensor) -> Tensor:
        """Input spikes ``[T, N, n_inputs]`` -> excitatory spikes ``[T, N, n_neurons]``."""
        return self.exc(self.fc(x_seq))

    def run(self, x: Tensor, learn: bool = False, generator: Optional[torch.Generator] = None) -> Tensor:
        """Show images ``[N, ...]`` once (learning if ``learn``); return spike counts ``[N, n_neurons]``.

        Learning updates the weights by the batch's summed (or averaged: ``reduction``) STDP change
        and the thresholds.
        """
        was_training = self.training
        self.train(learn)
        self.learner.enabled = learn
        try:
            with torch.no_grad():
                spikes = self(self.encode(x, generator))
                if learn:
                    self.learner.step()
            counts = spikes.sum(0)
        finally:
            functional.reset_net(self)  # folds the thresholds of this batch into theta when learning
            self.learner.reset()
            self.learner.enabled = False
            self.train(was_training)
        return counts

    def assign(self, assigner: ResponseAssigner) -> Tensor:
        """Label the neurons from the responses collected in ``assigner``; returns the labels."""
        self.rates.copy_(assigner.rates().to(self.rates))
        self.assignments.copy_(assigner.assign())
        return self.assignments

    def predict(self, counts: Tensor, vote: str = "mean") -> Tensor:
        """Classes from spike counts ``[N, n_neurons]`` by the most active labelled group (``vote``:
        ``'mean'`` count, or ``'proportion'``: counts weighted by each neuron's class selectivity)."""
        return classify(counts, self.assignments, self.num_classes, vote=vote, rates=self.rates)

    def extra_repr(self) -> str:
        return f"n_inputs={self.n_inputs}, n_neurons={self.n_neurons}, time={self.time} ms, dt={self.dt} ms, " \
               f"max_rate={self.max_rate} Hz"
