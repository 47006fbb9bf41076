"""Sparse spike kernels: a Linear or a Conv2d on binary spikes as accumulate-only C++ loops.

    index = gather_spikes(x2d)                        # x2d [rows, length] of 0/1: the active positions
    y = spike_linear(index, linear_weight(W), b)      # = x2d @ W.T + b          [rows, out]
    mask = spike_mask(x4d)                            # x4d [N, C, H, W] of 0/1: active channels per position
    y = spike_conv2d(mask, conv_weight(W), b, stride, padding)   # = conv2d(x4d, W, b, ...), channels last

The results equal torch's dense products up to the order of the float additions. The C++ is
``_sparse_source.SOURCE``, compiled once per machine with ``_build``'s compiler, flags and cache
(``$SPIKESMITH_CACHE``); ``available()`` says whether that worked (``SPIKESMITH_NO_KERNELS=1`` turns it
off). A value that is neither 0 nor 1 is a ``NonBinaryInputError``: these kernels add, they do not
multiply. Inputs are float32 on the CPU.
"""

from __future__ import annotations

import ctypes
import hashlib
import math
import os
import sys
import threading
from dataclasses import dataclass
from typing import Optional

import torch
from torch import Tensor

from . import _build
from ._sparse_source import SOURCE

__all__ = ["NonBinaryInputError", "SpikeIndex", "SpikeMask", "available", "conv_weight", "gather_spikes",
           "linear_weight", "spike_conv2d", "spike_linear", "spike_mask", "unavailable_reason"]

_LOCK = threading.Lock()
_STATE: dict = {}        # "lib" -> CDLL, "error" -> str


class NonBinaryInputError(ValueError):
    """The input of a sparse spike kernel holds values other than 0 and 1."""


def _declare(cdll: ctypes.CDLL) -> None:
    i64, ptr, cint = ctypes.c_int64, ctypes.c_void_p, ctypes.c_int
    cdll.ss_abi_version.restype = cint
    cdll.ss_gather.restype = i64
    cdll.ss_gather.argtypes = [ptr, i64, i64, ptr, ptr, ptr, ptr, cint]
    cdll.ss_linear.restype = None
    cdll.ss_linear.argtypes = [ptr, ptr, ptr, i64, i64, ptr, i64, ptr, ptr, cint]
    cdll.ss_conv2d.restype = None
    cdll.ss_spike_mask.restype = i64
    cdll.ss_spike_mask.argtypes = [ptr, i64, i64, i64, ptr, ptr, cint]
    cdll.ss_conv2d.restype = None
    cdll.ss_conv2d.argtypes = [ptr, i64, i64, i64, i64, ptr, i64, i64, i64, i64, i64, i64, i64, i64, i64,
                               ptr, ptr, cint]


def _load() -> Optional[ctypes.CDLL]:
    if os.environ.get("SPIKESMITH_NO_KERNELS", "").strip().lower() in {"1", "true", "yes", "on"}:
        _STATE["error"] = "disabled by SPIKESMITH_NO_KERNELS"
        return None
    arch = _build.arch_flags()
    cxx = _build._compiler()
    if cxx is None:
        _STATE["error"] = "no C++ compiler found (set CXX, or install g++ / clang++)"
        return None
    version, errors = _build._version(cxx), []
    variants = [arch + ["-fopenmp"], ["-fopenmp"], arch, []]
    for extra in [v for k, v in enumerate(variants) if v not in variants[:k]]:
        flags = _build.BASE_FLAGS + extra
        key = hashlib.sha256("\0".join([SOURCE, cxx, version, *flags, _build._cpu_signature(),
                                        sys.platform]).encode()).hexdigest()[:16]
        path = _build.cache_dir() / f"spikesmith_sparse_{key}.so"
        if not path.exists():
            err = _build._compile(cxx, path, flags, SOURCE)
            if err:
                errors.append(err)
                continue
        try:
            cdll = ctypes.CDLL(str(path))
            _declare(cdll)
        except (OSError, AttributeError) as err:
            errors.append(f"loading {path}: {err}")
            continue
        return cdll
    _STATE["error"] = "\n".join(errors)
    return None


