"""``install_spikingjelly_alias()``: unmodified ``import spikingjelly...`` code runs on this package.

A finder first on ``sys.meta_path`` answers every ``spikingjelly`` and ``spikingjelly.<sub>`` import with
the module ``spikesmith.compat.spikingjelly.<sub>`` itself (the same object: classes keep their
spikesmith ``__module__``). SpikingJelly modules already imported stay as they are for the code that
holds them; their ``sys.modules`` entries are set aside and come back with
``uninstall_spikingjelly_alias()``, which also removes the finder. Installing twice is harmless.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys

from ._missing import PACKAGE, missing_module_error

ALIAS = "spikingjelly"


class _AliasLoader(importlib.abc.Loader):
    """Hands out the already imported target module; keeps its own ``__spec__`` intact."""

    def __init__(self, target):
        self.target = target
        self.target_spec = target.__spec__

    def create_module(self, spec):
        return self.target

    def exec_module(self, module) -> None:
        module.__spec__ = self.target_spec         # importlib set the alias spec on it: give its own back


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname != ALIAS and not fullname.startswith(ALIAS + "."):
            return None
        relative = fullname[len(ALIAS) + 1:]
        real_name = PACKAGE + ("." + relative if relative else "")
        try:
            module = importlib.import_module(real_name)
        except ModuleNotFoundError as error:
            if error.name == real_name:         # a module of this package that is not SpikingJelly-shaped
                raise missing_module_error(relative) from None
            raise
        is_package = hasattr(module, "__path__")
        spec = importlib.machinery.ModuleSpec(fullname, _AliasLoader(module), is_package=is_package)
        if is_package:
            spec.submodule_search_locations = list(module.__path__)
        return spec


_state: dict = {"finder": None, "saved": {}}


def _alias_entries() -> list:
    return [name for name in sys.modules if name == ALIAS or name.startswith(ALIAS + ".")]


def install_spikingjelly_alias() -> None:
    """From now on ``import spikingjelly.activation_based.neuron`` (and every other ``spikingjelly``
    import, ``clock_driven`` included) gives ``spikesmith.compat.spikingjelly``'s module. Undo with
    ``uninstall_spikingjelly_alias()``."""
    if _state["finder"] is not None:
        return
    importlib.import_module(PACKAGE)
    _state["saved"] = {name: sys.modules.pop(name) for name in _alias_entries()}
    finder = _AliasFinder()
    sys.meta_path.insert(0, finder)
    _state["finder"] = finder
    importlib.invalidate_caches()


def uninstall_spikingjelly_alias() -> None:
    """Remove the alias: ``spikingjelly`` imports go to the real SpikingJelly again (its modules imported
    before the alias come back)."""
    finder = _state["finder"]
    if finder is None:
        return
    if finder in sys.meta_path:
        sys.meta_path.remove(finder)
    for name in _alias_entries():
        del sys.modules[name]
    sys.modules.update(_state["saved"])
    _state["finder"], _state["saved"] = None, {}
    importlib.invalidate_caches()


def spikingjelly_alias_installed() -> bool:
    return _state["finder"] is not None
