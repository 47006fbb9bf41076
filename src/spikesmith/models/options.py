"""Model options: the small config dataclass each model family registers next to its code.

A family's config holds the options a user chooses (``spikesmith train --model NAME --help``
lists them), each with its default, written once, and its help text; ``__post_init__`` checks
them. :meth:`ModelOptions.arguments` turns them, with what the data fixes (:class:`ModelInput`),
into the model's constructor arguments, which checkpoints store.

    @dataclass
    class TinyNetConfig(SpikingOptions):
        units: int = option(6, "hidden units")

        def arguments(self, data):
            return {"in_features": data.features, "num_classes": data.num_classes,
                    "units": self.units, **self.neuron_options()}

    @MODELS.register("tinynet", config=TinyNetConfig)
    class TinyNet(nn.Sequential):
        def __init__(self, in_features, num_classes, units=TinyNetConfig.units, neuron=..., ...):
            spec = TinyNetConfig(units=units, neuron=neuron, ...).neuron_spec()   # checked once
            ...                                                                   # spec.build() per neuron

Adding a family is that one module and its import in ``models/__init__.py``: the trainer, the
CLI (``--units``, ``--model tinynet --help``), config files and checkpoints take it from the
registry (``tests/models/test_models_new_family.py`` trains one registered in the test).

Families with spiking neurons chosen by name inherit :class:`SpikingOptions` (``neuron``,
``surrogate``, ``tau``, ``detach_reset``) and build every neuron from its :class:`NeuronSpec`.
Whether the ANN twin is trained (``ann``) and its ``activation`` are run options shared by every
family (``TrainConfig``), not model options.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Optional, Sequence, Union

from .neuron_spec import NeuronSpec, default_time_constant

__all__ = ["DelayOptions", "ModelInput", "ModelOptions", "SpikeOptions", "SpikingOptions", "check_choice", "option",
           "READOUTS", "POOLS", "DELAYS"]

READOUTS = ("spike", "membrane")
POOLS = ("max", "avg")
#: the synapses a family with a ``delays`` option builds (``models.delays.DELAY_SYNAPSES``)
DELAYS = ("none", "fixed", "learnable")


def option(default: Any, help: Union[str, Callable[[], str]], choices: Sequence[str] = ()) -> Any:
    """A config field with its help text (a string, or a function for text that reads a registry)
    and, for a string, the values it may take (checked, and listed in the help)."""
    return field(default=default, metadata={"help": help, "choices": tuple(choices)})


def check_choice(owner: str, key: str, value: Any, choices: Sequence[str]) -> None:
    if value not in choices:
        listed = " or ".join(f"{c!r}" for c in choices) if len(choices) == 2 else \
            ", ".join(f"{c!r}" for c in choices[:-1]) + f" or {choices[-1]!r}"
        raise ValueError(f"{owner}: {key} must be {listed}, got {value!r}")


@dataclass(frozen=True)
class ModelInput:
    """What the data fixes about a model: one sample's shape (for a temporal dataset its first
    entry is T), the number of classes, and whether samples are sequences."""

    sample_shape: tuple
    num_classes: int
    temporal: bool = False

    @property
    def step_shape(self) -> tuple:
        """The shape of one time step: the sample without T for a temporal dataset."""
        return tuple(self.sample_shape[1:]) if self.temporal else tuple(self.sample_shape)

    @property
    def features(self) -> int:
        return math.prod(self.step_shape)


@dataclass
class ModelOptions:
    """Base of every family's config. Subclasses add fields made with :func:`option`."""

    #: the encoder a static dataset gets when the config names none
    default_encoder: ClassVar[str] = "poisson"
    #: what the ANN twin is, for logs and reports, where it is not the spiking net with an activation
    #: in place of each neuron (``"nn.LSTM"``); None: ``'ANN <activation>'``
    ann_twin: ClassVar[Optional[str]] = None
    #: run options (``TrainConfig`` keys) the family sets over the dataset's recipe and under the
    #: config file and the command line, e.g. the T of a net that needs many steps
    run_defaults: ClassVar[dict] = {}

    @classmethod
    def owner(cls) -> str:
        """The name error messages start with: the class name without ``Config`` (``FCSNN``)."""
        return cls.__name__.removesuffix("Config")

    @classmethod
    def option_names(cls) -> list[str]:
        """The options, the family's own first, then those it inherits (neuron, surrogate, ...)."""
        names = [f.name for f in dataclasses.fields(cls)]
        order = [name for klass in cls.__mro__ for name in vars(klass).get("__annotations__", {})]
        return sorted(names, key=order.index)

    def __post_init__(self):
        for f in dataclasses.fields(self):
            if f.metadata.get("choices"):
                check_choice(self.owner(), f.name, getattr(self, f.name), f.metadata["choices"])

    def arguments(self, data: ModelInput) -> dict[str, Any]:
        """The model's constructor arguments for ``data`` (without ``ann`` and ``activation``)."""
        raise NotImplementedError(f"{type(self).__name__} must define arguments(data)")

    @property
    def neuron_name(self) -> Optional[str]:
        """The spiking neuron the model uses (for logs and reports), None if it has none."""
        return None

    def check(self, ok: bool, message: str) -> None:
        if not ok:
            raise ValueError(f"{self.owner()}: {message}")


