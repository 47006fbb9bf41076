"""Models by name: each family registers its class and its config next to its code::

    @MODELS.register("fcsnn", config=FCSNNConfig)
    class FCSNN(TwinSequential): ...

``build_model(name, **arguments)`` builds one from its constructor arguments (what checkpoints
store); :func:`model_options` checks a user's options against the family's config, and refuses
an option the family does not have, naming the families that do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import nn

from ..neuron import NEURONS, time_constant_argument
from ..registry import Registry
from .options import ModelOptions

MODELS: Registry[type[nn.Module]] = Registry("model")

__all__ = ["MODELS", "build_model", "config_class", "model_names", "model_options", "models_with_option",
           "saved_arguments"]


def model_names() -> list[str]:
    return MODELS.names()


def build_model(name: str, **kwargs: Any) -> nn.Module:
    """Build a registered model from its constructor arguments; ``ann=True`` gives its ANN twin."""
    cls = MODELS.get(name)
    try:
        return cls(**kwargs)
    except TypeError as err:
        raise ValueError(f"bad arguments for model {MODELS.canonical(name)!r}: {err}") from None


def config_class(name: str) -> type[ModelOptions]:
    """The config dataclass model ``name`` registered."""
    return MODELS.entry(name).config


def models_with_option(key: str) -> list[str]:
    return [name for name in MODELS.names() if key in config_class(name).option_names()]


def model_options(name: str, options: Mapping[str, Any] | None = None) -> ModelOptions:
    """Model ``name``'s config from ``options`` (the rest at their defaults), checked.

    An option the family has not got is an error naming the model, the option and the models
    that take it.
    """
    canonical = MODELS.canonical(name)
    cls = config_class(canonical)
    own = cls.option_names()
    for key in options or {}:
        if key not in own:
            takers = models_with_option(key)
            where = f"models that accept it: {', '.join(takers)}" if takers else "no model accepts it"
            raise ValueError(f"option {key!r} does not apply to model {canonical!r} ({where}); "
                             f"{canonical}'s options: {', '.join(own)}")
    return cls(**dict(options or {}))


def saved_arguments(name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """Constructor arguments stored by an older version, as this one takes them.

    Before 0.2 ``tau`` went into every checkpoint, and a neuron without a time constant (IF,
    Izhikevich) ignored it; it is dropped for those now that a model refuses it.
    """
    arguments = dict(arguments)
    neuron = arguments.get("neuron")
    if isinstance(neuron, str) and neuron in NEURONS and "tau" in arguments \
            and time_constant_argument(neuron) is None:
        del arguments["tau"]
    return arguments
