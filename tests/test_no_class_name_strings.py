"""export/ and analysis/ ask a layer what it is through types (``spikesmith.typeregistry``), never by name.

A class name in a string (``"ConvertedSNN"``, ``"FCSNN.forward"``) or a comparison with ``__name__`` /
``__qualname__`` is a hidden import that breaks on the next rename; the checker below finds both, and
is shown to find them in planted code.
"""

import ast
from pathlib import Path

import spikesmith

PACKAGE = Path(spikesmith.__file__).parent
CHECKED = ("export", "analysis")
NAME_ATTRS = ("__name__", "__qualname__")


def spikesmith_class_names() -> set[str]:
    names = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef):
                names.add(node.name)
    return names


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def _all_lists(tree: ast.AST) -> set[int]:
    """The string constants of ``__all__ = [...]``: exported names, not comparisons."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                out |= {id(c) for c in ast.walk(node.value) if isinstance(c, ast.Constant)}
    return out


def _annotations(tree: ast.AST) -> set[int]:
    """The string constants of type annotations (``-> "Profile"``): forward references, not comparisons."""
    notes = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            notes.append(node.returns)
        elif isinstance(node, ast.arg):
            notes.append(node.annotation)
        elif isinstance(node, ast.AnnAssign):
            notes.append(node.annotation)
    return {id(c) for n in notes if n is not None for c in ast.walk(n) if isinstance(c, ast.Constant)}


def _reads_name(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute) and node.attr in NAME_ATTRS:
        return True
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
            and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and node.args[1].value in NAME_ATTRS)


def class_name_uses(source: str, class_names: set[str], filename: str = "<source>") -> list[str]:
    """``file:line: what`` for every string naming a class (``"X"`` or ``"X.attr"``) and every
    comparison of a ``__name__`` / ``__qualname__``; docstrings, ``__all__`` and annotations are not uses."""
    tree = ast.parse(source, filename)
    skip = _docstrings(tree) | _all_lists(tree) | _annotations(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            head = node.value.split(".")[0]
            dotted = node.value.count(".") and all(p.isidentifier() for p in node.value.split("."))
            if node.value in class_names or (dotted and head in class_names):
                found.append(f"{filename}:{node.lineno}: the string {node.value!r} names a class")
        if isinstance(node, ast.Compare) and any(_reads_name(n) for n in [node.left, *node.comparators]):
            found.append(f"{filename}:{node.lineno}: compares a class's __name__/__qualname__")
    return sorted(found, key=lambda f: int(f.split(":")[-2]))


def test_export_and_analysis_name_no_class_in_a_string():
    names = spikesmith_class_names()
    assert {"ConvertedSNN", "IntegratorNode", "FCSNN", "GatedMaxPool", "QCFS"} <= names
    found = []
    for sub in CHECKED:
        for path in sorted((PACKAGE / sub).rglob("*.py")):
            found += class_name_uses(path.read_text(), names, str(path.relative_to(PACKAGE)))
    assert found == [], "ask a layer what it is through a TypeRegistry or isinstance:\n" + "\n".join(found)


def test_the_checker_finds_planted_names():
    names = {"ConvertedSNN", "FCSNN", "IntegratorNode"}
    planted = '''
"""A docstring naming ConvertedSNN is fine."""
__all__ = ["FCSNN"]
def f(model, m: "FCSNN") -> "IntegratorNode":
    """IntegratorNode"""
    a = type(model).__name__ == "ConvertedSNN"
    b = getattr(type(m).forward, "__qualname__", "") in {"FCSNN.forward"}
    c = m.__class__.__qualname__ != x
    d = "IntegratorNode"
    e = "integrator node"          # not a class name
    return f"{a} FCSNN"            # part of a message, not equal to a name
'''
    found = class_name_uses(planted, names)
    assert [f.split(":")[1] for f in found] == ["6", "6", "7", "7", "8", "9"], found
    assert any("'ConvertedSNN' names a class" in f for f in found)
    assert any("'FCSNN.forward' names a class" in f for f in found)
    assert found[-1] == "<source>:9: the string 'IntegratorNode' names a class"
    assert class_name_uses('x = "conv"\ny = "Linear.weight"\n', {"Linear"}) == [
        "<source>:2: the string 'Linear.weight' names a class"]
