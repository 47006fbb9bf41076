"""The calibration steps of a conversion, in the order ``convert`` runs them, each flagged by whether
it depends on T.

After the ANN is traced and its activations replaced by IF neurons, a conversion balances the
thresholds, shifts the layers, calibrates them layer by layer and may move the biases into the initial
potentials. Which of these steps a conversion takes follows from its resolved options
(:func:`~spikesmith.conversion.convert.resolve_options`); each step says whether its result is made
for one T:

- ``depends_on_T``: the step's result holds for the T it was made for only. A conversion with no such
  step can be run once for the largest T and read at every smaller t (``accuracy_over_time``), which
  is what the accuracy-against-T sweep does; any such step makes the sweep convert once per T.
- ``follows_T``: the network recomputes the step's result itself when T changes (``set_T``), so a
  converted network needs no recalibration for it (the V_th / (2T) offset).

``ConvertedSNN.t_dependent`` (set_T warns and ``recalibrate`` converts again) is
:func:`needs_recalibration`; the sweep asks :func:`depends_on_T`. Both read this one table.

The steps named in ``calibration=`` are those with ``selectable=True``; a new calibration method is a
new entry here and its code in ``calibration.py``, called from ``convert``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..registry import Registry


@dataclass(frozen=True)
class CalibrationStep:
    """One step: when it applies (a test on the resolved options) and how it depends on T."""

    applies: Callable[[dict], bool]
    depends_on_T: bool
    follows_T: bool = False
    selectable: bool = False        # named in the ``calibration=`` option
    doc: str = ""


#: The steps in the order ``convert`` runs them (per layer, the weights before the corrections).
CALIBRATION_STEPS: Registry[CalibrationStep] = Registry("calibration step")


def _calibrating(name: str) -> Callable[[dict], bool]:
    return lambda opts: name in opts["calibration"]


CALIBRATION_STEPS.register("thresholds", CalibrationStep(
    lambda opts: opts["threshold"] != "mse", depends_on_T=False,
    doc="thresholds from the activations' max, percentile, fraction or clip point"))
CALIBRATION_STEPS.register("mse_thresholds", CalibrationStep(
    lambda opts: opts["threshold"] == "mse", depends_on_T=True,
    doc="thresholds minimising the clip-floor error at T"))
CALIBRATION_STEPS.register("shift_bias", CalibrationStep(
    lambda opts: opts["shift"] == "bias", depends_on_T=True, follows_T=True,
    doc="V_th / (2T) added to the input at every step (recomputed for a new T)"))
CALIBRATION_STEPS.register("shift_potential", CalibrationStep(
    lambda opts: opts["shift"] == "potential", depends_on_T=False,
    doc="initial potential V_th / 2: the same total charge, independent of T"))
CALIBRATION_STEPS.register("weights", CalibrationStep(
    _calibrating("weights"), depends_on_T=True, selectable=True,
    doc="a few Adam steps on each layer's weights to match the ANN's activations at T"))
CALIBRATION_STEPS.register("bias", CalibrationStep(
    _calibrating("bias"), depends_on_T=True, selectable=True,
    doc="each layer's bias (and the readout's) corrected by the mean error at T"))
CALIBRATION_STEPS.register("potential", CalibrationStep(
    _calibrating("potential"), depends_on_T=True, selectable=True,
    doc="each neuron's initial potential corrected by T times its error"))
CALIBRATION_STEPS.register("bias_removal", CalibrationStep(
    lambda opts: not opts["bias"], depends_on_T=True,
    doc="the biases moved into the initial potentials (T times the constant current)"))


def selectable_steps() -> tuple[str, ...]:
    """The names ``calibration=`` accepts, in the order they run."""
    return tuple(e.name for e in CALIBRATION_STEPS.entries() if e.obj.selectable)


def steps_taken(opts: dict) -> list[str]:
    """The steps a conversion with the resolved options ``opts`` takes, in order."""
    return [e.name for e in CALIBRATION_STEPS.entries() if e.obj.applies(opts)]


def depends_on_T(opts: dict) -> bool:
    """Whether the conversion must be made for each T (else one run at the largest T serves every t)."""
    return any(CALIBRATION_STEPS[name].depends_on_T for name in steps_taken(opts))


def needs_recalibration(opts: dict) -> bool:
    """Whether a network converted with ``opts`` is off at another T until converted again (``t_dependent``)."""
    return any(CALIBRATION_STEPS[name].depends_on_T and not CALIBRATION_STEPS[name].follows_T
               for name in steps_taken(opts))
