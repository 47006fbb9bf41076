"""Sequential images: read each image row by row, one row per time step (sequential Fashion-MNIST).

An image ``[H, W]`` becomes a sequence of T = H steps with F = W inputs each::

    seq[n, t, f] = image[n, t, f]        (row t, column f)

so 28 x 28 Fashion-MNIST gives 28 steps of 28 inputs. Sequences are batch-first ``[N, T, F]``,
as a DataLoader yields them; the trainer moves time to the front (``[T, N, F]``) itself.

Example::

    seq = rows_to_sequence(torch.rand(64, 1, 28, 28))     # [64, 28, 28] = [N, T, F]
"""

from __future__ import annotations

import os

import torch

from spikesmith.data.mnist import load_fashion_mnist


def rows_to_sequence(images: torch.Tensor) -> torch.Tensor:
    """Map images ``[N, H, W]`` or ``[N, 1, H, W]`` to row sequences ``[N, T=H, F=W]``.

    The dtype is kept. Raises ``TypeError`` for a non-tensor and ``ValueError`` for any other
    shape (e.g. RGB images ``[N, 3, H, W]``: convert them to one channel first).
    """
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"rows_to_sequence expects a torch.Tensor, got {type(images).__name__}; "
                        "use torch.as_tensor(images)")
    if images.dim() == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.dim() != 3:
        raise ValueError("rows_to_sequence expects images of shape [N, H, W] or [N, 1, H, W], "
                         f"got shape {list(images.shape)}")
    return images.contiguous()


def load_sequential_fashion_mnist(data_dir: str | os.PathLike | None = None, split: str = "train",
                                  download: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Sequential Fashion-MNIST (sfmnist): float32 ``[N, 28, 28]`` = [N, T, F] in [0, 1], int64 labels.

    Same files and errors as :func:`spikesmith.data.load_fashion_mnist`.
    """
    images, labels = load_fashion_mnist(data_dir, split, download)
    return rows_to_sequence(images.to(torch.float32).div_(255.0)), labels
