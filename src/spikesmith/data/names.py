"""Dataset names: the canonical ones and their aliases, in one place.

``canonical_name("Fashion-MNIST") -> "fashion_mnist"``; an unknown name raises a ``ValueError``
that lists every valid name, so a typo on the command line tells the user what would work.
"""

from __future__ import annotations

DATASET_NAMES: tuple[str, ...] = ("fashion_mnist", "mnist", "digits", "sfmnist")
"""Canonical dataset names, as :func:`spikesmith.data.get_dataset` accepts them."""

ALIASES: dict[str, str] = {
    "fmnist": "fashion_mnist",
    "fashion-mnist": "fashion_mnist",
    "fashionmnist": "fashion_mnist",
    "sequential_fashion_mnist": "sfmnist",
    "neuromorphic_fashion_mnist": "nfmnist",
    "n-mnist": "nmnist",
    "dvs128_gesture": "dvsgesture",
    "dvs_gesture": "dvsgesture",
    "dvs-gesture": "dvsgesture",
}
"""Other accepted spellings (compared lower-case) and the canonical name each stands for."""


EVENT_NAMES: tuple[str, ...] = ("nfmnist", "nmnist", "dvsgesture")
"""Event-camera datasets, given to the trainer as event-count frames (``spikesmith.data.event_frames``)."""


def valid_names() -> list[str]:
    """Every accepted name, canonical names first, then aliases."""
    return list(DATASET_NAMES) + list(EVENT_NAMES) + sorted(ALIASES)


def canonical_name(name: str) -> str:
    """Map ``name`` (any accepted spelling, any case) to its canonical dataset name.

    Raises:
        TypeError: ``name`` is not a string.
        ValueError: ``name`` is unknown; the message lists the valid names.
    """
    if not isinstance(name, str):
        raise TypeError(f"dataset name must be a string such as 'fashion_mnist', got {type(name).__name__}")
    key = name.strip().lower()
    if key in DATASET_NAMES or key in EVENT_NAMES:
        return key
    if key in ALIASES:
        return ALIASES[key]
    raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(valid_names())}")
