"""``spikesmith profile --checkpoint ...`` on a tiny trained checkpoint."""

from __future__ import annotations

import json

import pytest

from spikesmith.cli import main as cli_main
from spikesmith.cli import profile as profile_cmd

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    out = tmp_path_factory.mktemp("profile") / "run"
    assert cli_main.main(["train", "--dataset", "digits", "--epochs", "1", "--train-subset", "64", "--test-subset",
                          "32", "--report", "false", "--out", str(out)]) == 0
    return out / "checkpoint.pt"


@pytest.fixture(autouse=True)
def registered(monkeypatch):
    monkeypatch.setitem(cli_main.COMMANDS, "profile", profile_cmd)


def test_profile_prints_table_and_writes_plot(ckpt, capsys):
    assert cli_main.main(["profile", "--checkpoint", str(ckpt), "--batches", "2", "--batch-size", "8"]) == 0
    text = capsys.readouterr().out
    assert "total" in text and "ANN twin" in text and "LIFNode" in text
    assert "16 samples" in text
    png = ckpt.with_name("checkpoint_profile.png")
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_profile_json_and_out(ckpt, tmp_path, capsys):
    out = tmp_path / "sub" / "p.png"
    assert cli_main.main(["profile", "--checkpoint", str(ckpt), "--json", "--out", str(out)]) == 0
    doc = json.loads(capsys.readouterr().out)
    total = doc["total"]
    assert total["samples"] == 32 and total["ac_pj"] == 0.9 and total["mac_pj"] == 4.6
    assert total["energy_pj"] == pytest.approx(total["acs"] * 0.9 + total["macs"] * 4.6)
    # the ANN twin runs every layer densely once: its MACs are the SNN's dense MACs
    assert doc["ann_twin"]["total"]["macs"] == pytest.approx(total["dense_macs"])
    assert out.exists()


def test_profile_bad_arguments(ckpt, tmp_path, capsys):
    assert cli_main.main(["profile", "--checkpoint", str(ckpt), "--out", str(tmp_path / "p.jpg")]) == 2
    assert ".png" in capsys.readouterr().err
    assert cli_main.main(["profile", "--checkpoint", str(tmp_path / "missing.pt")]) == 2
    assert cli_main.main(["profile", "--checkpoint", str(ckpt), "--batches", "0"]) == 2


def test_profile_of_a_converted_checkpoint(tmp_path, capsys, monkeypatch):
    """A converted (ANN -> SNN) checkpoint: its IF layers over T steps next to the source ANN."""
    from spikesmith.cli import convert as convert_cmd

    monkeypatch.setitem(cli_main.COMMANDS, "convert", convert_cmd)
    ann = tmp_path / "ann"
    assert cli_main.main(["train", "--dataset", "digits", "--ann", "--epochs", "1", "--train-subset", "64",
                          "--test-subset", "32", "--report", "false", "--out", str(ann)]) == 0
    assert cli_main.main(["convert", "--checkpoint", str(ann / "checkpoint.pt"), "--method", "robust", "--T", "6",
                          "--calib-samples", "32", "--test-samples", "32", "--no-plot", "--out", str(tmp_path / "c")]) == 0
    capsys.readouterr()
    conv = tmp_path / "c" / "converted_robust.pt"
    assert cli_main.main(["profile", "--checkpoint", str(conv), "--json", "--batch-size", "16"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["total"]["samples"] == 16 and doc["total"]["steps"] == 6
    spiking_inputs = [r for r in doc["rows"] if r.get("input") in ("spikes", "pooled spikes")]
    assert spiking_inputs and all(r["macs"] == 0 for r in spiking_inputs)
    assert doc["ann_twin"]["total"]["macs"] == pytest.approx(doc["total"]["dense_macs"])


def test_profile_of_the_event_driven_network_shows_density_and_path(ckpt, capsys):
    assert cli_main.main(["profile", "--checkpoint", str(ckpt), "--event-driven", "--batch-size", "16",
                          "--no-ann"]) == 0
    text = capsys.readouterr().out
    assert "event-driven" in text
    head = next(line for line in text.splitlines() if line.startswith("layer"))
    assert head.split()[-1] == "path"
    rows = [line.split() for line in text.splitlines() if line.split() and line.split()[1] in ("SparseLinear",
                                                                                            "Linear")]
    paths = {r[1]: r[-1] for r in rows}
    # the first Linear reads the encoded input (dense, no path); the one after the hidden neurons is sparse-able
    assert "SparseLinear" in paths and paths["SparseLinear"] in ("sparse", "dense", "mixed")
    assert cli_main.main(["profile", "--checkpoint", str(ckpt), "--event-driven", "--json", "--no-ann"]) == 0
    doc = json.loads(capsys.readouterr().out)
    by_module = {r["module"]: r for r in doc["rows"]}
    assert by_module["SparseLinear"]["path"] in ("sparse", "dense", "mixed")
    assert by_module["SparseLinear"]["rate"] is not None
    assert all(r["path"] is None for r in doc["rows"] if r["module"] != "SparseLinear")


def test_profile_without_event_driven_has_no_path_column(ckpt, capsys):
    assert cli_main.main(["profile", "--checkpoint", str(ckpt), "--batch-size", "16", "--no-ann"]) == 0
    head = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("layer"))
    assert "path" not in head.split()
