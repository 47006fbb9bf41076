"""Fetch the IDX files of one split into ``~/.cache/spikesmith/<name>`` — the last resort.

Each file is streamed to a temporary file, checked with :func:`~spikesmith.data.idx.read_idx`
(so a truncated or wrong download never lands in the cache) and renamed into place.
Only ``urllib`` is used; every blocking network operation times out after ``timeout`` seconds.
"""

from __future__ import annotations

import shutil
import urllib.request
from pathlib import Path

from spikesmith.atomic import atomic_write
from spikesmith.data.idx import IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, read_idx
from spikesmith.data.locate import SPLIT_FILES, IdxDatasetSpec, cache_dir, check_split

DEFAULT_TIMEOUT = 15.0
"""Seconds a connection attempt or a read may block before the download gives up."""


def _fetch(url: str, dest: Path, expected_magic: int, timeout: float) -> None:
    def check(tmp: Path) -> None:
        read_idx(tmp, expected_magic=expected_magic)  # raises ValueError on a bad download

    with atomic_write(dest, suffix=".download", check=check) as out:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            shutil.copyfileobj(response, out)


def download_split(spec: IdxDatasetSpec, split: str, timeout: float = DEFAULT_TIMEOUT) -> tuple[Path, Path]:
    """Download the gzipped images and labels of ``split`` into :func:`cache_dir`; return their paths.

    Each file is tried from every URL of ``spec.urls`` in order. Files already in the cache are
    kept.

    Raises:
        OSError: no URL delivered a valid file (the message lists each URL and its error).
    """
    folder = cache_dir(spec)
    paths = []
    for base, magic in zip(SPLIT_FILES[check_split(split)], (IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC)):
        dest = folder / f"{base}.gz"
        errors = []
        if not dest.is_file():
            for url in spec.urls:
                try:
                    _fetch(url + dest.name, dest, magic, timeout)
                    break
                except (OSError, ValueError) as err:  # URLError and timeouts are OSErrors
                    errors.append(f"{url}{dest.name}: {err}")
            else:
                raise OSError("; ".join(errors))
        paths.append(dest)
    return paths[0], paths[1]
