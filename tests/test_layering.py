"""The import rules of docs/design.md, checked: what each package may import from spikesmith.

The table below is the design note's table. A package importing anything not listed fails with the
file and the line, so a new dependency is a decision written here (and in docs/design.md), not an
accident. Cycles between packages are refused outright.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "spikesmith"

# the bottom: shared by everything, importing nothing of ours
BASE = {"registry", "typeregistry", "atomic", "_config", "checksum", "checkpoint_checks", "reset_check",
        "__version__"}

# package -> the spikesmith packages it may import (besides itself and BASE)
ALLOWED: dict[str, set[str]] = {
    "registry": set(), "atomic": set(), "_config": set(), "typeregistry": set(),
    "checksum": set(), "checkpoint_checks": set(), "reset_check": set(),
    "dynamics": set(),
    "surrogate": set(),
    "kernels": {"dynamics", "surrogate"},
    "module": set(),
    "neuron": {"dynamics", "surrogate", "kernels", "module"},
    "layer": {"dynamics", "module", "neuron"},
    "functional": {"module", "neuron", "layer"},
    "monitor": {"module", "neuron", "functional"},
    "viz": set(),
    "encoding": set(),
    "metrics": set(),
    "events": {"viz"},
    "data": {"events", "encoding"},
    "learning": {"dynamics", "module", "neuron", "layer", "functional", "monitor", "metrics"},
    "models": {"dynamics", "module", "neuron", "layer", "functional", "learning", "surrogate", "encoding"},
    "conversion": {"module", "neuron", "layer", "functional", "models"},
    "inference": {"kernels", "neuron", "layer", "functional"},
    "analysis": {"module", "neuron", "layer", "functional", "models", "conversion", "monitor", "viz"},
    "export": {"module", "neuron", "layer", "functional", "models", "conversion", "dynamics", "surrogate"},
    "compat": {"dynamics", "module", "neuron", "layer", "functional", "surrogate", "monitor", "viz"},
    "training": {"module", "neuron", "layer", "functional", "kernels", "models", "data", "encoding",
                 "viz", "monitor"},
    "run": {"module", "neuron", "layer", "functional", "kernels", "models", "data", "encoding", "viz",
            "monitor", "training", "learning", "conversion", "events", "analysis"},
    "loading": {"module", "neuron", "layer", "functional", "models", "conversion", "learning",
                "training", "run"},
}
# the top: the command line and the package root may import anything
TOP = {"cli", "__init__", "__main__"}


def _package_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path):
    """(line, imported top-level spikesmith package) for every import in ``path``."""
    module = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if module[-1] == "__init__":
        module = module[:-1]
    else:
        module = module[:-1]          # the package the file is in
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = module[: len(module) - node.level + 1]
                names = (base + node.module.split(".")) if node.module else None
                targets = [names] if names else [base + [a.name] for a in node.names]
            elif node.module and node.module.split(".")[0] == "spikesmith":
                targets = [node.module.split(".")]
            else:
                continue
        elif isinstance(node, ast.Import):
            targets = [a.name.split(".") for a in node.names if a.name.split(".")[0] == "spikesmith"]
        else:
            continue
        for target in targets:
            if len(target) >= 2 and target[0] == "spikesmith":
                yield node.lineno, target[1]


def _graph() -> dict[str, dict[str, list[str]]]:
    graph: dict[str, dict[str, list[str]]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _package_of(path)
        for line, target in _imports(path):
            if target != source:
                graph.setdefault(source, {}).setdefault(target, []).append(
                    f"{path.relative_to(PACKAGE.parent)}:{line}")
    return graph


def test_every_package_is_in_the_table():
    packages = {p.name.removesuffix(".py") for p in PACKAGE.iterdir()
                if (p.is_dir() and (p / "__init__.py").exists()) or p.suffix == ".py"}
    missing = packages - set(ALLOWED) - TOP
    assert not missing, f"packages without import rules (add them to ALLOWED and docs/design.md): {sorted(missing)}"


def test_packages_import_only_what_the_design_allows():
    problems = []
    for source, targets in _graph().items():
        if source in TOP:
            continue
        allowed = ALLOWED[source] | BASE
        for target, where in sorted(targets.items()):
            if target not in allowed:
                problems.append(f"{source} imports {target} ({', '.join(where[:3])})")
    assert not problems, "imports the design forbids:\n" + "\n".join(problems)


def test_no_import_cycle_between_packages():
    graph = {s: set(t) - TOP for s, t in _graph().items() if s not in TOP}
    visiting, done = set(), set()

    def visit(node, path):
        if node in visiting:
            cycle = path[path.index(node):] + [node]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if node in done:
            return
        visiting.add(node)
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, path + [node])
        visiting.discard(node)
        done.add(node)

    for node in sorted(graph):
        visit(node, [])


def test_the_checker_sees_a_forbidden_import(tmp_path, monkeypatch):
    # the check itself can fail: a dynamics file importing neuron is reported
    fake = tmp_path / "spikesmith"
    (fake / "dynamics").mkdir(parents=True)
    (fake / "dynamics" / "__init__.py").write_text("from ..neuron import LIFNode\n")
    (fake / "neuron").mkdir()
    (fake / "neuron" / "__init__.py").write_text("from ..dynamics import x\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", fake, raising=False)
    globals()["PACKAGE"] = fake
    try:
        with pytest.raises(AssertionError, match="dynamics imports neuron"):
            test_packages_import_only_what_the_design_allows()
    finally:
        globals()["PACKAGE"] = Path(__file__).resolve().parents[1] / "src" / "spikesmith"


def _design_table() -> dict[str, set[str]]:
    """The package table of docs/design.md: package -> the packages its row says it may import."""
    import re

    text = (PACKAGE.parents[1] / "docs" / "design.md").read_text()
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].startswith("`") or cells[2] == "anything":
            continue
        names = [n.rstrip("/").removesuffix(".py") for n in re.findall(r"`([^`]+)`", cells[0])]
        may = {n.rstrip("/") for n in re.findall(r"`([^`]+)`", cells[2])}
        for name in names:
            rows[name] = may
    return rows


def test_the_design_note_states_the_same_rules():
    table = _design_table()
    assert table, "docs/design.md has no package table"
    documented = {name: table.get(name) for name in ALLOWED if name != "loading" or name in table}
    missing = sorted(name for name, may in documented.items() if may is None)
    assert not missing, f"packages in tests/test_layering.py without a row in docs/design.md: {missing}"
    differ = {name: (sorted(table[name]), sorted(ALLOWED[name])) for name in documented
              if table[name] != ALLOWED[name]}
    assert not differ, f"docs/design.md and tests/test_layering.py disagree (doc, test): {differ}"
