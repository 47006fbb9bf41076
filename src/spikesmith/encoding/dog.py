"""Difference-of-Gaussian (DoG) filters: the on-centre / off-centre front end of the STDP-trained
deep spiking CNN (Kheradpisheh et al. 2018), which models the retina's contrast cells.

The kernel is the difference of two normalised Gaussians on a ``size x size`` grid centred on the
middle pixel, with its mean removed so that it sums to zero (a uniform image gives no response)::

    G_s(r)  = exp(-r^2 / (2 s^2)) / (2 pi s^2)
    DoG(r)  = G_centre(r) - G_surround(r) - mean over the grid of (G_centre - G_surround)

``dog_on_off`` filters grayscale images ``[N, 1, H, W]`` with it (``same`` size, the border
replicated, so a constant image gives zero everywhere, edges included) and splits the response
into two channels: on = the response where it is above ``threshold``, off = minus the response
where that is above ``threshold``; everything else is 0::

    >>> k = dog_kernel(7, 1.0, 2.0)                      # [7, 7], sums to 0 (to rounding)
    >>> dog_on_off(torch.rand(8, 1, 28, 28), k).shape
    torch.Size([8, 2, 28, 28])
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import Tensor
from torch.nn import functional as F

__all__ = ["dog_kernel", "dog_on_off"]

#: The largest window side accepted (a larger one is a typo, not a retina).
MAX_SIZE = 255


def dog_kernel(size: int = 7, sigma_centre: float = 1.0, sigma_surround: float = 2.0,
               dtype: torch.dtype = torch.float64) -> Tensor:
    """The zero-sum DoG kernel ``[size, size]`` (see the module docstring); ``size`` odd."""
    where = "dog_kernel"
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1 or size % 2 == 0:
        raise ValueError(f"{where}: size must be an odd int >= 1 (the kernel is centred on a pixel), got {size!r}; "
                         f"pass e.g. size=7")
    for name, sigma in (("sigma_centre", sigma_centre), ("sigma_surround", sigma_surround)):
        if isinstance(sigma, bool) or not isinstance(sigma, numbers.Real) or not 0 < sigma < math.inf:
            raise ValueError(f"{where}: {name} must be a positive finite width in pixels, got {sigma!r}")
    if size > MAX_SIZE:
        raise ValueError(f"{where}: size {size} is above {MAX_SIZE}; a DoG window is a few times the surround width "
                         f"(7 for widths 1 and 2)")
    if sigma_centre == sigma_surround:
        raise ValueError(f"{where}: sigma_centre and sigma_surround are both {sigma_centre}: the difference is 0 "
                         f"everywhere; give two different widths (e.g. 1 and 2)")
    half = size // 2
    axis = torch.arange(-half, half + 1, dtype=torch.float64)
    r2 = axis[:, None] ** 2 + axis[None, :] ** 2

    def gaussian(s: float) -> Tensor:
        return torch.exp(-r2 / (2 * s * s)) / (2 * math.pi * s * s)

    k = gaussian(float(sigma_centre)) - gaussian(float(sigma_surround))
    return (k - k.mean()).to(dtype)


def dog_on_off(images: Tensor, kernel: Tensor, threshold: float = 0.0) -> Tensor:
    """Grayscale images ``[N, 1, H, W]`` -> on/off responses ``[N, 2, H, W]`` (>= 0, in ``images.dtype``).

    ``threshold`` (>= 0) drops weak responses: a pixel is on where the response exceeds it and off
    where minus the response does.
    """
    where = "dog_on_off"
    if not isinstance(images, Tensor) or not images.is_floating_point() or images.dim() != 4 or images.shape[1] != 1:
        shape = list(images.shape) if isinstance(images, Tensor) else type(images).__name__
        raise ValueError(f"{where}: images must be a float tensor [N, 1, H, W] (grayscale), got {shape}; "
                         f"average colour channels first, e.g. x.mean(1, keepdim=True)")
    if not isinstance(kernel, Tensor) or kernel.dim() != 2 or kernel.shape[0] != kernel.shape[1] \
            or kernel.shape[0] % 2 == 0:
        raise ValueError(f"{where}: kernel must be a square [size, size] tensor with odd size, as dog_kernel gives")
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or not 0 <= threshold < math.inf:
        raise ValueError(f"{where}: threshold must be a finite number >= 0, got {threshold!r}")
    size = kernel.shape[0]
    h, w = images.shape[-2:]
    if h < size or w < size:
        raise ValueError(f"{where}: images of {h} x {w} pixels are smaller than the {size} x {size} DoG window; "
                         f"give images of at least {size} x {size} or a smaller DoG size")
    if not bool(torch.isfinite(images).all()):
        raise ValueError(f"{where}: images hold NaN or inf; clean them first, e.g. torch.nan_to_num(x)")
    half = size // 2
    padded = F.pad(images, (half, half, half, half), mode="replicate")
    response = F.conv2d(padded, kernel.to(images.dtype)[None, None])
    on = torch.where(response > threshold, response, torch.zeros_like(response))
    off = torch.where(-response > threshold, -response, torch.zeros_like(response))
    return torch.cat([on, off], dim=1)
