"""The one interface between Python and the compiled CPU kernels, described once.

Every kind's library exports ``int sf_forward(const sf_args*)`` and ``int sf_backward(const sf_args*)``
(0: done, ``NOMEM``: out of memory, else an unsupported variant). ``FIELDS`` below is the struct: the C declaration
(``c_struct``) and the ctypes class (``Args``) are both made from it.

Arrays are indexed by position: ``state`` / ``ck`` / ``gstate`` / ``init_value`` in the kind's state
order; ``param`` / ``pstride`` / ``gparam`` in the order of ``KernelSpec.values()`` (``vth``,
``rest``, then the kind's parameters). A parameter of stride 0 is a scalar in ``param[k][0]``.
"""

from __future__ import annotations

import ctypes

MAX_STATES = 4
MAX_PARAMS = 8

#: (name, C type, array length or 0)
FIELDS = (
    ("T", "i64", 0), ("N", "i64", 0), ("K", "i64", 0),           # steps, neurons per step, steps between kept states
    ("nthreads", "int", 0),
    ("soft", "int", 0), ("detach", "int", 0), ("options", "int", 0), ("grad_params", "int", 0),
    ("init", "int", 0),                                         # forward: fill the state with init_value
    ("zero_gstate", "int", 0),                                  # backward: the final state had no gradient
    ("surrogate", "int", 0), ("p0", "float", 0), ("p1", "float", 0), ("p2", "float", 0),
    ("x", "const float*", 0), ("s", "float*", 0),               # [T, N] input, spikes
    ("gs", "const float*", 0), ("gx", "float*", 0),             # [T, N] their gradients
    ("state", "float*", MAX_STATES), ("init_value", "float", MAX_STATES),
    ("ck", "float*", MAX_STATES),                               # [T / K, N] kept states (null: not training)
    ("gstate", "float*", MAX_STATES),
    ("param", "const float*", MAX_PARAMS), ("pstride", "int", MAX_PARAMS),
    ("gparam", "double*", MAX_PARAMS),                          # [N] per-neuron parameter gradients
    ("fail_rows", "i64", 0), ("fail_row_bytes", "i64", 0),      # out: the scratch that could not be allocated
)

#: The return code of an entry point whose scratch could not be allocated (``fail_rows`` x
#: ``fail_row_bytes`` bytes in one thread); nothing was computed.
NOMEM = 2

FUNCTIONS = ("sf_forward", "sf_backward")

_CTYPES = {"i64": ctypes.c_longlong, "int": ctypes.c_int, "float": ctypes.c_float}


def _ctype(c_type: str, length: int):
    base = ctypes.c_void_p if c_type.endswith("*") else _CTYPES[c_type]
    return base * length if length else base


class Args(ctypes.Structure):
    _fields_ = [(name, _ctype(c_type, length)) for name, c_type, length in FIELDS]


def c_struct() -> str:
    """The C declaration of ``sf_args`` and of the exported functions."""
    lines = [f"    {c_type} {name}{f'[{length}]' if length else ''};" for name, c_type, length in FIELDS]
    decls = "\n".join(f'extern "C" int {fn}(sf_args* a);' for fn in FUNCTIONS)
    return "struct sf_args {\n" + "\n".join(lines) + "\n};\n" + decls + "\n"


def declare(lib: ctypes.CDLL) -> None:
    """Set the ctypes signature of the exported functions."""
    for fn in FUNCTIONS:
        getattr(lib, fn).restype = ctypes.c_int
        getattr(lib, fn).argtypes = [ctypes.POINTER(Args)]
