"""What a model family's ``spikesmith train`` run does around its supervised epochs, keyed by the model's class.

Most families are trained by the epochs alone. A family that needs more registers a
:class:`RunPhases` for its model class in ``PHASES`` (a :class:`~spikesmith.typeregistry.TypeRegistry`:
subclasses are found through their bases), next to the code that knows what to do:

    before the epochs   ``prepare``: unsupervised pre-training, say (a fresh run only, not a resumed one);
    the epochs          ``supervised``: the module and config they train and test (default: the model);
    after the epochs    ``finish``: a conversion and its evaluation, extra entries for ``metrics.json``;
    the report          ``figures`` and ``summary``: extra figures and summary rows for ``report/``.

``run.gradient`` asks ``phases_for(model)`` once and calls each; the default does nothing, so a
family without an entry trains exactly as before. The deep belief network's phases are
``run.dbn_phases`` (``--model dbn``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from torch import Tensor, nn

from ..training.config import TrainConfig
from ..typeregistry import TypeRegistry

__all__ = ["PHASES", "Figure", "RunPhases", "phases_for"]

#: a figure for the report: (heading, file name in report/, a function that draws it to the path given)
Figure = tuple[str, str, Callable[[Path], Any]]


class RunPhases:
    """The phases of a plain run: the epochs train and test the model itself, nothing more."""

    def prepare(self, model: nn.Module, x_train: Tensor, y_train: Tensor, cfg: TrainConfig, run: Any,
                device: Any) -> dict:
        """Before the first epoch of a fresh run; returns entries for ``metrics.json`` (kept in the checkpoint)."""
        return {}

    def supervised(self, model: nn.Module, cfg: TrainConfig) -> tuple[nn.Module, TrainConfig]:
        """The module the epochs train and test, and the config they run with."""
        return model, cfg

    def finish(self, model: nn.Module, x_train: Tensor, x_test: Tensor, y_test: Tensor, cfg: TrainConfig,
               run: Any, device: Any, num_classes: int) -> dict:
        """After the epochs, before the final checkpoint; returns entries for ``metrics.json``."""
        return {}

    def figures(self, model: nn.Module, x_test: Tensor, info: Any) -> list[Figure]:
        """Extra figures for the report."""
        return []

    def summary(self, cfg: TrainConfig, metrics: dict) -> dict:
        """Rows of the report's summary table, over the plain ones (``{key: value}``)."""
        return {}


PHASES: TypeRegistry[RunPhases] = TypeRegistry("run phases")
_PLAIN = RunPhases()


def phases_for(model: nn.Module) -> RunPhases:
    """The phases registered for the model's class (or a base of it); the plain ones otherwise."""
    return PHASES.get(model, _PLAIN)
