"""One rule for non-finite inputs in every step mode and backend (issue 14; see
``spikesmith.dynamics.fire_reset``): +Inf spikes and a hard reset sets V_reset; a soft reset is
IEEE arithmetic (+Inf stays +Inf); -Inf and NaN never spike; NaN leaves a NaN membrane, which
debug mode reports by layer name.

Before, a +Inf input silenced a hard-reset neuron for good in step mode 's' and on ``scan`` (the
reset ``H (1 - S)`` is Inf * 0 = NaN there) while the fused kernels reset it and kept it firing.
"""

import importlib.util
import math
import os

import pytest
import torch

import spikesmith
from spikesmith import neuron

# Triton's interpreter runs numpy, which warns on Inf - Inf and on overflow: both are the point here
pytestmark = [pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning"),
              pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")]

NODES = {
    "if_hard": lambda: neuron.IFNode(),
    "if_soft": lambda: neuron.IFNode(v_reset=None),
    "lif_hard": lambda: neuron.LIFNode(),
    "lif_hard_vr": lambda: neuron.LIFNode(v_reset=-0.5, decay_input=False),
    "lif_soft": lambda: neuron.LIFNode(v_reset=None),
    "plif_hard": lambda: neuron.ParametricLIFNode(),
    "alif_hard": lambda: neuron.AdaptiveLIFNode(beta=0.2),
    "alif_soft": lambda: neuron.AdaptiveLIFNode(beta=0.2, v_reset=None),
    "adlif_hard": lambda: neuron.AdLIFNode(shape=(2,), alpha=0.9, beta=0.97, a=0.1, b=0.2, v_reset=0.0),
    "adlif_soft": lambda: neuron.AdLIFNode(shape=(2,), alpha=0.9, beta=0.97, a=0.1, b=0.2),
}
MODES = [("s", "torch"), ("m", "torch"), ("m", "cpu")]
if importlib.util.find_spec("triton") is not None:
    MODES.append(("m", "triton"))   # in Triton's interpreter on the CPU

# T = 6, two neurons: the non-finite value arrives at t = 1 in neuron 0; neuron 1 stays finite
_FINITE = [0.2, 0.2, 0.2, 0.8, 1.5, 1.5]


def sequence(value):
    x = torch.tensor([_FINITE, _FINITE]).T.contiguous()
    x[1, 0] = value
    return x.view(len(_FINITE), 1, 2)   # [T, batch 1, 2 neurons]


class _interpreting:
    """TRITON_INTERPRET=1 for a block (the Triton backend then runs in its interpreter on the CPU)."""

    def __enter__(self):
        self.old = os.environ.get("TRITON_INTERPRET")
        os.environ["TRITON_INTERPRET"] = "1"

    def __exit__(self, *exc):
        if self.old is None:
            del os.environ["TRITON_INTERPRET"]
        else:
            os.environ["TRITON_INTERPRET"] = self.old


def run(make, mode, backend, x):
    """Spikes [T, 2] and the membrane after every step [T, 2]."""
    s, v = _run(make, mode, backend, x)
    return s.reshape(len(x), 2), v.reshape(len(x), 2)


def _run(make, mode, backend, x):
    with _interpreting():
        node = make()
        node.step_mode, node.backend = mode, backend
        if mode == "s":
            spikes, vs = [], []
            for x_t in x:
                spikes.append(node(x_t))
                vs.append(node.v.clone())
            return torch.stack(spikes), torch.stack(vs)
        # every prefix of the sequence from a fresh state: the membrane after every step, on the backend
        spikes = node(x)
        assert node._ran_backend == backend
        vs = []
        for t in range(1, len(x) + 1):
            spikes_t = make()
            spikes_t.step_mode, spikes_t.backend = mode, backend
            spikes_t(x[:t])
            vs.append(spikes_t.v.clone())
        return spikes, torch.stack(vs)


def same(a, b):
    """Equal, NaN where NaN, +-Inf where +-Inf."""
    return torch.equal(torch.isnan(a), torch.isnan(b)) and torch.equal(torch.nan_to_num(a, nan=0.0),
                                                                       torch.nan_to_num(b, nan=0.0))


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan], ids=["+inf", "-inf", "nan"])
@pytest.mark.parametrize("name", sorted(NODES))
def test_every_mode_and_backend_follows_one_rule(name, value):
    x = sequence(value)
    results = {mb: run(NODES[name], *mb, x) for mb in MODES}
    ref_s, ref_v = results[("s", "torch")]
    for mb, (s, v) in results.items():
        assert torch.equal(s, ref_s), f"{mb}: spikes {s[:, 0].tolist()} vs step mode 's' {ref_s[:, 0].tolist()}"
        assert same(v, ref_v), f"{mb}: membrane {v[:, 0].tolist()} vs step mode 's' {ref_v[:, 0].tolist()}"
    # the finite neuron is untouched by its neighbour's value
    clean_s, clean_v = run(NODES[name], "s", "torch", sequence(0.2))
    assert torch.equal(ref_s[:, 1], clean_s[:, 1]) and torch.equal(ref_v[:, 1], clean_v[:, 1])
    s0, v0 = ref_s[:, 0], ref_v[:, 0]
    soft = NODES[name]().v_reset is None
    if value == math.inf:
        assert s0[1] == 1.0
        if not soft:
            # it spikes and resets to V_reset, then goes on from V_reset (adLIF's adaptation reads H, so
            # it takes the IEEE value a H = Inf and the next steps are not finite)
            assert v0[1] == NODES[name]().v_reset
            assert torch.isfinite(v0[1:]).all() or name.startswith("adlif")
        else:
            assert v0[1] == math.inf   # IEEE: +Inf - V_th
    else:
        assert s0[1] == 0.0
        if math.isnan(value):
            assert torch.isnan(v0[1:]).all() and (s0[1:] == 0).all()   # NaN stays NaN, never fires


