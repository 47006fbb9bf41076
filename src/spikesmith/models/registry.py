"""Models by name, for the training CLI and checkpoints."""

from __future__ import annotations

from typing import Any

from torch import nn

from .csnn import CSNN
from .fcsnn import FCSNN
from .resnet import SpikingResNet
from .rsnn import RSNN
from .vgg import SpikingVGG

MODELS: dict[str, type[nn.Module]] = {"fcsnn": FCSNN, "csnn": CSNN, "rsnn": RSNN, "vgg": SpikingVGG,
                                      "resnet": SpikingResNet}


def model_names() -> list[str]:
    return sorted(MODELS)


def build_model(name: str, **kwargs: Any) -> nn.Module:
    """Build a registered model; ``ann=True`` gives its ANN twin."""
    key = name.lower()
    if key not in MODELS:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(model_names())}")
    try:
        return MODELS[key](**kwargs)
    except TypeError as err:
        raise ValueError(f"bad arguments for model {name!r}: {err}") from None
