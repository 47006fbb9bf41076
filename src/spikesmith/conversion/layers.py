"""The modules a converted network is made of; all work on a time-folded batch.

The converted graph is the ANN's graph run once on ``T*N`` samples: every affine layer treats the
steps alike (``spikesmith.layer``'s folding), and only the modules below see time, by unfolding
``[T*N, ...] -> [T, N, ...]`` around a multi-step neuron:

``IFActivation``  replaces a ReLU: an ``IFNode`` with soft reset (reset by subtraction) in
    multi-step mode, driven by the input current plus a per-step offset, emitting spikes of
    amplitude V_th (so the next layer's weights see the ANN's scale):

        I(t) = X(t) + b + V_th / (2T) [shift='bias']
        H(t) = V(t-1) + I(t);  S(t) = Heaviside(H(t) - V_th);  V(t) = H(t) - V_th S(t);  V(0) = v_init
        Y(t) = V_th S(t)

    With a constant input, the spike count after T steps is clamp(floor((v_init + T I) / V_th), 0, T):
    the floor becomes a round with the V_th / (2T) shift (or with v_init = V_th / 2).

``Readout``       the output layer: a non-spiking ``IntegratorNode`` V(t) = V(t-1) + X(t); the
    network's output is V(T) / T, the time average of the last layer's current.

``TimeExpand``    a static tensor (computed once from the input before any neuron, ``N x ...``)
    repeated over T where it meets the time-varying part (the static prefix of the design note).

``GatedMaxPool``  max pooling of spike trains: in every window, pass the input of the unit with
    the largest accumulated input so far, sum_{t' <= t} X(t') (Rueckauer et al., 2017), so the
    time average approaches the max of the averages rather than the average of per-step maxima.

Spike statistics: ``IFActivation.neuron`` is an ordinary ``IFNode`` in ``step_mode='m'`` whose
output is ``T x N x ...`` binary spikes; monitors of ``spikesmith.monitor`` attach to it.
"""

from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..neuron import IFNode, IntegratorNode


