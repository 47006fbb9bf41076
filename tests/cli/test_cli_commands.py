"""``spikesmith train`` and ``spikesmith eval`` through ``spikesmith.cli.main.main``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from spikesmith.cli.main import main
from spikesmith.training import load_checkpoint

TINY = ["--dataset", "digits", "--train-subset", "200", "--test-subset", "100", "--hidden", "32", "--T", "2",
        "--lr", "0.05", "--report", "false"]


def _train(out, *extra):
    return main(["train", *TINY, "--out", str(out), *extra])


def _same_weights(a, b):
    sa, sb = load_checkpoint(a / "checkpoint.pt")["state_dict"], load_checkpoint(b / "checkpoint.pt")["state_dict"]
    assert sa.keys() == sb.keys()
    return all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    assert main(["train", "--dataset", "digits", "--epochs", "1", "--train-subset", "200", "--test-subset", "100",
                 "--report", "false", "--out", str(out)]) == 0
    return out


def test_train_smoke(trained, capsys):
    metrics = json.loads((trained / "metrics.json").read_text())
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    assert metrics["epochs_run"] == 1 and metrics["config"]["train_subset"] == 200
    assert metrics["config"]["model_options"]["hidden"] == 256        # the digits preset
    assert (trained / "checkpoint.pt").is_file() and (trained / "log.csv").is_file()


def test_train_prints_the_accuracy(tmp_path, capsys):
    assert _train(tmp_path, "--epochs", "1") == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"test_accuracy {metrics['test_accuracy']:.4f}"


def test_eval_prints_json_matching_training(trained, capsys):
    capsys.readouterr()
    assert main(["eval", "--checkpoint", str(trained / "checkpoint.pt")]) == 0
    result = json.loads(capsys.readouterr().out)
    metrics = json.loads((trained / "metrics.json").read_text())
    assert result["test_accuracy"] == metrics["test_accuracy"]
    assert result["count"] == 100
    assert set(result["firing_rates"]) == set(metrics["firing_rates"])
    assert result["test_loss"] == pytest.approx(metrics["test_loss"])


def test_eval_with_fewer_time_steps(trained, capsys):
    capsys.readouterr()
    assert main(["eval", "--checkpoint", str(trained / "checkpoint.pt"), "--T", "1", "--batch-size", "7"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert 0.0 <= result["test_accuracy"] <= 1.0 and result["count"] == 100
    trained_with_t4 = json.loads((trained / "metrics.json").read_text())
    assert trained_with_t4["config"]["T"] == 4
    assert result["test_loss"] != pytest.approx(trained_with_t4["test_loss"])   # the override took effect


def test_eval_of_an_ann_twin(tmp_path, capsys):
    assert _train(tmp_path, "--epochs", "1", "--ann") == 0
    capsys.readouterr()
    assert main(["eval", "--checkpoint", str(tmp_path / "checkpoint.pt")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["firing_rates"] == {}
    assert result["test_accuracy"] == json.loads((tmp_path / "metrics.json").read_text())["test_accuracy"]


def test_unknown_dataset_exits_2_listing_valid_names(tmp_path, capsys):
    assert main(["train", "--dataset", "cifar10", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "unknown dataset 'cifar10'" in err
    for name in ("fashion_mnist", "mnist", "digits", "sfmnist"):
        assert name in err
    assert not (tmp_path / "x").exists()


def test_bad_config_key_exits_2(tmp_path, capsys):
    assert main(["train", "--dataset", "digits", "--set", "hiden=3", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "spikesmith train: error: unknown config key(s) 'hiden'" in err and "valid keys" in err


def test_bad_key_in_config_file_exits_2(tmp_path, capsys):
    path = tmp_path / "cfg.yaml"
    path.write_text("dataset: digits\nepoch: 3\n")
    assert main(["train", "--config", str(path), "--out", str(tmp_path / "x")]) == 2
    assert "unknown config key(s) 'epoch'" in capsys.readouterr().err


@pytest.mark.parametrize("flag, value, key", [("--epochs", "abc", "epochs"), ("--lr", "x", "lr"),
                                              ("--ann", "maybe", "ann")])
def test_wrong_type_exits_2_naming_the_key(tmp_path, capsys, flag, value, key):
    assert main(["train", "--dataset", "digits", flag, value, "--out", str(tmp_path)]) == 2
    assert f"config key '{key}'" in capsys.readouterr().err


def test_bad_override_syntax_exits_2(tmp_path, capsys):
    assert main(["train", "--dataset", "digits", "--set", "lr0.1", "--out", str(tmp_path)]) == 2
    assert "must look like key=value" in capsys.readouterr().err


def test_config_file_and_flags(tmp_path):
    path = tmp_path / "cfg.toml"
    path.write_text('dataset = "digits"\nhidden = 8\nepochs = 1\ntrain_subset = 64\ntest_subset = 20\n'
                    'report = false\nT = 2\n')
    assert main(["train", "--config", str(path), "--hidden", "12", "--set", "T=3", "--out", str(tmp_path / "r")]) == 0
    ckpt = load_checkpoint(tmp_path / "r" / "checkpoint.pt")
    assert ckpt["model_args"]["hidden"] == 12                         # the flag beats the file
    assert ckpt["config"]["T"] == 3 and ckpt["config"]["epochs"] == 1 and ckpt["config"]["train_subset"] == 64


def test_resume_equals_an_uninterrupted_run(tmp_path):
    assert _train(tmp_path / "full", "--epochs", "2") == 0
    assert _train(tmp_path / "part", "--epochs", "2", "--time-limit", "1e-7") == 0
    assert load_checkpoint(tmp_path / "part" / "checkpoint.pt")["epoch"] == 0
    assert main(["train", "--resume", str(tmp_path / "part" / "checkpoint.pt"), "--time-limit", "none"]) == 0
    assert _same_weights(tmp_path / "part", tmp_path / "full")
    full = json.loads((tmp_path / "full" / "metrics.json").read_text())
    part = json.loads((tmp_path / "part" / "metrics.json").read_text())
    assert part["test_accuracy"] == full["test_accuracy"] and part["epochs_run"] == 2


def test_resume_extending_a_constant_lr_run(tmp_path):
    assert _train(tmp_path / "full", "--epochs", "2", "--schedule", "none") == 0
    assert _train(tmp_path / "one", "--epochs", "1", "--schedule", "none") == 0
    assert main(["train", "--resume", str(tmp_path / "one" / "checkpoint.pt"), "--epochs", "2"]) == 0
    assert _same_weights(tmp_path / "one", tmp_path / "full")


def test_resume_extending_a_onecycle_run_exits_2(tmp_path, capsys):
    assert _train(tmp_path, "--epochs", "1") == 0
    assert main(["train", "--resume", str(tmp_path / "checkpoint.pt"), "--epochs", "2"]) == 2
    assert "schedule=none" in capsys.readouterr().err


def test_eval_errors(tmp_path, capsys):
    assert main(["eval", "--checkpoint", str(tmp_path / "none.pt")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "junk.pt").write_bytes(b"junk" * 100)
    assert main(["eval", "--checkpoint", str(tmp_path / "junk.pt")]) == 2
    assert "cannot be read" in capsys.readouterr().err
    torch.save({"w": torch.zeros(1)}, tmp_path / "other.pt")
    assert main(["eval", "--checkpoint", str(tmp_path / "other.pt")]) == 2
    assert "not a spikesmith checkpoint" in capsys.readouterr().err


def test_no_command_and_bad_arguments(capsys):
    assert main([]) == 2
    assert "train" in capsys.readouterr().out
    with pytest.raises(SystemExit) as err:
        main(["eval"])                                                # --checkpoint is required
    assert err.value.code == 2
    with pytest.raises(SystemExit) as err:
        main(["fit"])
    assert err.value.code == 2


def test_python_dash_m():
    proc = subprocess.run([sys.executable, "-m", "spikesmith", "train", "--help"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0
    assert "--train-subset" in proc.stdout and "--resume" in proc.stdout and "--config" in proc.stdout


def test_model_help_lists_that_models_options(capsys):
    with pytest.raises(SystemExit) as err:
        main(["train", "--model", "fcsnn", "--help"])
    assert err.value.code == 0
    out = capsys.readouterr().out
    section = out[out.index("options of model fcsnn"):]
    for flag in ("--hidden", "--readout", "--neuron", "--tau", "--surrogate", "--detach-reset"):
        assert flag in section
    assert "--channels CHANNELS" not in out and "--train-subset" in out
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    assert "rsnn: hidden, tau, tau_adapt" in out and "csnn: channels" in out


@pytest.mark.parametrize("flags, fragment", [
    (["--model", "rsnn", "--neuron", "plif"], "option 'neuron' does not apply to model 'rsnn'"),
    (["--neuron", "if", "--tau", "3"], "option 'tau' does not apply to neuron 'if'"),
    (["--channels", "4"], "option 'channels' does not apply to model 'fcsnn' (models that accept it: csnn)"),
])
def test_an_option_that_does_not_apply_exits_2(tmp_path, capsys, flags, fragment):
    assert main(["train", "--dataset", "digits", *flags, "--out", str(tmp_path / "x")]) == 2
    assert fragment in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
