"""adLIF (Bittar & Garner 2022; ``dynamics.adlif``): state (V, w), w the adaptation the step uses.

    H = alpha V + (1 - alpha)(X - w);   S = H - V_th >= 0;   w' = beta w + a H + b S

dH/dX = 1 - alpha, dH/dV = alpha, dH/dw = -(1 - alpha); dw'/dw = beta, dw'/dH = a, dw'/dS = b.
The backward computes the gradients of alpha, beta, a and b (which are learned).
"""

from ..contract import ChargeCode, ChargeKind, register

ADLIF = register(ChargeKind(
    name="adlif",
    state=("v", "w"),
    params=("alpha", "beta", "a", "b"),
    grad_params=("alpha", "beta", "a", "b"),
    prev={"v": "grad", "w": "grad"},
    ranges={"alpha": (0.0, 1.0), "beta": (0.0, 1.0)},
    cpp=ChargeCode(
        charge="h = alpha * v + (1.0f - alpha) * (x - w);",
        update="w = beta * w + a * h + b * s;",
        spike_grad="b * g_w",
        h_grad="a * g_w",
        backward="""const float om = 1.0f - alpha;
            g_x = gh * om;
            if (GD) {
                d_alpha += (double)(gh * (v - (x - w)));
                d_beta += (double)(g_w * w);
                d_a += (double)(g_w * h);
                d_b += (double)(g_w * s);
            }
            g_v = gh * alpha;
            g_w = g_w * beta - gh * om;""",
    ),
    triton=ChargeCode(
        charge="h = alpha * v + (1.0 - alpha) * (x - w)",
        update="w = beta * w + a * h + b * s",
        spike_grad="b * g_w",
        h_grad="a * g_w",
        backward="""\
om = 1.0 - alpha
g_x = gh * om
if GD:
    d_alpha += (gh * (v - (x - w))).to(tl.float64)
    d_beta += (g_w * w).to(tl.float64)
    d_a += (g_w * h).to(tl.float64)
    d_b += (g_w * s).to(tl.float64)
g_v = gh * alpha
g_w = g_w * beta - gh * om""",
    ),
    doc=__doc__,
))
