"""The one atomic writer: complete files or none, the old file kept on failure, no temp left behind."""

from __future__ import annotations

import csv
import json
import stat

import pytest

from spikesmith import atomic


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_text_write_creates_parent_and_leaves_only_the_file(tmp_path):
    path = tmp_path / "a" / "b" / "note.txt"
    assert atomic.write_text(path, "héllo\n") == path
    assert path.read_text(encoding="utf-8") == "héllo\n"
    assert _names(path.parent) == ["note.txt"]
    assert stat.S_IMODE(path.stat().st_mode) == atomic.PERMISSIONS


def test_failure_inside_the_block_keeps_the_old_file(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic.atomic_write(path) as f:
            f.write(b"half")
            raise RuntimeError("boom")
    assert path.read_bytes() == b"old" and _names(tmp_path) == ["x.bin"]


def test_check_refuses_content_before_the_rename(tmp_path):
    path = tmp_path / "download.gz"

    def check(tmp):
        assert tmp.read_bytes() == b"not gzip"
        raise ValueError("not a gzip file")

    with pytest.raises(ValueError, match="not a gzip file"):
        with atomic.atomic_write(path, suffix=".download", check=check) as f:
            f.write(b"not gzip")
    assert _names(tmp_path) == []


def test_json_and_csv_round_trip(tmp_path):
    atomic.write_json(tmp_path / "m.json", {"acc": 0.5, "path": tmp_path})
    assert json.loads((tmp_path / "m.json").read_text()) == {"acc": 0.5, "path": str(tmp_path)}
    atomic.write_csv(tmp_path / "log.csv", [{"epoch": 1, "loss": 2.0}, {"epoch": 2, "acc": 0.7}])
    rows = list(csv.DictReader((tmp_path / "log.csv").open()))
    assert rows == [{"epoch": "1", "loss": "2.0", "acc": ""}, {"epoch": "2", "loss": "", "acc": "0.7"}]


def test_bad_mode_and_folder_target_are_refused(tmp_path):
    with pytest.raises(ValueError, match="mode must be 'wb' or 'w'"):
        with atomic.atomic_write(tmp_path / "f", "a"):
            pass
    with pytest.raises(IsADirectoryError, match="existing folder"):
        atomic.write_text(tmp_path, "x")
