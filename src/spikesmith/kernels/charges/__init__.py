"""The kernel table: one ``ChargeKind`` per module, registered in ``contract.CHARGES`` where it is defined.

Every module of this package is imported here, so a new kind is one new module and nothing else.
"""

import importlib
import pkgutil

from ..contract import CHARGES

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["CHARGES"]
