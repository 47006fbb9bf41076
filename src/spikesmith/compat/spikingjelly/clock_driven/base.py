"""SpikingJelly's old ``clock_driven.base``: the same module as ``activation_based.base``."""

import sys as _sys

from ..activation_based import base as _same

_sys.modules[__name__] = _same
