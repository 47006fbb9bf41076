"""SpikingJelly's old ``clock_driven.functional``: the same module as ``activation_based.functional``."""

import sys as _sys

from ..activation_based import functional as _same

_sys.modules[__name__] = _same
