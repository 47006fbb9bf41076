"""Step hooks that couple a layer's neurons within a step: lateral inhibition (k-WTA) and an
adaptive threshold (homeostasis).

Both run through ``BaseNode.register_step_hook``, between fire and reset, on the whole layer's
charged potential ``H`` and spikes ``S`` (``N x ...``); a neuron with a hook runs step by step
(``scan``), never through a special-cased kernel. ``attach(neuron)`` registers the hook and
adds the module under the neuron (so its buffers are saved with the weights and
``functional.reset_net`` resets it). Attach in the order they should act: the adaptive
threshold first (it decides which spikes are real), then the inhibition.

Adaptive threshold (per neuron, ``theta >= 0``)::

    S' = S * Heaviside(H - V_th - theta_n)          spikes must clear the raised threshold
    H' = H - theta_n S'                             a soft reset then subtracts V_th + theta too
    theta_n <- theta_n exp(-dt/tau_theta) + theta_plus S'     (training only)

``theta_n`` is the per-sample copy used during a sequence (samples of a batch stay independent);
``reset()`` (``functional.reset_net``) folds it into the shared ``theta`` buffer: the mean over the
batch (``reduction='mean'``, the analogue of the averaged weight change; a batch of one is the
sequential rule) or the sum of the increases (``'sum'``); under ``torch.distributed`` the replicas'
changes are combined the same way (averaged or summed).

Lateral inhibition (within each group: the whole layer, or the channels at one position)::

    k-WTA:  of the neurons that fired, keep the k with the highest H
    soft:   H'_j = max(H_j - strength * (sum_i S'_i - S'_j), v_floor)

so the winners' spikes lower every other neuron's potential from the next step on.

>>> lif = neuron.LIFNode(tau=100., v_threshold=13., step_mode="m")
>>> AdaptiveThreshold(100, theta_plus=0.05).attach(lif)
>>> LateralInhibition(strength=17.5, k=1).attach(lif)
"""

from __future__ import annotations

import math
from typing import Optional, Union

import torch
import torch.distributed as dist
from torch import Tensor, nn

from ..module import MemoryModule
from ..neuron import BaseNode
from .traces import check_positive, decay_factor

GROUPS = ("all", "channel")


def _check_neuron(neuron, owner: str) -> BaseNode:
    if not isinstance(neuron, BaseNode) or not neuron.emits_spikes:
        raise TypeError(f"{owner}.attach expects a spiking neuron (a spikesmith BaseNode that emits spikes), "
                        f"got {type(neuron).__name__}")
    return neuron


class _Hook:
    """``attach`` / ``detach`` shared by the hooks."""

    attr_name = "hook"

    def attach(self, neuron: nn.Module):
        """Register on ``neuron`` (after its existing hooks) and add this module under it; returns self."""
        neuron = _check_neuron(neuron, type(self).__name__)
        if self._handle is not None:
            raise ValueError(f"{type(self).__name__} is already attached to a neuron; detach() it first")
        name, i = self.attr_name, 1
        while hasattr(neuron, name):
            i += 1
            name = f"{self.attr_name}_{i}"
        neuron.add_module(name, self)
        self._owner = (neuron, name)
        self._handle = neuron.register_step_hook(self)
        return self

    def detach(self) -> None:
        if self._handle is not None:
            self._handle.remove()
            neuron, name = self._owner
            delattr(neuron, name)
            self._handle, self._owner = None, None


class LateralInhibition(_Hook, nn.Module):
    """Winner-take-all and soft lateral inhibition as a step hook.

    Args:
        strength: how much each spike lowers the potential of the other neurons of its group (>= 0).
        k: keep at most ``k`` spikes per group and step (hard k-WTA); None: no limit.
        group: ``'all'`` (every neuron of a sample competes) or ``'channel'`` (for ``N x C x H x W``:
            the channels at each position compete, as in convolutional STDP).
        v_floor: lowest potential inhibition may push a neuron to (None: unbounded).
    """

    attr_name = "lateral_inhibition"

    def __init__(self, strength: float = 0.0, k: Optional[int] = None, group: str = "all",
                 v_floor: Optional[float] = None):
        super().__init__()
        owner = type(self).__name__
        if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not strength >= 0 \
                or not math.isfinite(strength):
            raise ValueError(f"{owner}: strength must be a finite number >= 0 (how much a spike lowers the others' "
                             f"potential), got {strength!r}")
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
            raise ValueError(f"{owner}: k must be a positive int (winners per step) or None, got {k!r}")
        if strength == 0 and k is None:
            raise ValueError(f"{owner}: give a strength > 0, a k for k-winner-take-all, or both")
        if group not in GROUPS:
            raise ValueError(f"{owner}: group must be 'all' or 'channel', got {group!r}")
        self.strength, self.k, self.group = float(strength), k, group
        self.v_floor = None if v_floor is None else float(v_floor)
        self._handle = self._owner = None

    def _grouped(self, x: Tensor) -> Tensor:
        """``N x ...`` -> ``N x groups x members``."""
        if self.group == "all":
            return x.reshape(x.shape[0], 1, -1)
        if x.dim() != 4:
            raise ValueError(f"{type(self).__name__}(group='channel') expects N x C x H x W steps, got {list(x.shape)}")
        return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1, x.shape[1])

    def _ungrouped(self, g: Tensor, like: Tensor) -> Tensor:
        if self.group == "all":
            return g.reshape(like.shape)
        n, c, hh, ww = like.shape
        return g.reshape(n, hh, ww, c).permute(0, 3, 1, 2)

    def forward(self, neuron: BaseNode, h: Tensor, s: Tensor):
        sg = self._grouped(s)
        if self.k is not None and self.k < sg.shape[-1]:
            hg = self._grouped(h).detach()
            score = torch.where(sg > 0, hg, torch.full_like(hg, -math.inf))
            top = score.topk(self.k, dim=-1).indices
            keep = torch.zeros_like(sg).scatter_(-1, top, 1.0)
            sg = sg * keep
            s = self._ungrouped(sg, s)
        if self.strength > 0:
            total = sg.sum(-1, keepdim=True)
            inhibition = self._ungrouped(self.strength * (total - sg), h)
            h = h - inhibition
            if self.v_floor is not None:
                h = torch.clamp(h, min=self.v_floor)
        return h, s

    def extra_repr(self) -> str:
        return f"strength={self.strength}, k={self.k}, group={self.group!r}, v_floor={self.v_floor}"


