"""Inference-only Linear and Conv2d that run on spikes with the accumulate-only kernels.

``SparseLinear`` / ``SparseConv2d`` are ``nn.Linear`` / ``nn.Conv2d`` (same weights, same state_dict
keys, counted and exported as those), built from a trained layer with ``from_dense``. Each call takes
one path:

- ``'sparse'``: the active inputs are gathered (``kernels.sparse``) and the weight columns or kernel
  rows added (no multiplication);
- ``'dense'``: torch's own product;
- ``'auto'`` (the default): the spikes are gathered, and the sparse path runs when their density is at
  most the layer's ``crossover`` (from ``crossover.calibrate`` unless given), the dense one otherwise.

Inputs take any leading dims (``[T, N, ...]`` or ``[N, ...]``). An input that is not binary (an average
pool of spikes, an analog value) runs dense, with one warning per layer. The layers refuse training:
``train()`` mode or an input that requires grad is a RuntimeError.

``stats`` counts what ran: calls per path, the density seen and the seconds spent.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..kernels import sparse
from .crossover import calibrate

MODES = ("auto", "sparse", "dense")


@dataclass
class PathStats:
    """What a sparse layer ran: calls per path, the spikes and input elements seen, the time spent."""

    sparse_calls: int = 0
    dense_calls: int = 0
    nonbinary_calls: int = 0
    spikes: int = 0
    elements: int = 0
    seconds: float = 0.0

    @property
    def density(self) -> Optional[float]:
        return self.spikes / self.elements if self.elements else None

    @property
    def path(self) -> str:
        """``'sparse'``, ``'dense'``, ``'mixed'`` (both ran) or ``'-'`` (not run yet)."""
        if self.sparse_calls and self.dense_calls:
            return "mixed"
        return "sparse" if self.sparse_calls else ("dense" if self.dense_calls else "-")


def _check_mode(mode: str, who: str) -> str:
    if mode not in MODES:
        raise ValueError(f"{who}: mode must be one of {', '.join(MODES)}, got {mode!r}")
    return mode


class _SparseMixin:
    """The path choice, the refusals and the statistics shared by both layers."""

    kind = "layer"

    def _setup(self, mode: str, crossover: Optional[float], name: str) -> None:
        self.mode = _check_mode(mode, f"{type(self).__name__} {name!r}")
        if crossover is not None and not 0.0 <= crossover <= 1.0:
            raise ValueError(f"{type(self).__name__} {name!r}: crossover must be a density in [0, 1], got {crossover}")
        self.crossover = crossover
        self.layer_name = name
        self.stats = PathStats()
        self._warned_nonbinary = False
        for p in self.parameters(recurse=False):
            p.requires_grad_(False)

    def execution_path(self) -> str:
        """The path this layer took so far: ``'sparse'``, ``'dense'``, ``'mixed'`` or ``'-'``."""
        return self.stats.path

    def reset_stats(self) -> None:
        self.stats = PathStats()

    def _refuse_training(self, x: Tensor) -> None:
        if self.training:
            raise RuntimeError(f"{type(self).__name__} {self.layer_name!r} is inference-only (event_driven): it "
                               f"was put in train() mode; train the original model and call event_driven on it "
                               f"again, or call .eval()")
        if x.requires_grad:
            raise RuntimeError(f"{type(self).__name__} {self.layer_name!r} is inference-only (event_driven): its "
                               f"input requires grad; run it under torch.no_grad() / inference_mode(), or train "
                               f"the original model")
        if x.dtype != torch.float32 or x.device.type != "cpu":
            raise TypeError(f"{type(self).__name__} {self.layer_name!r}: the sparse kernels take float32 CPU "
                            f"inputs, got {x.dtype} on {x.device}")

    def _nonbinary(self, err: Exception) -> None:
        self.stats.nonbinary_calls += 1
        if not self._warned_nonbinary:
            self._warned_nonbinary = True
            warnings.warn(f"event_driven: {type(self).__name__} {self.layer_name!r} received values other than 0 "
                          f"and 1 ({err}); it runs dense for such inputs", RuntimeWarning, stacklevel=4)

    def _threshold(self, sample: Tensor) -> float:
        if self.crossover is None:
            self.crossover = calibrate(self, sample)
        return self.crossover

    def forward(self, x: Tensor) -> Tensor:
        self._refuse_training(x)
        start = time.perf_counter()
        y = self._run(x)
        self.stats.seconds += time.perf_counter() - start
        return y

    def _record(self, spikes: int, elements: int, path: str) -> None:
        st = self.stats
        st.spikes += spikes
        st.elements += elements
        if path == "sparse":
            st.sparse_calls += 1
        else:
            st.dense_calls += 1


class SparseLinear(_SparseMixin, nn.Linear):
    """``nn.Linear`` on spikes: ``y = b + sum over active inputs i of W[:, i]``; input ``[..., in_features]``."""

    kind = "linear"

    def __init__(self, in_features: int, out_features: int, bias: bool = True, mode: str = "auto",
                 crossover: Optional[float] = None, name: str = "linear"):
        super().__init__(in_features, out_features, bias=bias)
        self._setup(mode, crossover, name)
        self.register_buffer("weight_t", torch.empty(0), persistent=False)

    @staticmethod
    def unsupported(layer: nn.Linear) -> Optional[str]:
        """Why ``layer`` cannot run on the sparse kernels (None: it can)."""
        return None

    @classmethod
    def from_dense(cls, layer: nn.Linear, mode: str = "auto", crossover: Optional[float] = None,
                   name: str = "linear") -> "SparseLinear":
        new = cls(layer.in_features, layer.out_features, layer.bias is not None, mode, crossover, name)
        with torch.no_grad():
            new.weight.copy_(layer.weight)
            if layer.bias is not None:
                new.bias.copy_(layer.bias)
        new.refresh()
        return new.eval()

    def refresh(self) -> None:
        """Rebuild the kernels' copy of the weight (after changing ``weight`` in place)."""
        self.weight_t = sparse.linear_weight(self.weight.detach().float())

    def dense(self, x2: Tensor) -> Tensor:
        return F.linear(x2, self.weight, self.bias)

    def _run(self, x: Tensor) -> Tensor:
        if x.dim() < 1 or x.shape[-1] != self.in_features:
            raise ValueError(f"SparseLinear {self.layer_name!r}: expects input [..., {self.in_features}], got shape "
                             f"{list(x.shape)}")
        lead = x.shape[:-1]
        x2 = x.reshape(-1, self.in_features)
        y = self._run2(x2)
        return y.reshape(*lead, self.out_features)

    def _run2(self, x2: Tensor) -> Tensor:
        if self.mode == "dense":
            self._record(0, 0, "dense")
            return self.dense(x2)
        try:
            index = sparse.gather_spikes(x2)
        except sparse.NonBinaryInputError as err:
            self._nonbinary(err)
            self._record(0, 0, "dense")
            return self.dense(x2)
        if self.mode == "auto" and index.density > self._threshold(x2):
            self._record(index.spikes, x2.numel(), "dense")
            return self.dense(x2)
        self._record(index.spikes, x2.numel(), "sparse")
        return sparse.spike_linear(index, self.weight_t, None if self.bias is None else self.bias.detach())


