"""Every probe in this folder in one table: the reliability table of issue 14's closing note.

    python bench/reliability/run_all.py                 # all probes
    python bench/reliability/run_all.py --only files    # categories whose name contains "files"
    python bench/reliability/run_all.py --json out.json

Each ``probe_*.py`` module defines ``cases()``; see ``harness.py`` for how a case ends.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402


def all_cases() -> list[harness.Case]:
    cases: list[harness.Case] = []
    for path in sorted(HERE.glob("probe_*.py")):
        module = importlib.import_module(path.stem)
        cases += module.cases()
    return cases


if __name__ == "__main__":
    harness.main(all_cases)
