"""The calibration steps: one ordered table, each step flagged by whether it depends on T, read by
``convert`` (``t_dependent``) and by the accuracy-against-T sweep (one run or one conversion per T)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from spikesmith import conversion
from spikesmith.conversion import CALIBRATION_STEPS, depends_on_T, needs_recalibration, resolve_options
from spikesmith.conversion.calibration import CALIBRATIONS
from spikesmith.conversion.steps import steps_taken


def test_steps_are_ordered_and_flagged():
    names = list(CALIBRATION_STEPS)
    assert names.index("thresholds") < names.index("shift_bias") < names.index("weights") < names.index("bias")
    assert names[-1] == "bias_removal"
    assert all(isinstance(CALIBRATION_STEPS[n].depends_on_T, bool) for n in names)
    assert CALIBRATIONS == ("weights", "bias", "potential")     # what calibration= accepts, in running order


@pytest.mark.parametrize("method, options, one_run, recalibrate", [
    ("max", {}, True, False),
    ("robust", {}, True, False),
    ("fraction", {}, True, False),
    ("qcfs", {"calibration": ()}, True, False),
    ("max", {"shift": "bias"}, False, False),       # V_th/(2T) per step: set_T recomputes it
    ("max", {"bias": False}, False, True),           # T x bias in the initial potentials
    ("mse", {}, False, True),
    ("light", {}, False, True),
    ("advanced", {}, False, True),
])
def test_one_rule_for_the_sweep_and_for_recalibration(method, options, one_run, recalibrate):
    opts = resolve_options(method, options)
    assert depends_on_T(opts) is not one_run
    assert needs_recalibration(opts) is recalibrate


def test_convert_sets_t_dependent_from_the_table():
    torch.manual_seed(0)
    ann = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)).eval()
    x = torch.rand(32, 6)
    for method, options in (("max", {}), ("light", {}), ("max", {"shift": "bias"}), ("robust", {"bias": False})):
        snn = conversion.convert(ann, x, T=4, method=method, **options)
        assert snn.t_dependent is needs_recalibration(resolve_options(method, options)), (method, options)


def test_steps_taken_follow_the_options():
    assert steps_taken(resolve_options("advanced", {"calibration": ("potential", "weights", "bias")})) == [
        "mse_thresholds", "shift_potential", "weights", "bias", "potential"]
    with pytest.raises(ValueError, match="calibration steps must be among weights, bias, potential"):
        resolve_options("max", {"calibration": ("nope",)})


def test_sweep_reads_one_run_or_converts_per_T():
    torch.manual_seed(0)
    ann = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3)).eval()
    x = torch.rand(64, 6)
    y = ann(x).argmax(1)
    done = list(conversion.sweep(ann, x, x, y, [2, 8], conversion.variants(["max", "light"], no_bias=True)))
    assert [d.label for d in done] == ["max", "light", "max (no bias)", "light (no bias)"]
    assert [d.row["one_run"] for d in done] == [True, False, False, False]
    assert all(set(d.row["accuracy"]) == {"2", "8"} and d.snn.T == 8 for d in done)
    # one run read at t=2 equals converting for 2 steps when nothing depends on T
    at_2 = conversion.convert(ann, x, T=2, method="max")
    from spikesmith.conversion.evaluate import accuracy_over_time

    assert done[0].row["accuracy"]["2"] == accuracy_over_time(at_2, x, y, [2])[2]