@pytest.mark.parametrize("name", ["if_hard", "lif_hard", "lif_hard_vr", "alif_hard"])
def test_hard_reset_recovers_from_inf_as_from_any_spike(name):
    """After +Inf the neuron is where a spike from any input puts it: the same as a large finite input."""
    inf_s, inf_v = run(NODES[name], "s", "torch", sequence(math.inf))
    big_s, big_v = run(NODES[name], "s", "torch", sequence(1e30))
    assert torch.equal(inf_s, big_s)
    assert torch.equal(inf_v[1:], big_v[1:])


# finite inputs whose arithmetic overflows: V = 1.7e38, then X - V = -Inf, so V = -Inf, then
# X - V = +Inf and H = -Inf + Inf * decay = NaN (in neuron 0 of 4; the others see zeros)
_OVERFLOW = torch.zeros(3, 1, 4)
_OVERFLOW[:, 0, 0] = torch.tensor([3.4e38, -3.4e38, 0.0])


@pytest.mark.parametrize("mode, backend", MODES)
def test_debug_mode_reports_a_nan_membrane_by_layer_name(mode, backend):
    def make():
        node = neuron.LIFNode(v_reset=None)
        node.step_mode, node.backend = mode, backend
        return node

    def feed(node):
        with _interpreting():
            return node(_OVERFLOW) if mode == "m" else [node(x_t) for x_t in _OVERFLOW]

    quiet = make()
    feed(quiet)   # without debug: silent, as documented
    assert torch.isnan(quiet.v).sum() == 1
    spikesmith.set_debug(True)
    try:
        with pytest.raises(ValueError, match=r"LIFNode: its state 'v' became NaN in 1 of 4 neurons \(spikesmith debug "
                                             r"check\)"):
            feed(make())
    finally:
        spikesmith.set_debug(False)


def test_finite_inputs_keep_their_values_and_gradients():
    """The select only changes where H = +Inf spiked: the finite path is the arithmetic reset, bit for bit."""
    from spikesmith.dynamics import reset

    torch.manual_seed(0)
    h = (torch.randn(200) * 2).requires_grad_()
    s = (h.detach() >= 0.5).float().requires_grad_()
    for v_reset in (0.0, -0.3, torch.full((200,), 0.1)):
        expected = h * (1.0 - s) + v_reset * s if not (isinstance(v_reset, float) and v_reset == 0.0) else h * (1.0 - s)
        got = reset(h, s, 0.5, v_reset)
        assert torch.equal(got, expected)
        g = torch.randn(200)
        ge = torch.autograd.grad(expected, (h, s), g)
        gg = torch.autograd.grad(got, (h, s), g)
        assert all(torch.equal(a, b) for a, b in zip(ge, gg))
