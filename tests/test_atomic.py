"""The one atomic writer: complete files or none, the old file kept on failure, no temp left behind;
file and folder fsynced, the umask respected, temporary files of killed writers removed."""

from __future__ import annotations

import csv
import json
import os
import stat
import time

import pytest

from spikesmith import atomic


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_text_write_creates_parent_and_leaves_only_the_file(tmp_path):
    path = tmp_path / "a" / "b" / "note.txt"
    assert atomic.write_text(path, "héllo\n") == path
    assert path.read_text(encoding="utf-8") == "héllo\n"
    assert _names(path.parent) == ["note.txt"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~atomic.current_umask()


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


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_the_umask_decides_the_mode(tmp_path, umask):
    # mkstemp makes 0600 whatever the umask; a file written here gets what open() would give it
    old = os.umask(umask)
    try:
        assert atomic.current_umask() == umask
        atomic.write_text(tmp_path / "a.txt", "x")
        with open(tmp_path / "plain.txt", "w") as f:
            f.write("x")
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "a.txt").stat().st_mode)
    assert mode == 0o666 & ~umask == stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode)


def test_file_and_folder_are_fsynced(tmp_path, monkeypatch):
    synced = []
    real = os.fsync

    def record(fd):
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real(fd)

    monkeypatch.setattr(os, "fsync", record)
    atomic.write_text(tmp_path / "a.txt", "x")
    assert synced == [False, True]                  # the file before the rename, then its folder


def test_stale_temp_files_are_removed_and_a_fresh_one_kept(tmp_path):
    target = tmp_path / "checkpoint.pt"
    stale = tmp_path / ".checkpoint.pt.k1ll3d.tmp"          # a writer killed a while ago
    fresh = tmp_path / ".checkpoint.pt.busy42.tmp"          # another writer, still at work
    other = tmp_path / ".log.csv.old123.tmp"                # another target's: not ours to judge
    for path in (stale, fresh, other):
        path.write_bytes(b"half")
    old = time.time() - atomic.STALE_TEMP_S - 5
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    atomic.write_text(target, "x")
    assert _names(tmp_path) == sorted([".checkpoint.pt.busy42.tmp", ".log.csv.old123.tmp", "checkpoint.pt"])


def test_a_target_name_with_glob_characters_removes_only_its_own_temps(tmp_path):
    old = time.time() - atomic.STALE_TEMP_S - 5
    mine, near = tmp_path / ".r[1].pt.abc.tmp", tmp_path / ".r1.pt.abc.tmp"
    for path in (mine, near):
        path.write_bytes(b"")
        os.utime(path, (old, old))
    atomic.write_text(tmp_path / "r[1].pt", "x")
    assert _names(tmp_path) == sorted([".r1.pt.abc.tmp", "r[1].pt"])
