"""Atomic file writes: write a temporary file beside the target, then rename it into place.

A reader never sees a half-written file: either the old file (or none) or the complete new one.
Used by :func:`spikesmith.data.idx.write_idx` and by the dataset downloader.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Open a temporary binary file next to ``path``; on success rename it to ``path``.

    If the ``with`` block raises, the temporary file is removed and ``path`` is left untouched.
    The parent folder is created when missing.

    Example::

        with atomic_writer("out/labels.bin") as f:
            f.write(b"...")
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
