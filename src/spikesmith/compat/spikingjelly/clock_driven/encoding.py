"""SpikingJelly's old ``clock_driven.encoding``: the same module as ``activation_based.encoding``."""

import sys as _sys

from ..activation_based import encoding as _same

_sys.modules[__name__] = _same
