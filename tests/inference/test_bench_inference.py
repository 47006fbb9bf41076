"""bench/bench_inference.py end to end on a tiny trained checkpoint: it runs, and its last line has the
format the issue asks for."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from spikesmith.cli import main as cli_main
from spikesmith.kernels import sparse

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not sparse.available(), reason=f"sparse kernels: {sparse.unavailable_reason()}")


def test_bench_inference_last_line(tmp_path):
    out = tmp_path / "run"
    assert cli_main.main(["train", "--dataset", "digits", "--epochs", "1", "--train-subset", "64", "--test-subset",
                          "64", "--report", "false", "--out", str(out)]) == 0
    res = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_inference.py"), "--checkpoint",
                          str(out / "checkpoint.pt"), "--batch-size", "32", "--timed-batches", "1", "--repeats", "1",
                          "--no-compile"], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert res.returncode == 0, res.stderr[-3000:]
    lines = res.stdout.strip().splitlines()
    assert re.fullmatch(r"event_driven speed-up over dense eager: \d+\.\dx, identical predictions: \d+\.\d%",
                        lines[-1]), lines[-1]
    assert "identical predictions: 100.0%" in lines[-1]
    assert any(line.startswith("ReLU twin dense") for line in lines)
    table = lines[lines.index(next(line for line in lines if line.startswith("layer  module"))) + 1: -1]
    paths = {row.split()[0]: row.split()[3] for row in table if len(row.split()) == 8}
    assert paths and set(paths.values()) <= {"sparse", "dense", "mixed"}, table
