"""Adding a model family is one module: its config, its class and its registration.

Inside the package the module is imported by ``models/__init__.py`` (a second file); nothing in
training, the CLI or checkpoints changes. Here the family is registered in the test and trained
through the normal path: make_config -> run -> checkpoint -> eval, and its options are CLI flags.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from torch import nn

from spikesmith import layer
from spikesmith.cli.main import main
from spikesmith.models import MODELS, ModelInput, SpikingOptions, build_model, make_activation, option
from spikesmith.run import train as run
from spikesmith.training import load_checkpoint, make_config


# ------------------------------------------------------------- the whole family (one module's worth)
@dataclass
class TinyNetConfig(SpikingOptions):
    units: int = option(6, "hidden units")

    def __post_init__(self):
        super().__post_init__()
        self.check(self.units >= 1, "units must be >= 1")

    def arguments(self, data: ModelInput) -> dict:
        return {"in_features": data.features, "num_classes": data.num_classes, "units": self.units,
                **self.neuron_options()}


_D = TinyNetConfig


class TinyNet(nn.Sequential):
    """Flatten -> Linear -> neuron -> Linear: one hidden layer."""

    def __init__(self, in_features: int, num_classes: int, units: int = _D.units, neuron: str = _D.neuron,
                 surrogate=_D.surrogate, tau=_D.tau, detach_reset: bool = _D.detach_reset, ann: bool = False,
                 activation: str = "relu"):
        spec = TinyNetConfig(units=units, neuron=neuron, surrogate=surrogate, tau=tau,
                             detach_reset=detach_reset).neuron_spec()
        if ann:
            super().__init__(nn.Flatten(), nn.Linear(in_features, units), make_activation(activation),
                             nn.Linear(units, num_classes))
        else:
            super().__init__(layer.Flatten(step_mode="m"), layer.Linear(in_features, units, step_mode="m"),
                             spec.build(), layer.Linear(units, num_classes, step_mode="m"))


@pytest.fixture
def tiny_family():
    MODELS.register("tinynet", TinyNet, config=TinyNetConfig)
    yield
    MODELS.unregister("tinynet")


QUICK = {"dataset": "digits", "train_subset": 64, "test_subset": 30, "epochs": 1, "T": 2, "report": False,
         "device": "cpu"}


def test_a_registered_family_trains_through_the_normal_path(tiny_family, tmp_path, capsys):
    cfg = make_config(overrides={**QUICK, "model": "tinynet", "units": "5", "neuron": "plif", "tau": 3,
                                 "out": str(tmp_path)})
    assert cfg.model_options == {"units": 5, "neuron": "plif", "tau": 3.0, "surrogate": "atan", "detach_reset": True}
    metrics = run(cfg)
    assert metrics["model"] == "tinynet" and metrics["model_args"]["units"] == 5
    assert metrics["model_args"]["in_features"] == 64 and 0.0 <= metrics["test_accuracy"] <= 1.0
    ckpt = load_checkpoint(tmp_path / "checkpoint.pt")
    model = build_model(ckpt["model_name"], **ckpt["model_args"])
    model.load_state_dict(ckpt["state_dict"])
    assert main(["eval", "--checkpoint", str(tmp_path / "checkpoint.pt")]) == 0
    assert json.loads(capsys.readouterr().out)["test_accuracy"] == metrics["test_accuracy"]


def test_a_registered_family_gets_cli_flags_help_and_errors(tiny_family, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["train", "--model", "tinynet", "--help"])
    section = capsys.readouterr().out.split("options of model tinynet")[1]
    assert "--units UNITS" in section and "hidden units (default: 6)" in section and "--neuron" in section
    assert main(["train", *[f"--{k.replace('_', '-')}={v}" for k, v in QUICK.items()], "--model", "tinynet",
                 "--units", "3", "--out", str(tmp_path / "cli")]) == 0
    assert load_checkpoint(tmp_path / "cli" / "checkpoint.pt")["model_args"]["units"] == 3
    capsys.readouterr()
    refused = ["train", "--dataset", "digits", "--units"]
    assert main([*refused, "3", "--model", "fcsnn", "--out", str(tmp_path / "x")]) == 2
    assert "option 'units' does not apply to model 'fcsnn' (models that accept it: tinynet)" in capsys.readouterr().err
    assert main([*refused, "0", "--model", "tinynet", "--out", str(tmp_path / "y")]) == 2
    assert "TinyNet: units must be >= 1" in capsys.readouterr().err