def _library() -> Optional[ctypes.CDLL]:
    if "lib" in _STATE:
        return _STATE["lib"]
    with _LOCK:
        if "lib" not in _STATE:
            _STATE["lib"] = _load()
    return _STATE["lib"]


def available() -> bool:
    """Whether the sparse kernels could be compiled and loaded (builds them on the first call)."""
    return _library() is not None


def unavailable_reason() -> Optional[str]:
    return _STATE.get("error")


def _need() -> ctypes.CDLL:
    lib = _library()
    if lib is None:
        raise RuntimeError(f"spikesmith: the sparse spike kernels could not be built: {unavailable_reason()}")
    return lib


def _check_float(name: str, t: Tensor) -> None:
    if t.dtype != torch.float32 or t.device.type != "cpu":
        raise TypeError(f"{name}: the sparse spike kernels take float32 CPU tensors, got {t.dtype} on {t.device}")


@dataclass(frozen=True)
class SpikeIndex:
    """The active positions of ``rows`` rows of ``length`` values: row ``r``'s are
    ``idx[start[r] : start[r] + count[r]]``; ``spikes`` in all; ``density`` = spikes / (rows x length)."""

    idx: Tensor
    start: Tensor
    count: Tensor
    rows: int
    length: int
    spikes: int

    @property
    def density(self) -> float:
        n = self.rows * self.length
        return self.spikes / n if n else 0.0


def gather_spikes(x: Tensor) -> SpikeIndex:
    """The active positions of each row of ``x`` ``[rows, length]`` (made contiguous); a value that is
    neither 0 nor 1 raises ``NonBinaryInputError``."""
    if x.dim() != 2:
        raise ValueError(f"gather_spikes: x must be [rows, length], got shape {tuple(x.shape)}")
    _check_float("gather_spikes", x)
    x = x.contiguous()
    rows, length = x.shape
    if length >= 2 ** 31:
        raise ValueError(f"gather_spikes: rows of {length} values do not fit 32-bit positions")
    threads = torch.get_num_threads()
    idx = torch.empty(rows * length + 16 * (threads + 1), dtype=torch.int32)   # room for full-width stores
    start = torch.empty(rows, dtype=torch.int64)
    count = torch.empty(rows, dtype=torch.int64)
    spikes = ctypes.c_int64(0)
    bad = _need().ss_gather(x.data_ptr(), rows, length, idx.data_ptr(), start.data_ptr(), count.data_ptr(),
                            ctypes.byref(spikes), threads)
    if bad:
        raise NonBinaryInputError(f"gather_spikes: {bad} of {x.numel()} input values are neither 0 nor 1; the "
                                  f"sparse spike kernels add weights for binary spikes only (run the layer dense "
                                  f"for other inputs)")
    return SpikeIndex(idx, start, count, rows, length, int(spikes.value))


def linear_weight(weight: Tensor) -> Tensor:
    """A Linear's ``weight`` [out, in] as the kernels read it: transposed, contiguous [in, out]."""
    return weight.detach().t().contiguous()


def conv_weight(weight: Tensor) -> Tensor:
    """A Conv2d's ``weight`` [O, C, kh, kw] as the kernels read it: [C, kh, kw, O], contiguous."""
    return weight.detach().permute(1, 2, 3, 0).contiguous()


def _bias(bias: Optional[Tensor], n: int, who: str) -> Optional[Tensor]:
    if bias is None:
        return None
    _check_float(who, bias)
    if bias.shape != (n,):
        raise ValueError(f"{who}: bias must have shape ({n},), got {tuple(bias.shape)}")
    return bias.detach().contiguous()


