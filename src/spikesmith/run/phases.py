"""What a model family's ``spikesmith train`` run does around its supervised epochs, keyed by the model's class.

Most families are trained by the epochs alone. A family that needs more registers a
:class:`RunPhases` for its model class in ``PHASES`` (a :class:`~spikesmith.typeregistry.TypeRegistry`:
subclasses are found through their bases), next to the code that knows what to do:

    before the epochs   ``prepare``: unsupervised pre-training, say (a fresh run only, not a resumed one);
    the epochs          ``supervised``: the module and config they train and test (default: the model);
    after the epochs    ``finish``: a conversion and its evaluation, extra entries for ``metrics.json``;
    the report          ``report``: extra figures, lines and summary rows for ``report/``.

``run.gradient`` asks ``phases_for(model)`` once and calls each; the default does nothing, so a
family without an entry trains exactly as before. The deep belief network's phases are
``run.dbn_phases`` (``--model dbn``); the liquid state machine's (``--model lsm``, whose fixed
network's readout is fitted in place of the epochs, ``run.readout_fit``) add its report only,
``run.liquid_report``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from torch import Tensor, nn

from ..training.config import TrainConfig
from ..training.report import ReportSection
from ..typeregistry import TypeRegistry

__all__ = ["PHASES", "Figure", "ReportSection", "RunPhases", "phases_for"]

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

    def report(self, model: nn.Module, cfg: TrainConfig, info: Any, x_test: Tensor, y_test: Tensor, metrics: dict,
               device: Any) -> ReportSection:
        """What the family adds to ``report/``: figures, lines and summary rows."""
        return ReportSection()


PHASES: TypeRegistry[RunPhases] = TypeRegistry("run phases")
_PLAIN = RunPhases()


def phases_for(model: nn.Module) -> RunPhases:
    """The phases registered for the model's class (or a base of it); the plain ones otherwise."""
    return PHASES.get(model, _PLAIN)
