"""Helpers for the viz tests: read a written PNG back and check nothing was left behind."""

from __future__ import annotations

from pathlib import Path

import pytest

PIL_Image = pytest.importorskip("PIL.Image")
pytest.importorskip("matplotlib")


def _read_png(path) -> tuple[int, int]:
    """(width, height) of the PNG at ``path`` after checking it exists, is non-empty and decodes."""
    path = Path(path)
    assert path.is_file(), f"{path} was not written"
    assert path.stat().st_size > 0
    with PIL_Image.open(path) as im:
        assert im.format == "PNG"
        im.load()  # decodes the whole image: a truncated file fails here
        width, height = im.size
    assert width > 0 and height > 0
    leftovers = [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert not leftovers, f"temporary files left next to {path.name}: {leftovers}"
    return width, height


@pytest.fixture
def read_png():
    return _read_png
