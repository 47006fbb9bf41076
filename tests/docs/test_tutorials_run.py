"""The tutorial scripts under docs/tutorials keep running: each ``main(['--quick', ...])`` finishes
in seconds, writes every figure its page embeds, and its printed facts still hold."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
import torch

TUTORIALS = Path(__file__).resolve().parents[2] / "docs" / "tutorials"

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")


def _load(name: str):
    path = TUTORIALS / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"tutorial_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _embedded_figures(name: str) -> set[str]:
    """The img/*.png files the tutorial's Markdown page embeds."""
    page = (TUTORIALS / f"{name}.md").read_text(encoding="utf-8")
    return set(re.findall(r"\(img/([\w.-]+\.png)\)", page))


def _run(name: str, tmp_path: Path) -> dict:
    threads = torch.get_num_threads()
    try:
        results = _load(name).main(["--quick", "--out", str(tmp_path)])
    finally:
        torch.set_num_threads(threads)              # the scripts run on one thread; give the rest back
    embedded = _embedded_figures(name)
    assert embedded, f"{name}.md embeds no figure"
    written = {p.name for p in tmp_path.glob("*.png") if p.stat().st_size > 0}
    assert embedded <= written, f"{name}.py did not write {sorted(embedded - written)}"
    return results


def test_liquid_state_machine_tutorial(tmp_path):
    results = _run("liquid_state_machine", tmp_path)
    assert all(pair["sign_ok"] for pair in results["wiring"].values())       # Dale's law
    assert sum(pair["share"] for pair in results["wiring"].values()) == pytest.approx(1.0)
    assert results["memory_capacity"] > 0
    assert all(0.0 <= acc <= 1.0 for _, acc, _ in results["recall"])


def test_spiking_lstm_tutorial(tmp_path):
    results = _run("spiking_lstm", tmp_path)
    assert set(results["single_vs_multi"].values()) == {0.0}                 # one step function
    assert results["reset"]["differs_after_reset"] == 0.0
    assert results["phased"]["state_moves_phased"] < results["phased"]["state_moves_plain"]
    assert len(results["training"]) == 4


def test_spiking_dbn_tutorial(tmp_path):
    results = _run("spiking_dbn", tmp_path)
    assert results["rbm"]["recon_error_end"] < results["rbm"]["recon_error_start"]
    assert len(results["snn"]["direct"]) == len(results["snn"]["T"])
    assert results["event_cd"]["recon_last"] < results["event_cd"]["recon_first"]


def test_spike_timing_rules_tutorial(tmp_path):
    results = _run("spike_timing_rules", tmp_path)
    facts = results["metrics"]
    assert facts["vp_move"] == pytest.approx(0.5) and facts["vp_insert"] == 2.0 and facts["vp_far"] == 2.0
    assert facts["vr_one_vs_none"] == pytest.approx(1.0)
    assert facts["alignment"]["pairs"] == ((0, 0), (2, 2))
    assert set(results["training"]) == {"ReSuMe", "Chronotron E", "Chronotron I", "SPAN"}
    for rule in results["training"].values():
        assert rule["vp"][1] <= 0.1 * rule["vp"][0] and rule["matched"]           # the quick run learns too


def test_online_training_tutorial(tmp_path):
    results = _run("online_training", tmp_path)
    assert results["gradient"]["max_abs_error"] < 1e-12 < results["gradient"]["trace_vs_plain"]
    memory = results["memory"]
    assert memory["BPTT"][-1] > 2 * memory["BPTT"][0]                      # grows with T
    for name in ("OTTT", "SLTT", "SLTT-1"):
        assert memory[name][-1] <= 1.05 * memory[name][0]                   # does not
    assert set(results["training"]) == {"BPTT", "OTTT", "SLTT", "SLTT-1"}
def test_spiking_transformer_tutorial(tmp_path):
    results = _run("spiking_transformer", tmp_path)
    assert set(results["single_vs_multi"].values()) == {0.0}                 # one step function
    costs, tokens = results["costs"], results["costs"]["tokens"]
    ssa = costs["SSA"]["products"]
    assert ssa[-1] / ssa[0] == pytest.approx((tokens[-1] / tokens[0]) ** 2)  # SSA: L^2
    for name in ("SDSA", "QK token", "QK channel"):
        assert set(costs[name]["products"]) == {0.0}                         # no products of two tensors
        assert costs[name]["masks"][-1] / costs[name]["masks"][0] == pytest.approx(tokens[-1] / tokens[0])
    assert "no export target runs it" in results["export"]
    training = results["training"]
    assert training["SDT (SDSA)"]["attention_macs"] == 0 < training["SDT with SSA"]["attention_macs"]
    assert training["Spikformer, identity attention"]["attention_macs"] == 0
