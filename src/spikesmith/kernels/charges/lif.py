"""LIF and PLIF: the leaky charge of ``dynamics.leaky_charge`` with ``decay`` = 1/tau (PLIF: sigmoid(w),
whose gradient the backward computes).

    decay_input:      H = V + (X - (V - rest)) decay
    not decay_input:  H = V - (V - rest) decay + X
"""

from ..contract import ChargeCode, ChargeKind, register

# The charge's derivative, shared with ALIF: dH/dX = decay (or 1), dH/dV = 1 - decay.
CPP_CHARGE = "h = decay_input ? v + (x - (v - rest)) * decay : (v - (v - rest) * decay) + x;"
CPP_BACKWARD = "const float ghd = gh * decay; g_x = decay_input ? ghd : gh; g_v = gh - ghd;"
TRITON_CHARGE = """\
if decay_input:
    h = v + (x - (v - rest)) * decay
else:
    h = (v - (v - rest) * decay) + x"""
TRITON_BACKWARD = """\
ghd = gh * decay
if decay_input:
    g_x = ghd
else:
    g_x = gh
g_v = gh - ghd"""
# dL/d(decay) under GD; it reads V before the step (prev "grad")
CPP_DECAY_GRAD = " if (GD) d_decay += (double)(gh * (decay_input ? x - (v - rest) : -(v - rest)));"
TRITON_DECAY_GRAD = """
if GD:
    if decay_input:
        q = x - (v - rest)
    else:
        q = -(v - rest)
    d_decay += (gh * q).to(tl.float64)"""

LIF = register(ChargeKind(
    name="lif",
    state=("v",),
    params=("decay",),
    grad_params=("decay",),
    options={"decay_input": True},
    prev={"v": "grad"},
    ranges={"decay": (0.0, 1.0)},
    cpp=ChargeCode(
        charge=CPP_CHARGE,
        backward=CPP_BACKWARD + CPP_DECAY_GRAD,
    ),
    triton=ChargeCode(
        charge=TRITON_CHARGE,
        backward=TRITON_BACKWARD + TRITON_DECAY_GRAD,
    ),
    doc=__doc__,
))