def spike_linear(index: SpikeIndex, weight_t: Tensor, bias: Optional[Tensor] = None) -> Tensor:
    """``x @ W.T + bias`` for the spikes of ``index`` (rows of ``in`` values) and ``weight_t`` = W.T
    [in, out] (``linear_weight``); returns [rows, out]."""
    _check_float("spike_linear", weight_t)
    if weight_t.dim() != 2 or weight_t.shape[0] != index.length or not weight_t.is_contiguous():
        raise ValueError(f"spike_linear: weight_t must be a contiguous [{index.length}, out] tensor "
                         f"(linear_weight(W)), got shape {tuple(weight_t.shape)}")
    out_features = weight_t.shape[1]
    b = _bias(bias, out_features, "spike_linear")
    out = torch.empty((index.rows, out_features), dtype=torch.float32)
    _need().ss_linear(index.idx.data_ptr(), index.start.data_ptr(), index.count.data_ptr(), index.rows, index.length, weight_t.data_ptr(),
                      out_features, None if b is None else b.data_ptr(), out.data_ptr(), torch.get_num_threads())
    return out


def conv_output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


@dataclass(frozen=True)
class SpikeMask:
    """The active channels of each sample and position of a Conv2d's input of ``shape`` (N, C, H, W), as
    ``ceil(C / 64)`` 64-bit words per position; ``spikes`` in all."""

    bits: Tensor
    shape: tuple
    spikes: int

    @property
    def density(self) -> float:
        n = math.prod(self.shape)
        return self.spikes / n if n else 0.0


def spike_mask(x: Tensor) -> SpikeMask:
    """The bit set of active channels per sample and position of ``x`` [N, C, H, W] (made contiguous);
    a value that is neither 0 nor 1 raises ``NonBinaryInputError``."""
    if x.dim() != 4:
        raise ValueError(f"spike_mask: x must be [N, C, H, W], got shape {tuple(x.shape)}")
    _check_float("spike_mask", x)
    x = x.contiguous()
    n, c, h, w = x.shape
    bits = torch.empty((n, h * w, (c + 63) // 64), dtype=torch.int64)
    spikes = ctypes.c_int64(0)
    bad = _need().ss_spike_mask(x.data_ptr(), n, c, h * w, bits.data_ptr(), ctypes.byref(spikes),
                                torch.get_num_threads())
    if bad:
        raise NonBinaryInputError(f"spike_mask: {bad} of {x.numel()} input values are neither 0 nor 1; the "
                                  f"sparse spike kernels add weights for binary spikes only (run the layer dense "
                                  f"for other inputs)")
    return SpikeMask(bits, tuple(x.shape), int(spikes.value))


def spike_conv2d(mask: SpikeMask, weight_k: Tensor, bias: Optional[Tensor] = None, stride: tuple = (1, 1),
                 padding: tuple = (0, 0)) -> Tensor:
    """``conv2d(x, W, bias, stride, padding)`` for the spikes of ``mask`` (``spike_mask(x)``) and
    ``weight_k`` = ``conv_weight(W)`` [C, kh, kw, O]. Returns [N, O, Ho, Wo] in channels-last memory."""
    _check_float("spike_conv2d", weight_k)
    n, c, h, w = mask.shape
    if weight_k.dim() != 4 or weight_k.shape[0] != c or not weight_k.is_contiguous():
        raise ValueError(f"spike_conv2d: weight_k must be a contiguous [{c}, kh, kw, O] tensor (conv_weight(W)), "
                         f"got shape {tuple(weight_k.shape)}")
    _, kh, kw, o = weight_k.shape
    (sh, sw), (ph, pw) = stride, padding
    if min(sh, sw) < 1 or min(ph, pw) < 0:
        raise ValueError(f"spike_conv2d: stride must be >= 1 and padding >= 0, got {stride} and {padding}")
    ho, wo = conv_output_size(h, kh, sh, ph), conv_output_size(w, kw, sw, pw)
    if ho < 1 or wo < 1:
        raise ValueError(f"spike_conv2d: input {h}x{w} is smaller than the kernel {kh}x{kw} with padding {padding}")
    b = _bias(bias, o, "spike_conv2d")
    out = torch.empty((n, ho, wo, o), dtype=torch.float32)
    _need().ss_conv2d(mask.bits.data_ptr(), n, c, h, w, weight_k.data_ptr(), o, kh, kw, sh, sw, ph, pw, ho, wo,
                      None if b is None else b.data_ptr(), out.data_ptr(), torch.get_num_threads())
    return out.permute(0, 3, 1, 2)

