"""Atomic file writes, the one implementation the whole package uses.

Everything the project writes (checkpoints, metrics, logs, reports, plots, caches, event files,
downloads) goes to a temporary file in the target's folder, is flushed to disk, and is then renamed
over the target. A reader sees the old file (or none) or the complete new one, never half of one;
a write that fails leaves the target untouched and removes its temporary file.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import tempfile
from pathlib import Path
from typing import IO, Any, Callable, Iterator, Optional

PERMISSIONS = 0o644
"""Mode of every file written: readable by others, like a plain ``open``; ``mkstemp`` alone makes 0600."""


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
        os.chmod(tmp, PERMISSIONS)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


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
