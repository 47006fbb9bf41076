"""Run a tutorial script and turn it into a Markdown page with what it printed and drew.

A tutorial is a Python script in the percent format (as jupytext writes it): cells start with a
line ``# %%``; a cell headed ``# %% [markdown]`` holds Markdown, written as comment lines. Every
code cell runs in turn in one namespace; the page shows the code, then what the cell printed, then
every matplotlib figure the cell left open (saved as PNG beside the page and closed).

    python scripts/tutorial_pages.py docs/tutorials/neurons.py --out /tmp/page   # writes neurons.md + figures

The environment variable ``SPIKESMITH_DOCS_QUICK=1`` asks a tutorial for its smallest settings (the
tutorial reads it through :func:`quick`); the documentation build's fast variant sets it.

A script that is not in the percent format but has its own Markdown page beside it (``X.py`` and
``X.md``) is run as a program at its small settings (``python X.py --quick --out DIR``; the page's
own text holds the figures of its full run); its page gets a closing section with the command, the
run time, what it printed and the figures it wrote.

Any failure (an exception in a cell, a non-zero exit) raises :class:`TutorialError` naming the
tutorial and the cell, so a tutorial that breaks breaks the build.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

QUICK_ENV = "SPIKESMITH_DOCS_QUICK"
CELL_MARK = re.compile(r"^# %%(?P<rest>.*)$")


class TutorialError(RuntimeError):
    """A tutorial failed to run; the message names the tutorial, the cell and the error."""


def quick() -> bool:
    """True when the build asks tutorials for their smallest settings (``SPIKESMITH_DOCS_QUICK=1``)."""
    return os.environ.get(QUICK_ENV, "0") not in ("", "0", "false", "False")


@dataclass
class Cell:
    kind: str                      # 'markdown' or 'code'
    source: str
    line: int                      # 1-based line of the cell's first source line in the script
    output: str = ""
    figures: list[str] = field(default_factory=list)


def is_percent_script(path: Path) -> bool:
    """A percent-format tutorial: its first non-empty line is a ``# %%`` cell marker."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            return bool(CELL_MARK.match(line.strip()))
    return False


def parse_cells(text: str) -> list[Cell]:
    """Split a percent-format script into cells; Markdown cells lose their leading ``# ``."""
    cells: list[Cell] = []
    kind, lines, start = None, [], 1
    for number, line in enumerate(text.splitlines(), 1):
        mark = CELL_MARK.match(line)
        if mark:
            if kind is not None:
                cells.append(_finish(kind, lines, start))
            kind = "markdown" if "[markdown]" in mark.group("rest") else "code"
            lines, start = [], number + 1
        elif kind is None:
            if line.strip():
                raise TutorialError(f"line {number}: code before the first '# %%' cell marker")
        else:
            lines.append(line)
    if kind is not None:
        cells.append(_finish(kind, lines, start))
    return [c for c in cells if c.source.strip()]


def _finish(kind: str, lines: list[str], start: int) -> Cell:
    if kind == "markdown":
        body = []
        for offset, line in enumerate(lines):
            if line.strip() and not line.startswith("#"):
                raise TutorialError(f"line {start + offset}: a Markdown cell holds a line that is not a comment")
            body.append(line[2:] if line.startswith("# ") else line[1:])
        return Cell(kind, "\n".join(body).strip("\n"), start)
    return Cell(kind, "\n".join(lines).strip("\n"), start)