class SparseConv2d(_SparseMixin, nn.Conv2d):
    """``nn.Conv2d`` on spikes (stride and zero padding; dilation 1, groups 1): each output position sums the
    kernel rows of the active inputs of its window; input ``[..., C, H, W]``, output channels last."""

    kind = "conv"

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, bias: bool = True,
                 mode: str = "auto", crossover: Optional[float] = None, name: str = "conv"):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=bias)
        self._setup(mode, crossover, name)
        self.register_buffer("weight_k", torch.empty(0), persistent=False)

    @staticmethod
    def unsupported(layer: nn.Conv2d) -> Optional[str]:
        """Why ``layer`` cannot run on the sparse kernels (None: it can)."""
        if isinstance(layer.padding, str):
            return f"padding={layer.padding!r} (give the padding as numbers)"
        if layer.groups != 1:
            return f"groups={layer.groups} (the kernels take groups=1)"
        if tuple(layer.dilation) != (1, 1):
            return f"dilation={tuple(layer.dilation)} (the kernels take dilation 1)"
        if layer.padding_mode != "zeros":
            return f"padding_mode={layer.padding_mode!r} (the kernels pad with zeros)"
        return None

    @classmethod
    def from_dense(cls, layer: nn.Conv2d, mode: str = "auto", crossover: Optional[float] = None,
                   name: str = "conv") -> "SparseConv2d":
        why = cls.unsupported(layer)
        if why is not None:
            raise ValueError(f"SparseConv2d.from_dense: {name!r} has {why}")
        new = cls(layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride, layer.padding,
                  layer.bias is not None, mode, crossover, name)
        with torch.no_grad():
            new.weight.copy_(layer.weight)
            if layer.bias is not None:
                new.bias.copy_(layer.bias)
        new.refresh()
        return new.eval()

    def refresh(self) -> None:
        """Rebuild the kernels' copy of the weight (after changing ``weight`` in place)."""
        self.weight_k = sparse.conv_weight(self.weight.detach().float())

    def dense(self, x4: Tensor) -> Tensor:
        return F.conv2d(x4, self.weight, self.bias, self.stride, self.padding)

    def _run(self, x: Tensor) -> Tensor:
        if x.dim() < 3 or x.shape[-3] != self.in_channels:
            raise ValueError(f"SparseConv2d {self.layer_name!r}: expects input [..., {self.in_channels}, H, W], got "
                             f"shape {list(x.shape)}")
        lead = x.shape[:-3]
        x4 = x.reshape(-1, *x.shape[-3:])
        y = self._run4(x4)
        return y.reshape(*lead, *y.shape[1:])

    def _run4(self, x4: Tensor) -> Tensor:
        if self.mode == "dense":
            self._record(0, 0, "dense")
            return self.dense(x4)
        try:
            mask = sparse.spike_mask(x4)
        except sparse.NonBinaryInputError as err:
            self._nonbinary(err)
            self._record(0, 0, "dense")
            return self.dense(x4)
        if self.mode == "auto" and mask.density > self._threshold(x4):
            self._record(mask.spikes, x4.numel(), "dense")
            return self.dense(x4)
        self._record(mask.spikes, x4.numel(), "sparse")
        return sparse.spike_conv2d(mask, self.weight_k, None if self.bias is None else self.bias.detach(),
                                   tuple(self.stride), tuple(self.padding))
