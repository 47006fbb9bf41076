"""Compile the CPU kernels on first use and load them with ctypes.

The C++ source (``_source.source``, with every surrogate's ``kernel_code``) uses no torch or Python headers, so one call of the system
C++ compiler builds it in about 10 s, once; the shared library is cached on disk under
``$SPIKESMITH_CACHE`` (default ``~/.cache/spikesmith``), keyed by the source, the compiler,
the flags and the CPU (it is built with ``-march=native``). Nothing runs at install time.

Where no compiler works, ``load()`` returns None after one warning and the neurons fall back to
``scan``. ``SPIKESMITH_NO_KERNELS=1`` disables the kernels altogether.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Optional

from ..surrogate import kernel_codes
from ._source import source

_LOCK = threading.Lock()
_LIB: Optional[ctypes.CDLL] = None
_CODES: tuple = ()  # the surrogate codes compiled into _LIB, numbered in order
_TRIED = False
_ERROR: Optional[str] = None

BASE_FLAGS = ["-O3", "-std=c++17", "-fPIC", "-shared", "-ffp-contract=off", "-fno-math-errno"]


def cache_dir() -> Path:
    root = os.environ.get("SPIKESMITH_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "spikesmith")
    return Path(root) / "kernels"


def _compiler() -> Optional[str]:
    for name in (os.environ.get("CXX"), "c++", "g++", "clang++"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def _cpu_signature() -> str:
    """What ``-march=native`` depends on: the CPU model and flags."""
    text = platform.machine() + platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("model name", "flags", "Features")):
                    text += line
                    if line.startswith(("flags", "Features")):
                        break
    except OSError:
        pass
    return text


def _version(cxx: str) -> str:
    try:
        return subprocess.run([cxx, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def _compile(cxx: str, out: Path, flags: list[str], text: str) -> Optional[str]:
    """Build the library at ``out``; return an error text or None."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        src = Path(tmp) / "spikesmith_kernels.cpp"
        src.write_text(text)
        lib = Path(tmp) / out.name
        cmd = [cxx, *flags, str(src), "-o", str(lib)]
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.SubprocessError) as err:
            return f"{' '.join(cmd)}: {err}"
        if res.returncode != 0:
            return f"{' '.join(cmd)} failed:\n{res.stderr[-2000:]}"
        os.replace(lib, out)  # atomic: a concurrent process sees the old file or the whole new one
    return None


def _declare(lib: ctypes.CDLL) -> None:
    P, I, L, F = ctypes.c_void_p, ctypes.c_int, ctypes.c_longlong, ctypes.c_float
    lib.sf_forward.restype = I
    lib.sf_forward.argtypes = [I, I, I, L, L, P, P, P, P, P, P, P, P, L, I, I, F, F]
    lib.sf_backward.restype = I
    lib.sf_backward.argtypes = [I, I, I, I, I, L, L, P, P, P, P, P, P, P, P, P, P, L, I, F, F, F, I, I]


def surrogate_number(code) -> Optional[int]:
    """The number of surrogate ``code`` in the loaded library, building it again where the code is
    new (a surrogate class defined after the first build); None where no library has it."""
    if load() is not None and code not in _CODES:
        load(refresh=True)
    return _CODES.index(code) if _LIB is not None and code in _CODES else None


def load(refresh: bool = False) -> Optional[ctypes.CDLL]:
    """The compiled kernel library, building it on first use; None where that is impossible.

    ``refresh``: build again with the surrogate codes defined now (see ``surrogate_number``).
    """
    global _LIB, _CODES, _TRIED, _ERROR
    if not refresh and (_LIB is not None or _TRIED):
        return _LIB
    with _LOCK:
        if not refresh and (_LIB is not None or _TRIED):
            return _LIB
        _TRIED = True
        codes = kernel_codes()
        text = source(codes)
        if os.environ.get("SPIKESMITH_NO_KERNELS", "").strip().lower() in {"1", "true", "yes", "on"}:
            _ERROR = "disabled by SPIKESMITH_NO_KERNELS"
            return None
        cxx = _compiler()
        if cxx is None:
            _ERROR = "no C++ compiler found (set CXX, or install g++ / clang++)"
            warnings.warn(f"spikesmith: fused CPU kernels unavailable, using scan: {_ERROR}", RuntimeWarning,
                          stacklevel=3)
            return None
        version = _version(cxx)
        errors = []
        # with OpenMP first, then without (e.g. Apple clang): the kernels then run on one thread
        for extra in (["-march=native", "-fopenmp"], ["-fopenmp"], ["-march=native"], []):
            flags = BASE_FLAGS + extra
            key = hashlib.sha256("\0".join([text, cxx, version, *flags, _cpu_signature(),
                                            sys.platform]).encode()).hexdigest()[:16]
            path = cache_dir() / f"spikesmith_kernels_{key}.so"
            if not path.exists():
                err = _compile(cxx, path, flags, text)
                if err:
                    errors.append(err)
                    continue
            try:
                lib = ctypes.CDLL(str(path))
                _declare(lib)
            except OSError as err:
                errors.append(f"loading {path}: {err}")
                continue
            _LIB, _CODES = lib, codes
            return lib
        _ERROR = "\n".join(errors)
        warnings.warn(f"spikesmith: fused CPU kernels unavailable, using scan: {_ERROR}", RuntimeWarning,
                      stacklevel=3)
        return None


def error() -> Optional[str]:
    """Why ``load()`` returned None (after it has been called)."""
    return _ERROR
