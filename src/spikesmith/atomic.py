"""Atomic file writes, the one implementation the whole package uses.

Everything the project writes (checkpoints, metrics, logs, reports, plots, caches, event files,
downloads) goes to a temporary file in the target's folder (``.NAME.<random>.tmp``), is flushed and
fsynced, and is then renamed over the target; the folder is fsynced after the rename, so the new
name survives a power cut. A reader sees the old file (or none) or the complete new one, never half
of one; a write that fails leaves the target untouched and removes its temporary file.

The new file gets the mode a plain ``open`` gives (``MODE`` under the process's umask), not the
0600 of ``mkstemp``. A temporary file that a killed process left behind (one of the target's
``.NAME.*.tmp`` siblings untouched for ``STALE_TEMP_S`` seconds) is removed at the next write of
that target; a younger one may be another writer's, still in progress, and is kept.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import glob
import json
import os
import tempfile
import time
from pathlib import Path
from typing import IO, Any, Callable, Iterator, Optional

MODE = 0o666
"""Mode of every file written before the umask, as a plain ``open`` (``mkstemp`` alone makes 0600)."""

STALE_TEMP_S = 60.0
"""A temporary sibling of the target untouched this long was left by a killed writer: removed at the next write."""


def current_umask() -> int:
    """The process's umask (read from /proc where it can be, without changing it; else set and restored)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def remove_stale_temps(target: Path, suffix: str = ".tmp", older_than: float = STALE_TEMP_S) -> list[Path]:
    """Remove the ``.NAME.*SUFFIX`` siblings of ``target`` untouched for ``older_than`` seconds; return them.

    Younger ones may belong to a writer still at work and are kept; one that vanishes meanwhile
    (another process cleaning up) or cannot be removed is skipped.
    """
    removed = []
    now = time.time()
    for tmp in target.parent.glob(f".{glob.escape(target.name)}.*{glob.escape(suffix)}"):
        with contextlib.suppress(OSError):
            if tmp.is_file() and not tmp.is_symlink() and now - tmp.stat().st_mtime > older_than:
                tmp.unlink()
                removed.append(tmp)
    return removed


def fsync_folder(folder: Path) -> None:
    """fsync a folder, so that a rename in it is on disk; where folders cannot be fsynced, nothing."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:            # a platform without folder handles (Windows): the rename is all it has
        return
    try:
        os.fsync(fd)
    except OSError as err:
        if err.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF, errno.EACCES):
            raise
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", encoding: Optional[str] = None,
                 newline: Optional[str] = None, suffix: str = ".tmp",
                 check: Optional[Callable[[Path], None]] = None) -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; when the block ends without error, rename it to ``path``.

    ``mode`` is ``"wb"`` (binary) or ``"w"`` (text, UTF-8 unless ``encoding`` says otherwise). The parent
    folder is created when missing. ``check``, if given, is called with the temporary file's path once it
    is complete and before the rename: it raises to refuse the content (a download that is not what it
    claims), and the target is then left as it was.

    Example::

        with atomic_write("runs/a/log.txt", "w") as f:
            f.write("epoch 1\\n")
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write writes whole files: mode must be 'wb' or 'w', got {mode!r}")
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(f"cannot write {str(target)!r}: it is an existing folder; give a file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(target, suffix)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=suffix)
    try:
        text = mode == "w"
        with os.fdopen(fd, mode, encoding=(encoding or "utf-8") if text else None,
                       newline=newline if text else None) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if check is not None:
            check(Path(tmp))
        os.chmod(tmp, MODE & ~current_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_folder(target.parent)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; return the path."""
    with atomic_write(path, "w") as f:
        f.write(text)
    return Path(path)


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented JSON atomically (values JSON does not know are written as strings)."""
    return write_text(path, json.dumps(obj, indent=2, default=str))


def write_csv(path: str | os.PathLike, rows: list[dict]) -> Path:
    """Write ``rows`` as CSV with a column for every key any row has (empty where a row lacks it)."""
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    with atomic_write(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
    return Path(path)


def torch_save(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save(obj)`` to ``path`` atomically; return the path."""
    import torch

    with atomic_write(path) as f:
        torch.save(obj, f)
    return Path(path)
