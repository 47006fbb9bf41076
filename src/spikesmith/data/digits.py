"""scikit-learn's bundled 8 x 8 handwritten digits, with a fixed stratified 80/20 split.

The 1797 images ship inside scikit-learn (no download). Pixels are 0..16 in the source and are
divided by 16, so images are float32 in [0, 1]. The split is
``train_test_split(test_size=0.2, stratify=labels, random_state=0)``: 1437 train, 360 test images,
the same on every machine, with each class in the same proportion in both parts.

Example::

    images, labels = load_digits("test")   # float32 [360, 8, 8], int64 [360]
"""

from __future__ import annotations

import numpy as np
import torch

from spikesmith.data.locate import check_split

SPLIT_SEED = 0
TEST_FRACTION = 0.2
NUM_CLASSES = 10


def load_digits(split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """One split of the digits: float32 images ``[N, 8, 8]`` in [0, 1] and int64 labels ``[N]``.

    Raises:
        ValueError: ``split`` is not ``'train'`` or ``'test'``.
        ImportError: scikit-learn is not installed (``pip install 'spikesmith[data]'``).
    """
    check_split(split)
    try:
        from sklearn.datasets import load_digits as _sklearn_digits
        from sklearn.model_selection import train_test_split
    except ImportError as err:
        raise ImportError("the 'digits' dataset needs scikit-learn, which is not installed; "
                          "install it with: pip install 'spikesmith[data]'") from err
    bunch = _sklearn_digits()
    images = (bunch.images / 16.0).astype(np.float32)
    labels = bunch.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=TEST_FRACTION, stratify=labels, random_state=SPLIT_SEED)
    x, y = (x_train, y_train) if split == "train" else (x_test, y_test)
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(y))