class AdaptiveThreshold(_Hook, MemoryModule):
    """A per-neuron threshold offset theta that rises with every spike and decays slowly.

    Args:
        shape: the shape of one sample's neurons (an int for a flat layer, or e.g. ``(C, H, W)``).
        theta_plus: the rise per spike (>= 0).
        tau_theta: the decay time constant (unit of ``dt``; Diehl & Cook use 1e7 ms).
        dt: the simulation step.
        reduction: how ``reset()`` folds the samples of a batch into ``theta``: ``'mean'`` or ``'sum'``.

    ``theta`` is a buffer (saved, moved by ``.to()``); it adapts only while the module is in
    training mode (``net.train()``) and ``learn`` is True.
    """

    attr_name = "adaptive_threshold"

    def __init__(self, shape: Union[int, tuple], theta_plus: float = 0.05, tau_theta: float = 1e7, dt: float = 1.0,
                 reduction: str = "mean", learn: bool = True):
        super().__init__()
        owner = type(self).__name__
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        if not shape or not all(isinstance(d, int) and d > 0 for d in shape):
            raise ValueError(f"{owner}: shape must be a positive int or a tuple of them, got {shape!r}")
        if isinstance(theta_plus, bool) or not isinstance(theta_plus, (int, float)) or not theta_plus >= 0:
            raise ValueError(f"{owner}: theta_plus is the threshold rise per spike and must be >= 0, got {theta_plus!r}")
        self.theta_plus = float(theta_plus)
        self.tau_theta = check_positive(tau_theta, owner, "tau_theta")
        self.dt = check_positive(dt, owner, "dt")
        if reduction not in ("mean", "sum"):
            raise ValueError(f"{owner}: reduction must be 'mean' or 'sum', got {reduction!r}")
        self.reduction = reduction
        self.learn = bool(learn)
        self.register_buffer("theta", torch.zeros(shape))
        self.register_memory("theta_n", None)
        self._handle = self._owner = None

    @property
    def decay(self) -> float:
        return decay_factor(self.tau_theta, self.dt)

    def forward(self, neuron: BaseNode, h: Tensor, s: Tensor):
        if self.theta_n is None:
            if h.shape[1:] != self.theta.shape:
                raise ValueError(f"{type(self).__name__}: the layer's steps have shape {list(h.shape)} but theta was "
                                 f"made for [N, {', '.join(map(str, self.theta.shape))}]; pass the neuron shape")
            object.__setattr__(self, "theta_n", self.theta.to(h.dtype).expand_as(h).clone())
        theta = self.theta_n
        s = s * neuron.surrogate_function(h - neuron.v_threshold - theta)
        h = h - theta * s
        if self.training and self.learn:
            object.__setattr__(self, "theta_n", theta * self.decay + self.theta_plus * s.detach())
        return h, s

    @torch.no_grad()
    def commit(self) -> None:
        """Fold the per-sample thresholds of the current sequence into ``theta`` (training only)."""
        if self.theta_n is None or not (self.training and self.learn):
            return
        theta_n = self.theta_n.detach().to(self.theta.dtype)
        change = (theta_n - self.theta).mean(0) if self.reduction == "mean" else (theta_n - self.theta).sum(0)
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            dist.all_reduce(change)        # replicas keep the same thresholds: combined like the samples
            if self.reduction == "mean":
                change /= dist.get_world_size()
        self.theta.add_(change)

    def reset(self) -> None:
        self.commit()
        super().reset()

    def extra_repr(self) -> str:
        return (f"shape={tuple(self.theta.shape)}, theta_plus={self.theta_plus}, tau_theta={self.tau_theta}, "
                f"dt={self.dt}, reduction={self.reduction!r}")