class TimeAware(nn.Module):
    """Base of the modules that unfold time: ``T`` and the batch size are set by the network per call."""

    def __init__(self):
        super().__init__()
        self.T = 1
        self.static_input = True

    def unfold(self, x: Tensor) -> Tensor:
        if x.shape[0] % self.T:
            raise ValueError(f"{type(self).__name__}: batch of {x.shape[0]} is not T={self.T} x N; run the "
                             f"converted network through ConvertedSNN, not its graph alone")
        return x.unflatten(0, (self.T, x.shape[0] // self.T))


class IFActivation(TimeAware):
    """An IF neuron with soft reset in place of a ReLU, on a time-folded batch (see the module docstring).

    Args:
        threshold: V_th, a tensor of shape ``[]`` (per layer) or broadcastable to one step (per channel:
            ``[C, 1, 1]`` after a convolution, ``[F]`` after a linear layer).
        bias_shape: the shape of the per-step input offset ``b`` (per channel).
        shift_bias: add V_th / (2T) to the input current at every step (Deng & Gu, 2021).
    """

    def __init__(self, threshold: Tensor, bias_shape: tuple = (), shift_bias: bool = False):
        super().__init__()
        threshold = torch.as_tensor(threshold, dtype=torch.get_default_dtype())
        self.neuron = IFNode(v_threshold=threshold, v_reset=None, v_init=torch.zeros(()), step_mode="m",
                             detach_reset=True)
        self.register_buffer("bias", torch.zeros(bias_shape))
        self.shift_bias = bool(shift_bias)
        #: a function of the input current used instead of the neuron (calibration internals)
        self.override: Optional[Callable[[Tensor], Tensor]] = None

    @property
    def threshold(self) -> Tensor:
        return self.neuron.v_threshold

    def set_threshold(self, value: Tensor) -> None:
        self.neuron.v_threshold = torch.as_tensor(value, dtype=self.bias.dtype, device=self.bias.device).clone()

    @property
    def v_init(self) -> Tensor:
        return self.neuron.v_init

    def set_v_init(self, value: Tensor) -> None:
        self.neuron.v_init = torch.as_tensor(value, dtype=self.bias.dtype, device=self.bias.device).clone()

    def step_offset(self) -> Tensor:
        """The offset added to the input current at every step: b (+ V_th / (2T))."""
        if self.shift_bias:
            return self.bias + self.threshold / (2 * self.T)
        return self.bias

    def forward(self, x: Tensor) -> Tensor:
        if self.override is not None:
            return self.override(x)
        x_seq = self.unfold(x)
        if self.shift_bias or bool(self.bias.any()):
            x_seq = x_seq + self.step_offset()
        s_seq = self.neuron(x_seq)
        return (s_seq * self.threshold).flatten(0, 1)

    def extra_repr(self) -> str:
        th = self.threshold
        kind = "per layer" if th.numel() == 1 else f"per channel {list(th.shape)}"
        return f"thresholds {kind}, shift_bias={self.shift_bias}"


class Readout(TimeAware):
    """The output layer: a non-spiking integrator of X(t) + b; returns V(t) as ``[T, N, ...]``.

    ``b`` (per output unit, zero unless bias correction set it) corrects the mean output error.
    """

    def __init__(self, bias_shape: tuple = ()):
        super().__init__()
        self.integrator = IntegratorNode(v_init=torch.zeros(()), step_mode="m")
        self.register_buffer("bias", torch.zeros(bias_shape))
        self.override: Optional[Callable[[Tensor], Tensor]] = None

    def forward(self, x: Tensor) -> Tensor:
        if self.override is not None:
            return self.override(x)
        return self.integrator(self.unfold(x) + self.bias)


class TimeExpand(TimeAware):
    """``N x ...`` -> ``T*N x ...`` (every step the same) when the network runs a static input."""

    def forward(self, x: Tensor) -> Tensor:
        if not self.static_input or self.T == 1:
            return x
        return x.unsqueeze(0).expand(self.T, *x.shape).flatten(0, 1)


class GatedMaxPool(TimeAware):
    """Max pooling that, per window and step, passes the input of the unit with the largest accumulated input.

    Args:
        pool: the ANN's max-pooling module (``nn.MaxPool1d/2d/3d`` or ``nn.AdaptiveMaxPool1d/2d/3d``).
    """

    def __init__(self, pool: nn.Module):
        super().__init__()
        pool = _with_indices(pool)
        self.pool = pool

    def forward(self, x: Tensor) -> Tensor:
        x_seq = self.unfold(x)
        score = x_seq.cumsum(0).flatten(0, 1)
        _, idx = self.pool(score)
        flat = x.flatten(2)
        out = flat.gather(2, idx.flatten(2))
        return out.view(idx.shape)


def _with_indices(pool: nn.Module) -> nn.Module:
    import copy

    pool = copy.deepcopy(pool)
    pool.return_indices = True
    return pool


MAXPOOL_ARGS = {
    F.max_pool1d: (nn.MaxPool1d, ["kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"]),
    F.max_pool2d: (nn.MaxPool2d, ["kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"]),
    F.max_pool3d: (nn.MaxPool3d, ["kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"]),
    F.adaptive_max_pool1d: (nn.AdaptiveMaxPool1d, ["output_size", "return_indices"]),
    F.adaptive_max_pool2d: (nn.AdaptiveMaxPool2d, ["output_size", "return_indices"]),
    F.adaptive_max_pool3d: (nn.AdaptiveMaxPool3d, ["output_size", "return_indices"]),
}


def maxpool_module(fn, args: tuple, kwargs: dict) -> nn.Module:
    """The ``nn`` max-pool module equivalent to a functional call ``fn(input, *args, **kwargs)``."""
    cls, names = MAXPOOL_ARGS[fn]
    kw = dict(zip(names, args))
    kw.update(kwargs)
    if kw.get("return_indices"):
        raise ValueError("convert: max pooling with return_indices=True cannot be converted")
    kw.pop("return_indices", None)
    return cls(**kw)
