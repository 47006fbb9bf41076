"""``install_snntorch_alias()``: unmodified ``import snntorch`` code runs on spikesmith.

After the call, ``import snntorch as snn``, ``from snntorch import spikegen, surrogate, utils`` and
``import snntorch.functional as SF`` give ``spikesmith.compat.snntorch`` and its modules. A real snnTorch
imported before is set aside (``from_snntorch`` still recognises its modules) and comes back with
``uninstall_snntorch_alias()``.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Optional

_SUBMODULES = ("functional", "spikegen", "surrogate", "utils")
_saved: dict[str, ModuleType] = {}
_installed: list[bool] = [False]


def _ours() -> ModuleType:
    return sys.modules[__name__.rsplit(".", 1)[0]]


def install_snntorch_alias() -> None:
    """Make ``import snntorch`` (and its ``functional``, ``spikegen``, ``surrogate``, ``utils``) ours."""
    if _installed[0]:
        return
    _saved.update({name: sys.modules.pop(name) for name in list(sys.modules)
                   if name == "snntorch" or name.startswith("snntorch.")})
    ours = _ours()
    sys.modules["snntorch"] = ours
    for name in _SUBMODULES:
        sys.modules[f"snntorch.{name}"] = getattr(ours, name)
    _installed[0] = True


def uninstall_snntorch_alias() -> None:
    """Undo ``install_snntorch_alias``: ``snntorch`` is the real one again (if it was imported before)."""
    if not _installed[0]:
        return
    for name in ["snntorch", *(f"snntorch.{n}" for n in _SUBMODULES)]:
        sys.modules.pop(name, None)
    sys.modules.update(_saved)
    _saved.clear()
    _installed[0] = False


def snntorch_alias_installed() -> bool:
    return _installed[0]


def real_snntorch() -> Optional[ModuleType]:
    """The real snnTorch package if it has been imported (set aside by the alias or not), else None."""
    if _installed[0]:
        return _saved.get("snntorch")
    return sys.modules.get("snntorch")
