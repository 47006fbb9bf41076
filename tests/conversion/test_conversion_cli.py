"""``spikesmith convert`` on a small ANN trained on scikit-learn's digits."""

from __future__ import annotations

import argparse
import json

import pytest

from spikesmith import conversion
from spikesmith.cli import convert as convert_cmd
from spikesmith.cli.main import main


def _convert(argv):
    parser = argparse.ArgumentParser(prog="spikesmith")
    convert_cmd.add_parser(parser.add_subparsers(dest="command"))
    return convert_cmd.run(parser.parse_args(["convert", *argv]))


@pytest.fixture(scope="module")
def ann_checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("conv") / "ann"
    assert main(["train", "--dataset", "digits", "--ann", "--epochs", "2", "--hidden", "64", "--train-subset", "600",
                 "--test-subset", "100", "--lr", "0.01", "--report", "false", "--out", str(out)]) == 0
    return out / "checkpoint.pt"


def test_convert_cli_table_plot_and_checkpoints(ann_checkpoint, tmp_path, capsys):
    out = tmp_path / "conv"
    assert _convert(["--checkpoint", str(ann_checkpoint), "--method", "robust,light", "--T", "4,16",
                     "--calib-samples", "64", "--test-samples", "100", "--no-bias", "--out", str(out)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["method", "T=4", "T=16"]
    assert table[1].startswith("ANN") and any(line.startswith("light (no bias)") for line in table)
    summary = json.loads((out / "conversion.json").read_text())
    assert set(summary["results"]) == {"robust", "light", "robust (no bias)", "light (no bias)"}
    assert summary["results"]["robust"]["one_run"] is True and summary["results"]["light"]["one_run"] is False
    assert summary["results"]["light"]["accuracy"]["16"] >= summary["ann_accuracy"] - 0.1
    assert (out / "accuracy_vs_T.png").stat().st_size > 1000
    snn = conversion.load_converted(out / "converted_light.pt")
    assert snn.T == 16 and snn.method == "light"


def test_convert_cli_rejects_snn_checkpoints_and_bad_methods(tmp_path, ann_checkpoint):
    with pytest.raises(ValueError, match="unknown method 'nope'"):
        _convert(["--checkpoint", str(ann_checkpoint), "--method", "nope"])
    with pytest.raises(ValueError, match="--T must be"):
        _convert(["--checkpoint", str(ann_checkpoint), "--T", "4,x"])
    snn_run = tmp_path / "snn"
    assert main(["train", "--dataset", "digits", "--epochs", "1", "--train-subset", "100", "--test-subset", "50",
                 "--hidden", "16", "--T", "2", "--report", "false", "--out", str(snn_run)]) == 0
    with pytest.raises(ValueError, match="convert needs an ANN twin"):
        _convert(["--checkpoint", str(snn_run / "checkpoint.pt")])


def test_eval_reads_a_converted_checkpoint(ann_checkpoint, tmp_path, capsys):
    out = tmp_path / "conv"
    assert _convert(["--checkpoint", str(ann_checkpoint), "--method", "light", "--T", "8", "--calib-samples", "64",
                     "--test-samples", "100", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["eval", "--checkpoint", str(out / "converted_light.pt")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["T"] == 8 and result["method"] == "light" and 0.5 < result["test_accuracy"] <= 1.0
