"""The STDP-trained deep spiking CNN of Kheradpisheh et al. (2018), ``spikesmith stdp --model sdnn``::

    image [N, 1, H, W] -> on/off DoG [N, 2, H, W] -> rank-order spike times (T steps, one spike each)
    -> conv 1 (non-leaky IF, one spike per neuron, lateral inhibition across maps) -> min-time pooling
    -> conv 2 ... -> last conv: potentials at the end of the input -> global max pooling = features
    -> linear readout (logistic regression on the standardised features)

Every convolution is unpadded with stride 1 and no bias; its kernels lie in [0, 1], drawn from
``N(w_mean, w_std)`` (clamped) and then learned layer by layer, without labels, by the simplified
STDP (:mod:`spikesmith.learning.simplified_stdp`) of the winners that the global and local
winner-take-all picks (:mod:`spikesmith.learning.winner_take_all`). Pooling passes the first spike
of each window. The last layer is read before it fires: its neurons' final potentials, max-pooled
over all positions, are the features (one per map), and only the readout sees the labels.

Everything is kept as spike *times* ``[N, maps, H, W]`` (``inf``: no spike): a non-leaky IF neuron's
potential at step ``t`` is the convolution of the inputs that have fired by ``t``
(:mod:`spikesmith.dynamics.first_spike`).

    >>> net = SDNN(image_size=(28, 28))
    >>> net.features(torch.rand(4, 1, 28, 28)).shape       # one feature per map of the last layer
    torch.Size([4, 100])
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ..dynamics.first_spike import if_first_spike_times
from ..encoding.dog import dog_kernel, dog_on_off
from ..encoding.rank_order import rank_order_times
from ..learning.simplified_stdp import check_stdp_rates, stdp_conv_winners
from ..learning.winner_take_all import lateral_inhibition, select_winners
from .lsm_readout import LogisticReadout

__all__ = ["SDNN"]


def _ints(name: str, values: Sequence, low: int) -> tuple[int, ...]:
    out = tuple(values)
    if any(isinstance(v, bool) or not isinstance(v, int) or v < low for v in out):
        raise ValueError(f"SDNN: {name} must be ints >= {low}, got {list(out)}")
    return out


class SDNN(nn.Module):
    """The STDP-trained deep spiking CNN (see the module docstring).

    Args:
        in_channels: must be 1 (the DoG front end takes grayscale images).
        image_size: ``(H, W)``; must leave every layer at least one position.
        num_classes: readout outputs.
        time_steps: T of the rank-order code.
        dog_size, sigma_centre, sigma_surround, dog_threshold: the DoG filter (``encoding.dog``).
        maps, kernels, thresholds: per convolution, its maps, kernel side and firing threshold (the
            last layer's threshold is used while it learns; its features are potentials).
        pools: per gap between two convolutions, the pooling window (= stride; 1: none).
        w_mean, w_std: the random start of the kernels, ``N(w_mean, w_std)`` clamped to [0, 1].
        feature_grid: 1 (the paper): global max pooling, one feature per map; ``g``: max pooling over a
            ``g x g`` grid of regions, ``g * g`` features per map (they keep where a pattern lies).
    """

    def __init__(self, in_channels: int = 1, image_size: Sequence[int] = (28, 28), num_classes: int = 10,
                 time_steps: int = 15, dog_size: int = 7, sigma_centre: float = 1.0, sigma_surround: float = 2.0,
                 dog_threshold: float = 0.0, maps: Sequence[int] = (30, 100), kernels: Sequence[int] = (5, 5),
                 thresholds: Sequence[float] = (15.0, 10.0), pools: Sequence[int] = (2,), w_mean: float = 0.8,
                 w_std: float = 0.05, feature_grid: int = 1):
        super().__init__()
        if in_channels != 1:
            raise ValueError(f"SDNN: the DoG front end takes grayscale images (in_channels=1), got {in_channels}; "
                             f"average colour channels first")
        self.maps, self.kernels = _ints("maps", maps, 1), _ints("kernels", kernels, 1)
        self.pools = _ints("pools", pools, 1)
        self.thresholds = tuple(float(t) for t in thresholds)
        layers = len(self.maps)
        if layers < 1 or len(self.kernels) != layers or len(self.thresholds) != layers or len(self.pools) != layers - 1:
            raise ValueError(f"SDNN: give maps, kernels and thresholds for each convolution and one pool per gap "
                             f"between them; got {layers} maps, {len(self.kernels)} kernels, {len(self.thresholds)} "
                             f"thresholds and {len(self.pools)} pools (want {max(layers - 1, 0)})")
        if any(not 0 < t < math.inf for t in self.thresholds):
            raise ValueError(f"SDNN: thresholds must be > 0, got {list(self.thresholds)}")
        if isinstance(time_steps, bool) or not isinstance(time_steps, int) or time_steps < 1:
            raise ValueError(f"SDNN: time_steps must be an int >= 1, got {time_steps!r}")
        if not (0 <= w_mean <= 1 and w_std >= 0):
            raise ValueError(f"SDNN: the kernels start in [0, 1]: w_mean must lie in [0, 1] and w_std be >= 0, got "
                             f"{w_mean}, {w_std}")
        if isinstance(feature_grid, bool) or not isinstance(feature_grid, int) or feature_grid < 1:
            raise ValueError(f"SDNN: feature_grid must be an int >= 1 (1: global max pooling), got {feature_grid!r}")
        self.feature_grid = feature_grid
        self.image_size = (int(image_size[0]), int(image_size[1]))
        self.time_steps = time_steps
        self.dog_threshold = float(dog_threshold)
        self.register_buffer("dog", dog_kernel(dog_size, sigma_centre, sigma_surround, dtype=torch.float32))
        self._check_sizes(dog_size)
        channels = (2,) + self.maps
        self.weights = nn.ParameterList(
            nn.Parameter(torch.empty(channels[i + 1], channels[i], k, k).normal_(w_mean, w_std).clamp_(0, 1),
                         requires_grad=False)
            for i, k in enumerate(self.kernels))
        self.readout = LogisticReadout(self.maps[-1] * feature_grid ** 2, num_classes)

    def _check_sizes(self, dog_size: int) -> None:
        h, w = self.image_size
        if h < dog_size or w < dog_size:
            raise ValueError(f"SDNN: images of {h} x {w} pixels are smaller than the {dog_size} x {dog_size} DoG "
                             f"window; use larger images (Fashion-MNIST's 28 x 28) or a smaller dog_size")
        for i, k in enumerate(self.kernels):
            if h < k or w < k:
                raise ValueError(f"SDNN: conv {i + 1} ({k} x {k}) gets a {h} x {w} input: the images are too small "
                                 f"for these layers; use smaller kernels or pools, fewer layers, or larger images")
            h, w = h - k + 1, w - k + 1
            if i < len(self.pools):
                h, w = h // self.pools[i], w // self.pools[i]
        if h < self.feature_grid or w < self.feature_grid:
            raise ValueError(f"SDNN: the last layer's {h} x {w} output cannot be split into a {self.feature_grid} x "
                             f"{self.feature_grid} feature grid; use a feature_grid of at most {min(h, w)}")

    @property
    def layers(self) -> int:
        return len(self.maps)

    # -- the forward pass, as spike times ----------------------------------------------------------
    def encode(self, images: Tensor) -> Tensor:
        """Images ``[N, 1, H, W]`` -> the spike times of the on/off DoG cells ``[N, 2, H, W]``."""
        if images.dim() != 4 or tuple(images.shape[-2:]) != self.image_size:
            raise ValueError(f"SDNN: expects images [N, 1, {self.image_size[0]}, {self.image_size[1]}], got "
                             f"{list(images.shape)}")
        return rank_order_times(dog_on_off(images.float(), self.dog, self.dog_threshold), self.time_steps)

    def spikes(self, index: int, in_times: Tensor) -> tuple[Tensor, Tensor]:
        """Conv ``index``'s spike times and potentials at the spike, before any inhibition."""
        weight = self.weights[index]
        return if_first_spike_times(lambda t: F.conv2d((in_times <= t).to(weight.dtype), weight),
                                    self.time_steps, self.thresholds[index])

    def pool(self, index: int, times: Tensor) -> Tensor:
        """The first spike of each pooling window after conv ``index``."""
        p = self.pools[index]
        return times if p == 1 else -F.max_pool2d(-times, p, p)

    def input_times(self, index: int, images: Tensor) -> Tensor:
        """The spike times conv ``index`` receives (the lower layers with their lateral inhibition)."""
        times = self.encode(images)
        for i in range(index):
            times = self.pool(i, lateral_inhibition(*self.spikes(i, times)))
        return times

    @torch.no_grad()
    def final_potentials(self, images: Tensor) -> Tensor:
        """The last layer's potentials once every input spike has arrived ``[N, maps, h, w]``."""
        last = self.layers - 1
        weight = self.weights[last]
        return F.conv2d(torch.isfinite(self.input_times(last, images)).to(weight.dtype), weight)

    def pool_features(self, potentials: Tensor) -> Tensor:
        """Final potentials -> features: global max pooling (``feature_grid`` 1) or over a grid."""
        if self.feature_grid == 1:
            return potentials.amax((-2, -1))
        return F.adaptive_max_pool2d(potentials, self.feature_grid).flatten(1)

    @torch.no_grad()
    def features(self, images: Tensor) -> Tensor:
        """``[N, maps of the last layer * feature_grid^2]``: the last layer's final potentials, max-pooled
        over all positions (or over each region of the grid)."""
        return self.pool_features(self.final_potentials(images))

    def forward(self, images: Tensor) -> Tensor:
        """Logits ``[N, classes]`` of the readout (fitted by :meth:`fit_readout`)."""
        return self.readout(self.features(images))

    # -- learning ------------------------------------------------------------------------------------
    @torch.no_grad()
    def learn(self, index: int, image: Tensor, a_plus: float, a_minus: float, winners: Optional[int] = None,
              radius: int = 0) -> int:
        """One image's STDP on conv ``index`` (``image`` ``[1, H, W]`` or ``[1, 1, H, W]``); returns the
        number of winners that learned."""
        check_stdp_rates(a_plus, a_minus, "SDNN.learn")
        if not 0 <= index < self.layers:
            raise ValueError(f"SDNN.learn: index must name a convolution, 0 to {self.layers - 1}, got {index}")
        image = image.reshape(1, 1, *image.shape[-2:])
        in_times = self.input_times(index, image)
        times, potentials = self.spikes(index, in_times)
        chosen = select_winners(times[0], potentials[0], winners, radius)
        if chosen:
            self.weights[index].copy_(stdp_conv_winners(self.weights[index], in_times[0], chosen, a_plus, a_minus))
        return len(chosen)

    def fit_readout(self, features: Tensor, labels: Tensor, epochs: int = 100, lr: float = 0.05,
                    weight_decay: float = 1e-4, batch_size: Optional[int] = None, seed: int = 0) -> list[float]:
        """Fit the logistic readout on features of :meth:`features`; returns each epoch's mean loss."""
        with torch.enable_grad():
            return self.readout.fit(features, labels, epochs=epochs, lr=lr, weight_decay=weight_decay,
                                    batch_size=batch_size, seed=seed)
