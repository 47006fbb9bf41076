"""SpikingJelly's old ``clock_driven.surrogate``: the same module as ``activation_based.surrogate``."""

import sys as _sys

from ..activation_based import surrogate as _same

_sys.modules[__name__] = _same
