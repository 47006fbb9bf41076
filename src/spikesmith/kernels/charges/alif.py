"""ALIF (Bellec et al. 2018): LIF's charge with a threshold that a spike raises.

    th = V_th + beta a;   a' = a rho + S          (rho = 1 - 1/tau_adapt)
"""

import math

from ..contract import ChargeCode, ChargeKind, register
from .lif import CPP_BACKWARD, CPP_CHARGE, CPP_DECAY_GRAD, TRITON_BACKWARD, TRITON_CHARGE, TRITON_DECAY_GRAD

ALIF = register(ChargeKind(
    name="alif",
    state=("v", "a"),
    params=("decay", "rho", "beta"),
    grad_params=("decay",),
    options={"decay_input": True},
    prev={"v": "grad", "a": "always"},
    ranges={"decay": (0.0, 1.0), "rho": (0.0, 1.0), "beta": (0.0, math.inf)},
    cpp=ChargeCode(charge=CPP_CHARGE, threshold="vth + beta * a", update="a = a * rho + s;", spike_grad="g_a",
                   backward=CPP_BACKWARD + CPP_DECAY_GRAD + " g_a = g_a * rho + gth * beta;"),
    triton=ChargeCode(charge=TRITON_CHARGE, threshold="vth + beta * a", update="a = a * rho + s", spike_grad="g_a",
                      backward=TRITON_BACKWARD + TRITON_DECAY_GRAD + "\ng_a = g_a * rho + gth * beta"),
    doc=__doc__,
))
