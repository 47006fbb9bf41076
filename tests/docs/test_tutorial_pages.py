"""The tutorial runner behind the documentation site (scripts/tutorial_pages.py): cells, outputs,
figures, failures named, and every tutorial under docs/tutorials in a shape the site can render."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TUTORIALS = ROOT / "docs" / "tutorials"


def _runner():
    spec = importlib.util.spec_from_file_location("tutorial_pages", ROOT / "scripts" / "tutorial_pages.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


tp = _runner()


def test_cells_are_split_and_markdown_loses_its_comment_marks():
    cells = tp.parse_cells("# %% [markdown]\n# # Title\n#\n# text *here*\n\n# %%\nx = 1\nprint(x)\n")
    assert [c.kind for c in cells] == ["markdown", "code"]
    assert cells[0].source == "# Title\n\ntext *here*"
    assert cells[1].source == "x = 1\nprint(x)"
    assert cells[1].line == 7                                     # 1-based line of the code's first line


def test_code_before_the_first_marker_and_a_markdown_line_that_is_not_a_comment_are_refused():
    with pytest.raises(tp.TutorialError, match="line 1: code before the first"):
        tp.parse_cells("import os\n# %%\nx = 1\n")
    with pytest.raises(tp.TutorialError, match="line 3: a Markdown cell holds a line that is not a comment"):
        tp.parse_cells("# %% [markdown]\n# fine\nnot a comment\n")


def test_a_page_shows_code_output_and_figures(tmp_path):
    pytest.importorskip("matplotlib")
    script = tmp_path / "demo.py"
    script.write_text("# %% [markdown]\n# # Demo\n\n# %%\nprint('hello', 6 * 7)\n\n# %%\n"
                      "import matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0])\n", encoding="utf-8")
    result = tp.build_percent_page(script, tmp_path / "out")
    page = (tmp_path / "out" / "demo.md").read_text(encoding="utf-8")
    assert "```text\nhello 42\n```" in page
    assert result["figures"] == ["demo_1.png"]
    assert "![figure demo_1.png](demo_files/demo_1.png)" in page
    assert (tmp_path / "out" / "demo_files" / "demo_1.png").stat().st_size > 0


def test_a_failing_cell_is_named_with_its_line(tmp_path):
    script = tmp_path / "broken.py"
    script.write_text("# %% [markdown]\n# # Broken\n\n# %%\nx = 1\n\n# %%\n1 / 0\n", encoding="utf-8")
    with pytest.raises(tp.TutorialError, match=r"broken.py: the code cell at line 8 failed: ZeroDivisionError"):
        tp.build_percent_page(script, tmp_path / "out")
    assert not (tmp_path / "out" / "broken.md").exists()        # no half-written page


def test_a_page_must_start_with_a_title(tmp_path):
    script = tmp_path / "untitled.py"
    script.write_text("# %%\nx = 1\n", encoding="utf-8")
    with pytest.raises(tp.TutorialError, match="first cell must be Markdown starting with a '# Title'"):
        tp.build_percent_page(script, tmp_path / "out")


def test_quick_follows_the_environment(monkeypatch):
    monkeypatch.setenv(tp.QUICK_ENV, "1")
    assert tp.quick()
    monkeypatch.setenv(tp.QUICK_ENV, "0")
    assert not tp.quick()


@pytest.mark.parametrize("script", sorted(TUTORIALS.glob("*.py")), ids=lambda p: p.name)
def test_every_tutorial_is_a_percent_page_or_a_script_with_its_page(script):
    if tp.is_percent_script(script):
        cells = tp.parse_cells(script.read_text(encoding="utf-8"))
        assert cells[0].kind == "markdown" and cells[0].source.startswith("# ")
        assert any(c.kind == "code" for c in cells)
    else:
        assert script.with_suffix(".md").is_file(), f"{script.name} is neither a percent-format page nor has a page"
        assert "--quick" in script.read_text(encoding="utf-8"), f"{script.name} needs a --quick mode for the docs build"
