"""``--model lsm``: the liquid state machine as a ``spikesmith train`` family (only its readout is
trained), the generated temporal tasks as datasets, the checkpoint round trip and the report."""

from __future__ import annotations

import inspect
import json

import pytest
import torch

import spikesmith
from spikesmith.checksum import digest
from spikesmith.cli.main import main
from spikesmith.data import dataset_available, dataset_info, get_dataset
from spikesmith.models import (LiquidStateMachine, LSMClassifier, LSMConfig, ModelInput, build_model, config_class,
                               model_names, model_options)
from spikesmith.run import train as run
from spikesmith.run import liquid_report
from spikesmith.training import load_checkpoint, make_config

QUICK = {"dataset": "delayed_recall", "train_subset": 120, "test_subset": 60, "batch_size": 64, "epochs": 2,
         "report": False, "device": "cpu", "model": "lsm", "grid": "6x3x3"}


def _liquid_tensors(state_dict: dict) -> dict:
    """The reservoir's tensors, sparse ones as their parts, for a bitwise comparison."""
    out = {}
    for key, value in state_dict.items():
        if key.startswith("liquid."):
            if value.layout == torch.sparse_csr:
                for part in ("crow_indices", "col_indices", "values"):
                    out[f"{key}.{part}"] = getattr(value, part)()
            else:
                out[key] = value
    return out


def test_lsm_is_registered_with_the_liquids_own_defaults():
    assert "lsm" in model_names() and config_class("lsm") is LSMConfig
    model = build_model("lsm", **LSMConfig().arguments(ModelInput((10, 4), 3, temporal=True)))
    assert isinstance(model, LSMClassifier) and model.liquid.n_neurons == 135
    liquid = inspect.signature(LiquidStateMachine).parameters
    defaults = LSMConfig()
    assert defaults.grid == "15x3x3" and tuple(liquid["grid"].default) == (15, 3, 3)
    for option, argument in (("lam", "lam"), ("reservoir_seed", "seed"), ("input_fraction", "input_fraction"),
                             ("input_weight", "input_weight"), ("weight_scale", "weight_scale"),
                             ("synapses", "synapses")):
        assert getattr(defaults, option) == liquid[argument].default, option
    # only the readout has parameters to train
    trained = [name for name, p in model.named_parameters() if p.requires_grad]
    assert trained == ["readout.weight", "readout.bias"]


@pytest.mark.parametrize("options, message", [
    ({"grid": "15x3"}, "LSM: grid must be three positive ints written XxYxZ, got '15x3'"),
    ({"read_times": "1,2,3,4"}, "LSM: read_times must be 1 to 3 step indices"),
    ({"read_times": "end"}, "LSM: read_times must be 1 to 3 step indices"),
    ({"readout": "lasso"}, "LSM: readout must be 'ridge' or 'logistic', got 'lasso'"),
    ({"lam": -1.0}, "LSM: lam must be a finite number >= 0, got -1.0"),
    ({"hold": 0}, "LSM: hold must be an int >= 1, got 0"),
    ({"ridge_alpha": -0.5}, "LSM: ridge_alpha must be >= 0, got -0.5"),
    ({"input_fraction": 0.0}, "LSM: input_fraction must be in (0, 1], got 0.0"),
    ({"synapses": "plastic"}, "LSM: synapses must be 'static' or 'dynamic', got 'plastic'"),
    ({"neuron": "lif"}, "option 'neuron' does not apply to model 'lsm'"),
])
def test_a_bad_option_is_an_error_that_names_it(options, message):
    with pytest.raises(ValueError) as err:
        model_options("lsm", options)
    assert message in str(err.value)


