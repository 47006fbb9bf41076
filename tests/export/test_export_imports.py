"""export/ has no import cycle: its modules form a layered graph (issues, neurons, ops, targets at the
bottom; check, approximate, quantize; the pipeline; the targets nirgraph and lava on top), so any
module can be read, imported and changed without the others it does not name.

Every import counts, including those inside functions (a deferred import hides a cycle, it does not
remove it); ``__init__`` gathers the public names and is left out."""

import ast
from pathlib import Path

import spikesmith.export

PACKAGE = "spikesmith.export"
FOLDER = Path(spikesmith.export.__file__).parent


def export_imports(source: str, names: set[str]) -> set[str]:
    """The modules of ``names`` (export/'s, without the package prefix) that ``source`` imports."""
    out = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                base = node.module
            elif node.level == 0 and (node.module or "").startswith(PACKAGE + "."):
                base = node.module[len(PACKAGE) + 1:]
            elif node.level == 0 and node.module == PACKAGE or node.level == 1 and node.module is None:
                base = None
            else:
                continue
            if base is None:                              # from . import x / from spikesmith.export import x
                out |= {a.name for a in node.names if a.name in names}
            else:
                out.add(base.split(".")[0])
        elif isinstance(node, ast.Import):
            out |= {a.name[len(PACKAGE) + 1:].split(".")[0] for a in node.names if a.name.startswith(PACKAGE + ".")}
    return out & names


def import_graph(sources: dict[str, str]) -> dict[str, set[str]]:
    names = set(sources)
    return {name: export_imports(text, names) - {name} for name, text in sources.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (as a path that returns to its start) per strongly connected knot, found depth first."""
    found, state = [], {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_export_modules_have_no_import_cycle():
    sources = {p.stem: p.read_text() for p in sorted(FOLDER.glob("*.py")) if p.stem != "__init__"}
    assert {"check", "lava", "nirgraph", "approximate", "pipeline", "targets"} <= set(sources)
    graph = import_graph(sources)
    assert cycles(graph) == [], "\n".join(" -> ".join(c) for c in cycles(graph))
    assert "lava" not in graph["check"] and "nirgraph" not in graph["lava"]


def test_the_cycle_finder_finds_planted_cycles():
    planted = {
        "a": "from .b import x\n",
        "b": "def f():\n    from spikesmith.export.c import y\n",   # deferred: still an import
        "c": "from . import a\nimport numpy\n",
        "d": "from .a import z\nfrom ..neuron import LIFNode\n",
    }
    graph = import_graph(planted)
    assert graph == {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