def run_cells(script: Path, cells: list[Cell], figure_dir: Path, stem: str) -> None:
    """Execute the code cells in one namespace, recording output and figures on each cell."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.close("all")
    figure_dir.mkdir(parents=True, exist_ok=True)
    namespace = {"__name__": "__tutorial__", "__file__": str(script)}
    count = 0
    for index, cell in enumerate(cells):
        if cell.kind != "code":
            continue
        buffer, errors = io.StringIO(), io.StringIO()      # stderr (progress bars) is not shown
        code = compile("\n" * (cell.line - 1) + cell.source, str(script), "exec")
        try:
            with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(errors):
                exec(code, namespace)                                  # noqa: S102 - the tutorial is ours
        except Exception as err:
            raise TutorialError(
                f"{script.name}: the code cell at line {cell.line} failed: {type(err).__name__}: {err}\n"
                + traceback.format_exc(limit=-3)) from err
        cell.output = buffer.getvalue()
        for number in plt.get_fignums():
            count += 1
            name = f"{stem}_{count}.png"
            plt.figure(number).savefig(figure_dir / name, dpi=110, bbox_inches="tight")
            cell.figures.append(name)
        plt.close("all")


def render(cells: list[Cell], figure_prefix: str, footer: str = "") -> str:
    parts = []
    for cell in cells:
        if cell.kind == "markdown":
            parts.append(cell.source)
            continue
        parts.append(f"```python\n{cell.source}\n```")
        if cell.output.strip():
            parts.append(f"```text\n{cell.output.rstrip()}\n```")
        parts.extend(f"![figure {name}]({figure_prefix}{name})" for name in cell.figures)
    if footer:
        parts.append(footer)
    return "\n\n".join(parts) + "\n"


def build_percent_page(script: Path, out: Path) -> dict:
    """Run a percent-format tutorial; write ``<stem>.md`` and its figures under ``out``."""
    stem = script.stem
    cells = parse_cells(script.read_text(encoding="utf-8"))
    if not cells or cells[0].kind != "markdown" or not cells[0].source.lstrip().startswith("# "):
        raise TutorialError(f"{script.name}: the first cell must be Markdown starting with a '# Title' line")
    start = time.perf_counter()
    run_cells(script, cells, out / f"{stem}_files", stem)
    seconds = time.perf_counter() - start
    footer = (f"---\n\n*This page was produced by running `docs/tutorials/{script.name}` during the "
              f"documentation build ({'smallest settings' if quick() else 'standard settings'}): "
              f"{seconds:.1f} s.*")
    page = render(cells, f"{stem}_files/", footer)
    _write(out / f"{stem}.md", page)
    return {"tutorial": script.name, "seconds": seconds,
            "figures": [f for c in cells for f in c.figures]}


def run_script_with_page(script: Path, out: Path, python: str = sys.executable, timeout: float = 900) -> dict:
    """Run a script that has its own page (``python X.py [--quick] --out DIR``); return what it printed."""
    figure_dir = out / f"{script.stem}_files"
    figure_dir.mkdir(parents=True, exist_ok=True)
    # always its --quick settings: the page's own text gives the figures of the full run (minutes each)
    command = [python, str(script), "--quick", "--out", str(figure_dir)]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as err:
        raise TutorialError(f"{script.name}: still running after {timeout:.0f} s") from err
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise TutorialError(f"{script.name} exited with {done.returncode}:\n{done.stderr[-3000:]}")
    figures = sorted(p.name for p in figure_dir.glob("*.png"))
    return {"tutorial": script.name, "seconds": seconds, "figures": figures, "stdout": done.stdout}


def script_footer(result: dict) -> str:
    """The closing section of a script-with-page tutorial: the build's own run of it."""
    stem = Path(result["tutorial"]).stem
    flag = " --quick"
    lines = ["## This page's script, run during the documentation build", "",
             f"`python docs/tutorials/{result['tutorial']}{flag}` ran in {result['seconds']:.1f} s and printed:",
             "", "```text", result["stdout"].rstrip() or "(nothing)", "```", ""]
    if result["figures"]:
        lines.append("The figures of that run:")
        for name in result["figures"]:
            lines += ["", f"![{name}]({stem}_files/{name})"]
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> None:
    """Write through a temp file and a rename, so no half-written page is left behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("script", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="folder for the page and its figures")
    parser.add_argument("--quick", action="store_true", help=f"smallest settings (sets {QUICK_ENV}=1)")
    args = parser.parse_args(argv)
    if args.quick:
        os.environ[QUICK_ENV] = "1"
    if not args.script.is_file():
        parser.error(f"no such tutorial: {args.script}")
    if is_percent_script(args.script):
        result = build_percent_page(args.script, args.out)
    else:
        result = run_script_with_page(args.script, args.out)
        _write(args.out / f"{args.script.stem}.footer.md", script_footer(result))
        result.pop("stdout")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