@dataclass
class SpikeOptions(ModelOptions):
    """The options of every family's spiking neurons: the surrogate gradient and the reset."""

    surrogate: Optional[str] = option("atan", "surrogate spike function, e.g. atan or 'sigmoid:alpha=4'")
    detach_reset: bool = option(True, "cut the reset out of the backward pass")


def _neuron_help() -> str:
    from ..neuron import NEURONS

    return f"the spiking neuron: {' | '.join(NEURONS.names())}"


@dataclass
class SpikingOptions(SpikeOptions):
    """Options of a family whose neurons are chosen by name: every neuron comes from one spec."""

    neuron: str = option("lif", _neuron_help)
    tau: Optional[float] = option(None, "membrane time constant, for neurons that have one (default: the "
                                        "neuron's own, 2.0)")

    def __post_init__(self):
        super().__post_init__()
        try:
            spec = self.neuron_spec()
        except ValueError as err:
            raise ValueError(f"{self.owner()}: {err}") from None
        self.neuron = spec.name
        if self.tau is None:                  # record the time constant the neuron will have
            self.tau = default_time_constant(spec.name)

    def neuron_spec(self) -> NeuronSpec:
        return NeuronSpec.of(self.neuron, tau=self.tau, surrogate=self.surrogate, detach_reset=self.detach_reset)

    def neuron_options(self) -> dict[str, Any]:
        """The neuron options as the constructors of the families take them."""
        return {"neuron": self.neuron, "surrogate": self.surrogate, "tau": self.tau, "detach_reset": self.detach_reset}

    @property
    def neuron_name(self) -> Optional[str]:
        return self.neuron


@dataclass
class DelayOptions(ModelOptions):
    """The ``delays`` option of a family whose input synapses may carry a delay each.

    ``none``: plain linear synapses; ``fixed``: an integer delay per synapse drawn uniformly in
    [0, max_delay] when the model is built (seeded with the run); ``learnable``: a learned delay per
    synapse (``layer.LearnableDelay``, DCLS-style). Sequences must be longer than ``max_delay``.
    """

    delays: str = option("none", "synaptic delays of the hidden layers' input synapses", DELAYS)
    max_delay: int = option(25, "the largest delay in steps (delays none: unused)")

    def __post_init__(self):
        super().__post_init__()
        self.check(isinstance(self.max_delay, int) and not isinstance(self.max_delay, bool) and self.max_delay >= 1,
                   f"max_delay must be a positive int (steps), got {self.max_delay!r}")

    def delay_arguments(self, data: Optional[ModelInput] = None) -> dict[str, Any]:
        """``delays`` and ``max_delay`` for the constructor; nothing when there are none, so that the
        arguments of a network without delays stay those its checkpoints stored before the option existed.
        With ``data`` of a temporal dataset, a ``max_delay`` that does not fit its T is an error here."""
        if self.delays == "none":
            return {}
        if data is not None and data.temporal and self.max_delay >= data.sample_shape[0]:
            raise ValueError(f"{self.owner()}: max_delay={self.max_delay} does not fit the dataset's sequences of "
                             f"T={data.sample_shape[0]} steps; use --max-delay below {data.sample_shape[0]}")
        return {"delays": self.delays, "max_delay": self.max_delay}
