"""IF: H = V + X (``dynamics.if_charge``)."""

from ..contract import ChargeCode, ChargeKind, register

IF = register(ChargeKind(
    name="if",
    state=("v",),
    params=(),
    cpp=ChargeCode(charge="h = v + x;", backward="g_x = gh; g_v = gh;"),
    triton=ChargeCode(charge="h = v + x", backward="g_x = gh\ng_v = gh"),
    doc="H = V + X",
))
