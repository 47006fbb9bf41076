"""Compile the CPU kernels on first use and load them with ctypes: one library per charge kind.

A kind's C++ source (``_cpp_source.source``: its table entry and every surrogate's ``kernel_code``) uses
no torch or Python headers, so one call of the system C++ compiler builds it in a few seconds, the
first time that kind runs; the shared library is cached on disk under ``$SPIKESMITH_CACHE``
(default ``~/.cache/spikesmith``), keyed by the source, the compiler, the flags and the CPU (it is
built with ``-march=native``). Nothing runs at install time. The functions it exports and their
one argument are those of ``_abi``.

``SPIKESMITH_KERNEL_ARCH`` chooses the instruction set (``ARCH_FLAGS``): ``native`` (the default,
``-march=native``: AVX-512 where the CPU has it), ``avx2`` (``-mavx2 -mfma -mno-avx512f``: what
any x86-64 CPU since 2013-2015 runs; the way to check that results do not depend on the SIMD
width), or ``generic`` (the compiler's baseline, SSE2 on x86-64). The flags are part of the cache
key, so each choice has its own library. Another value is a ValueError naming the choices.

Where no compiler works, ``library()`` returns None after one warning and the neurons fall back
to ``scan``. ``SPIKESMITH_NO_KERNELS=1`` disables the kernels altogether.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..surrogate import kernel_codes
from . import _abi
from ._cpp_source import source

_LOCK = threading.Lock()
_LIBS: dict = {}          # ChargeKind -> Library
_FAILED: set = set()      # kinds whose build failed (not tried again)
_ERROR: Optional[str] = None
_WARNED = False


@dataclass(frozen=True)
class Library:
    """A loaded kind's kernels and the surrogate codes compiled into them, numbered in order; the
    flags it was compiled with and its file."""

    cdll: ctypes.CDLL
    codes: tuple
    flags: tuple = ()
    path: Optional[Path] = None

    def surrogate_number(self, code) -> Optional[int]:
        return self.codes.index(code) if code in self.codes else None


BASE_FLAGS = ["-O3", "-std=c++17", "-fPIC", "-shared", "-ffp-contract=off", "-fno-math-errno"]

#: ``SPIKESMITH_KERNEL_ARCH`` -> the compiler's instruction-set flags.
ARCH_FLAGS = {
    "native": ["-march=native"],
    "avx2": ["-mavx2", "-mfma", "-mno-avx512f"],
    "generic": [],
}
DEFAULT_ARCH = "native"


def arch_flags() -> list[str]:
    """The instruction-set flags ``SPIKESMITH_KERNEL_ARCH`` asks for (default ``native``)."""
    name = os.environ.get("SPIKESMITH_KERNEL_ARCH", "").strip().lower() or DEFAULT_ARCH
    if name not in ARCH_FLAGS:
        raise ValueError(f"SPIKESMITH_KERNEL_ARCH={name!r} is not one of {', '.join(ARCH_FLAGS)}; unset it to build "
                         f"for this CPU ({DEFAULT_ARCH})")
    return list(ARCH_FLAGS[name])


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
        src = Path(tmp) / (out.stem + ".cpp")
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


def _fail(kind, error: str) -> None:
    global _ERROR, _WARNED
    _ERROR = error
    _FAILED.add(kind)
    if not _WARNED and not error.startswith("disabled"):
        _WARNED = True
        warnings.warn(f"spikesmith: fused CPU kernels unavailable, using scan: {error}", RuntimeWarning, stacklevel=4)


def library(kind, code=None) -> Optional[Library]:
    """The compiled kernels of charge kind ``kind``, built on first use; None where that is impossible.

    ``code``: a surrogate ``KernelCode`` the library must hold; one defined after the kind was built
    (a new surrogate class) builds it again with every code defined now.
    """
    lib = _LIBS.get(kind)
    if lib is not None and (code is None or code in lib.codes):
        return lib
    if kind in _FAILED:
        return None
    with _LOCK:
        lib = _LIBS.get(kind)
        if lib is not None and (code is None or code in lib.codes):
            return lib
        if kind in _FAILED:
            return None
        lib = _build(kind)
        if lib is not None:
            _LIBS[kind] = lib
        return lib


def _build(kind) -> Optional[Library]:
    if os.environ.get("SPIKESMITH_NO_KERNELS", "").strip().lower() in {"1", "true", "yes", "on"}:
        _fail(kind, "disabled by SPIKESMITH_NO_KERNELS")
        return None
    arch = arch_flags()   # a bad SPIKESMITH_KERNEL_ARCH is an error, not a silent fallback to scan
    cxx = _compiler()
    if cxx is None:
        _fail(kind, "no C++ compiler found (set CXX, or install g++ / clang++)")
        return None
    codes = kernel_codes()
    text = source(kind, codes)
    version = _version(cxx)
    errors = []
    # with OpenMP first, then without (e.g. Apple clang): the kernels then run on one thread
    variants = [arch + ["-fopenmp"], ["-fopenmp"], arch, []]
    for extra in [v for k, v in enumerate(variants) if v not in variants[:k]]:
        flags = BASE_FLAGS + extra
        key = hashlib.sha256("\0".join([text, cxx, version, *flags, _cpu_signature(),
                                        sys.platform]).encode()).hexdigest()[:16]
        path = cache_dir() / f"spikesmith_{kind.name}_{key}.so"
        if not path.exists():
            err = _compile(cxx, path, flags, text)
            if err:
                errors.append(err)
                continue
        try:
            cdll = ctypes.CDLL(str(path))
            _abi.declare(cdll)
        except (OSError, AttributeError) as err:
            errors.append(f"loading {path}: {err}")
            continue
        return Library(cdll, codes, tuple(flags), path)
    _fail(kind, "\n".join(errors))
    return None


def error() -> Optional[str]:
    """Why ``library()`` last returned None."""
    return _ERROR
