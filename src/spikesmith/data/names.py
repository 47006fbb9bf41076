"""Dataset names: the canonical ones and their aliases, in one registry.

``canonical_name("Fashion-MNIST") -> "fashion_mnist"``; an unknown name raises a ``ValueError``
that lists every valid name with its aliases, so a typo on the command line tells the user what
would work. Each entry's object is the dataset's kind: ``"image"`` (static samples, encoded over
T by the trainer), ``"sequence"`` (samples are ``T x F``) or ``"event"`` (event-camera recordings,
given to the trainer as event-count frames by :mod:`spikesmith.data.event_frames`).
"""

from __future__ import annotations

from spikesmith.registry import Registry

DATASETS: Registry[str] = Registry("dataset")
DATASETS.register("fashion_mnist", "image", aliases=("fmnist", "fashion-mnist", "fashionmnist"))
DATASETS.register("mnist", "image")
DATASETS.register("digits", "image")
DATASETS.register("sfmnist", "sequence", aliases=("sequential_fashion_mnist",))
DATASETS.register("delayed_recall", "sequence", aliases=("delayed_pattern_recall",))   # generated: temporal_tasks
DATASETS.register("temporal_xor", "sequence")                                          # generated: temporal_tasks
DATASETS.register("shd", "sequence", aliases=("spiking_heidelberg_digits",))           # files: data/shd
DATASETS.register("spoken_digits", "sequence", aliases=("spoken-digits",))             # generated: spoken_digits
DATASETS.register("nfmnist", "event", aliases=("neuromorphic_fashion_mnist",))
DATASETS.register("nmnist", "event", aliases=("n-mnist",))
DATASETS.register("dvsgesture", "event", aliases=("dvs128_gesture", "dvs_gesture", "dvs-gesture"))

DATASET_NAMES: tuple[str, ...] = tuple(name for name, kind in DATASETS.items() if kind != "event")
"""Canonical names of the datasets :func:`spikesmith.data.get_dataset` loads."""

EVENT_NAMES: tuple[str, ...] = tuple(name for name, kind in DATASETS.items() if kind == "event")
"""Event-camera datasets, given to the trainer as event-count frames (``spikesmith.data.event_frames``)."""

ALIASES: dict[str, str] = {alias: entry.name for entry in DATASETS.entries() for alias in entry.aliases}
"""Other accepted spellings (compared lower-case) and the canonical name each stands for."""


def valid_names() -> list[str]:
    """Every accepted name, canonical names first, then aliases."""
    return list(DATASETS) + sorted(ALIASES)


def canonical_name(name: str) -> str:
    """Map ``name`` (any accepted spelling, any case) to its canonical dataset name.

    Raises:
        TypeError: ``name`` is not a string.
        ValueError: ``name`` is unknown; the message lists the valid names.
    """
    return DATASETS.canonical(name)
