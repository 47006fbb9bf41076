"""Bad command lines end in one line that names the problem and the fix (exit code 2), never a traceback."""

from __future__ import annotations

import pytest

from spikesmith.cli.main import main

QUICK = ["--dataset", "digits", "--train-subset", "64", "--test-subset", "32", "--epochs", "1", "--report", "false"]


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert err and "Traceback" not in "\n".join(err)
    return err[-1]


@pytest.mark.parametrize("out, fragment", [
    ("/etc/passwd/sub", "cannot create the folder"),
    ("/dev/null", "exists and is not a folder"),
])
def test_an_output_path_that_cannot_be_a_folder(out, fragment, capsys):
    assert main(["train", *QUICK, "--out", out]) == 2
    line = _error_line(capsys)
    assert line.startswith("spikesmith train: error: out ") and fragment in line


@pytest.mark.parametrize("suffix, text, fragment", [
    (".yaml", "lr: [1, 2\nepochs: 3\n", "is not valid YAML (line 2, column 7)"),
    (".toml", "lr = \n", "is not valid TOML"),
    (".json", '{"lr": }', "is not valid JSON"),
])
def test_a_malformed_config_file(tmp_path, suffix, text, fragment, capsys):
    path = tmp_path / f"cfg{suffix}"
    path.write_text(text)
    assert main(["train", "--config", str(path), "--out", str(tmp_path / "x")]) == 2
    assert fragment in _error_line(capsys)


@pytest.mark.parametrize("flags, fragment", [
    (["--threads", "-1"], "threads must be >= 1"),
    (["--label-smoothing", "2"], "label_smoothing must be in [0, 1)"),
    (["--lr", "inf"], "config key 'lr' must be a finite number"),
    (["--momentum", "nan", "--optimizer", "sgd"], "config key 'momentum' must be a finite number"),
    (["--tet-lambda", "nan", "--loss", "tet"], "config key 'tet_lambda' must be a finite number"),
    (["--device", "nosuch"], "device 'nosuch' is not a device name PyTorch knows"),
])
def test_bad_values(tmp_path, flags, fragment, capsys):
    assert main(["train", *QUICK, *flags, "--out", str(tmp_path / "x")]) == 2
    assert fragment in _error_line(capsys)


def test_cuda_where_there_is_none(tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert main(["train", *QUICK, "--device", "cuda", "--out", str(tmp_path / "x")]) == 2
    assert "sees no CUDA device" in _error_line(capsys)


def test_the_run_says_which_copy_of_the_data_it_uses(tmp_path, capsys):
    assert main(["train", *QUICK, "--out", str(tmp_path / "x")]) == 0
    err = capsys.readouterr().err
    assert "[spikesmith] digits train: 1437 samples from scikit-learn's bundled copy" in err
    assert "[spikesmith] digits test: 360 samples from" in err


def test_an_explicit_data_dir_that_lacks_the_files(tmp_path, capsys):
    assert main(["train", "--dataset", "fashion_mnist", "--data-dir", str(tmp_path / "none"), "--epochs", "1",
                 "--report", "false", "--out", str(tmp_path / "x")]) == 2
    assert "none' does not exist: Fashion-MNIST train needs" in _error_line(capsys)