def test_train_help_lists_the_options_with_their_defaults(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    with pytest.raises(SystemExit) as err:
        main(["train", "--model", "lsm", "--help"])
    assert err.value.code == 0
    section = capsys.readouterr().out.split("options of model lsm")[1]
    for flag in ("--grid GRID", "--lam LAM", "--read-times", "--readout", "--ridge-alpha", "--reservoir-seed",
                 "--input-fraction", "--input-weight", "--weight-scale", "--synapses", "--hold"):
        assert flag in section, flag
    assert "(default: 15x3x3)" in section and "one of ridge | logistic" in section


def test_a_bad_flag_exits_2_naming_the_option(tmp_path, capsys):
    assert main(["train", "--dataset", "delayed_recall", "--model", "lsm", "--grid", "4x4",
                 "--out", str(tmp_path / "x")]) == 2
    assert "LSM: grid must be three positive ints" in capsys.readouterr().err


def test_the_generated_tasks_are_datasets():
    info = dataset_info("delayed_recall")
    assert (info.input_shape, info.num_classes, info.temporal) == ((100, 8), 4, True)
    assert dataset_info("temporal_xor").input_shape == (60, 4) and dataset_available("temporal_xor")
    train, test = get_dataset("delayed_pattern_recall", "train"), get_dataset("delayed_recall", "test")
    assert train.inputs.shape == (2000, 100, 8) and test.inputs.shape == (1000, 100, 8)
    assert set(train.inputs.unique().tolist()) == {0.0, 1.0} and set(train.targets.tolist()) == {0, 1, 2, 3}
    assert not torch.equal(train.inputs[:5], test.inputs[:5])                  # two parts of one draw


@pytest.mark.parametrize("options", [{"readout": "ridge", "read_times": "49,-1"}, {"readout": "logistic"}])
def test_train_checkpoint_eval_and_load_and_the_reservoir_is_untouched(options, tmp_path, capsys):
    cfg = make_config(overrides={**QUICK, **options, "out": str(tmp_path)})
    metrics = run(cfg)
    assert metrics["epochs_run"] == (1 if options["readout"] == "ridge" else 2)
    assert metrics["test_accuracy"] > 0.5                          # chance is 0.25: the liquid remembers
    ckpt = load_checkpoint(tmp_path / "checkpoint.pt")
    assert ckpt["model_name"] == "lsm" and ckpt["model_args"]["grid"] == "6x3x3"
    assert all(isinstance(v, (type(None), bool, int, float, str)) for v in ckpt["model_args"].values())
    # the reservoir after training is, bit for bit, the one its seed builds; the readout was trained
    fresh = build_model("lsm", **ckpt["model_args"])
    before, after = _liquid_tensors(fresh.state_dict()), _liquid_tensors(ckpt["state_dict"])
    assert before.keys() == after.keys() and len(before) >= 5
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not torch.equal(fresh.readout.weight, ckpt["state_dict"]["readout.weight"])
    # spikesmith eval scores the stored network as the run's last pass scored the one in memory
    assert main(["eval", "--checkpoint", str(tmp_path / "checkpoint.pt")]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["test_accuracy"] == metrics["test_accuracy"]
    assert evaluated["test_loss"] == pytest.approx(metrics["test_loss"], rel=1e-6)
    loaded = spikesmith.load(tmp_path / "checkpoint.pt")
    fresh.load_state_dict(ckpt["state_dict"])
    x = get_dataset("delayed_recall", "test").inputs[:7].transpose(0, 1)
    with torch.no_grad():
        assert torch.equal(loaded(x), fresh(x)) and loaded(x).shape == (1, 7, 4)


def test_the_ann_twin_is_the_readout_on_the_raw_input(tmp_path):
    cfg = make_config(overrides={**QUICK, "ann": True, "readout": "logistic", "epochs": 3, "lr": 0.01,
                                 "out": str(tmp_path)})
    metrics = run(cfg)
    loaded = spikesmith.load(tmp_path / "checkpoint.pt")
    assert loaded.liquid is None and loaded.readout.in_features == 100 * 8
    assert 0.0 <= metrics["test_accuracy"] <= 1.0 and metrics["epochs_run"] == 3


def test_resume_is_refused_with_the_reason(tmp_path):
    run(make_config(overrides={**QUICK, "out": str(tmp_path / "a")}))
    with pytest.raises(ValueError, match="nothing to resume"):
        run(make_config(overrides={**QUICK, "out": str(tmp_path / "b")}), resume=str(tmp_path / "a" / "checkpoint.pt"))


def test_the_report_has_the_liquids_figures(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.setattr(liquid_report, "MEMORY_BINS", 120)       # enough for delays 0..20, and fast
    monkeypatch.setattr(liquid_report, "SEPARATION_PAIRS", 16)
    run(make_config(overrides={**QUICK, "report": True, "out": str(tmp_path)}))
    report = tmp_path / "report"
    for name in ("liquid_raster.png", "separation_curve.png", "memory_curve.png", "readout_accuracy.png"):
        assert (report / name).stat().st_size > 1000, name
    readme = (report / "README.md").read_text()
    assert "| Memory capacity |" in readme and "| Test accuracy |" in readme and "## Skipped" not in readme
    assert "![Liquid raster (one test sample)](liquid_raster.png)" in readme


def test_sparse_weights_are_checksummed_by_their_content():
    w = LiquidStateMachine(4, grid=(4, 3, 3)).recurrent_weight
    changed = w.clone()
    changed.values()[0] += 1e-6
    assert digest({"w": w}) == digest({"w": w.clone()})
    assert digest({"w": w}) != digest({"w": changed})
    assert digest({"w": w}) != digest({"w": w.to_dense()})                 # the layout is part of it
