"""A stochastic winner-take-all network trained by probabilistic STDP (Nessler et al. 2013):
unsupervised clustering of images, labels assigned afterwards (as for Diehl & Cook).

Each pixel x in [0, 1] drives two Poisson afferents (population coding of a binary variable):
"on" at ``x * max_rate`` Hz and "off" at ``(1 - x) * max_rate`` Hz. An afferent counts as active
for ``sigma`` ms after each of its spikes (a rectangular EPSP), giving ``y_i(t)`` in {0, 1}. The K
output neurons have potentials ``u_k = sum_i w_ki y_i + b_k`` and form a stochastic WTA circuit
(:mod:`spikesmith.learning.stochastic_wta`): the circuit spikes at ``wta_rate`` Hz, and which
neuron fires is drawn from ``softmax(u)``. While learning, every output spike applies the rule of
:mod:`spikesmith.learning.nessler` (weights, and the biases when ``eta_bias > 0``); the weights
converge to ``log(c p(afferent active | neuron))``, kept within ``[log(c p_min), log c]``.

A batch of inputs is simulated at once; their updates at each step are summed.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor, nn

from ..learning.assign import ResponseAssigner, classify
from ..learning.nessler import homeostatic_bias_update, nessler_bias_update, nessler_weight_update
from ..learning.stochastic_wta import check_wta_rate, wta_spikes


class NesslerWTA(nn.Module):
    """Poisson on/off afferents -> K stochastic WTA neurons, plastic by probabilistic STDP.

    Args:
        n_inputs: pixels per image (each gets an on and an off afferent).
        n_neurons: K, the output neurons (mixture components).
        num_classes: for the labels assigned after training.
        time, dt: ms each input is shown, ms per step.
        max_rate: an afferent's rate (Hz) at full drive.
        wta_rate: the circuit's total output rate (Hz).
        sigma: ms an input spike counts as "before" an output spike (the EPSP's length).
        c, eta: the rule's constant (weights converge to log(c p)) and learning rate.
        eta_bias, c_bias: the prior's learning rate (0: biases stay 0, a uniform prior) and constant.
        p_min: the smallest probability a weight may stand for (w >= log(c p_min)).
        homeostasis: rate of the homeostatic bias rule (Habenschuss et al. 2013; 0: off): at every
            circuit spike ``db_k = homeostasis * (1/K - z_k)``, so every neuron is driven to win
            1/K of the spikes and none takes over all inputs while the others stay where they began.
    """

    def __init__(self, n_inputs: int = 64, n_neurons: int = 100, num_classes: int = 10, time: float = 50.0,
                 dt: float = 1.0, max_rate: float = 200.0, wta_rate: float = 200.0, sigma: float = 10.0,
                 c: float = 1.0, eta: float = 0.01, eta_bias: float = 0.0, c_bias: Optional[float] = None,
                 p_min: float = 0.01, homeostasis: float = 0.0):
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
        check_wta_rate(wta_rate, dt, owner)
        if not sigma >= dt:
            raise ValueError(f"{owner}: sigma (ms an input spike stays active) must be at least one step dt={dt}, "
                             f"got {sigma}")
        for name, value in (("c", c), ("eta", eta)):
            if not value > 0:
                raise ValueError(f"{owner}: {name} must be > 0, got {value}")
        if not eta_bias >= 0:
            raise ValueError(f"{owner}: eta_bias must be >= 0 (0: a fixed uniform prior), got {eta_bias}")
        if not homeostasis >= 0:
            raise ValueError(f"{owner}: homeostasis must be >= 0 (0: off), got {homeostasis}")
        if not 0 < p_min < 1:
            raise ValueError(f"{owner}: p_min must lie in (0, 1), got {p_min}")
        self.n_inputs, self.n_neurons, self.num_classes = n_inputs, n_neurons, num_classes
        self.time, self.dt, self.max_rate, self.wta_rate, self.sigma = float(time), float(dt), float(max_rate), \
            float(wta_rate), float(sigma)
        self.c, self.eta, self.eta_bias, self.p_min = float(c), float(eta), float(eta_bias), float(p_min)
        self.homeostasis = float(homeostasis)
        self.c_bias = float(n_neurons if c_bias is None else c_bias)    # b -> log(K p(k)): 0 for a uniform prior
        self.weight = nn.Parameter(torch.empty(n_neurons, 2 * n_inputs), requires_grad=False)
        self.bias = nn.Parameter(torch.zeros(n_neurons), requires_grad=False)
        with torch.no_grad():                 # random p in [0.25, 0.75]: no neuron starts as any one image
            self.weight.copy_(torch.log(self.c * torch.empty_like(self.weight).uniform_(0.25, 0.75)))
        self.register_buffer("assignments", torch.full((n_neurons,), -1, dtype=torch.long))
        self.register_buffer("rates", torch.zeros(n_neurons, num_classes))

    @property
    def steps(self) -> int:
        return max(1, round(self.time / self.dt))

    @property
    def window_steps(self) -> int:
        return max(1, round(self.sigma / self.dt))

    def encode(self, x: Tensor, generator: Optional[torch.Generator] = None) -> Tensor:
        """Images ``[N, ...]`` in [0, 1] -> on/off Poisson spikes ``[T, N, 2 * n_inputs]``."""
        flat = x.reshape(x.shape[0], -1).float()
        if flat.shape[1] != self.n_inputs:
            raise ValueError(f"{type(self).__name__}: inputs have {flat.shape[1]} values per sample "
                             f"(shape {list(x.shape)}) but the network has n_inputs={self.n_inputs}")
        if not bool(torch.isfinite(flat).all()):
            raise ValueError(f"{type(self).__name__}: the images hold NaN or Inf; give intensities in [0, 1]")
        drive = flat.clamp(0, 1)
        p = torch.cat([drive, 1.0 - drive], 1) * (self.max_rate * self.dt / 1000.0)
        u = torch.rand((self.steps, *p.shape), generator=generator, device=p.device)
        return (u < p).to(p.dtype)

    def potentials(self, y: Tensor) -> Tensor:
        """``u = y W^T + b`` ``[N, K]`` for the active inputs ``y`` ``[N, 2 * n_inputs]``."""
        return y.matmul(self.weight.t()) + self.bias

    def run(self, x: Tensor, learn: bool = False, generator: Optional[torch.Generator] = None) -> Tensor:
        """Show images ``[N, ...]`` once (learning at every output spike if ``learn``); return the
        output spike counts ``[N, n_neurons]``."""
        spikes = self.encode(x, generator)
        active_for = torch.zeros_like(spikes[0])          # steps each afferent stays active
        counts = torch.zeros(x.shape[0], self.n_neurons, device=spikes.device)
        w_min, w_max = math.log(self.c * self.p_min), math.log(self.c)
        with torch.no_grad():
            for s in spikes:
                active_for = torch.where(s > 0, torch.full_like(active_for, self.window_steps),
                                         (active_for - 1).clamp(min=0))
                y = (active_for > 0).to(s.dtype)
                z = wta_spikes(self.potentials(y), self.wta_rate, self.dt, generator)
                counts += z
                if learn and bool(z.any()):
                    self.weight.add_(nessler_weight_update(self.weight, y, z, self.c, self.eta)).clamp_(w_min, w_max)
                    if self.eta_bias > 0:
                        self.bias.add_(nessler_bias_update(self.bias, z, self.c_bias, self.eta_bias))
                    if self.homeostasis > 0:
                        self.bias.add_(homeostatic_bias_update(z, self.homeostasis))
        return counts

    def on_probabilities(self) -> Tensor:
        """``[K, n_inputs]``: p(on afferent active | k), what each neuron has learned (its receptive field)."""
        return (self.weight[:, : self.n_inputs].exp() / self.c).clamp(0, 1)

    def assign(self, assigner: ResponseAssigner) -> Tensor:
        """Label the neurons from the responses collected in ``assigner``; returns the labels."""
        self.rates.copy_(assigner.rates().to(self.rates))
        self.assignments.copy_(assigner.assign())
        return self.assignments

    def predict(self, counts: Tensor, vote: str = "mean") -> Tensor:
        """Classes from spike counts ``[N, n_neurons]`` by the most active labelled group (as Diehl & Cook)."""
        return classify(counts, self.assignments, self.num_classes, vote=vote, rates=self.rates)

    def extra_repr(self) -> str:
        return (f"n_inputs={self.n_inputs} (x2 on/off), n_neurons={self.n_neurons}, time={self.time} ms, "
                f"dt={self.dt} ms, wta_rate={self.wta_rate} Hz, sigma={self.sigma} ms, c={self.c}, eta={self.eta}")
