"""Forgotten resets and bad network arguments (issue 14, points 3 and 9), for every neuron type.

    PYTHONPATH=src python bench/reliability/probe_reset.py --memory-gb 4

``forgotten reset``: each mistake (an 'm' call on a graph an 'm' call left, a state whose graph a
backward freed, a graph carried through more steps than the limit) must warn once per network
(``wrong`` if it warns never or more than once); the second backward after a spent state must end
in spikesmith's hinted error (a clean error), not PyTorch's bare one (a raw error); with the switch
at 'error' the mistake is a clean error. ``ordinary loop``: BPTT with reset, truncated BPTT with
detach_net, a retained per-step loss, evaluation under no_grad must not warn (``wrong`` if they do).
``network argument``: reset_net/detach_net/set_step_mode/set_backend/name_layers given something
that is not a module must be a clean error.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from spikesmith import functional, neuron  # noqa: E402
from spikesmith.reset_check import ForgottenResetWarning  # noqa: E402

NEURONS = {
    "if": lambda: neuron.IFNode(), "if_soft": lambda: neuron.IFNode(v_reset=None),
    "lif": lambda: neuron.LIFNode(tau=2.0), "lif_soft": lambda: neuron.LIFNode(v_reset=None),
    "plif": lambda: neuron.ParametricLIFNode(), "alif": lambda: neuron.AdaptiveLIFNode(tau=2.0, tau_adapt=5.0),
    "adlif": lambda: neuron.AdLIFNode(), "izhikevich": lambda: neuron.IzhikevichNode(dt=0.5),
    "nonspiking_lif": lambda: neuron.NonSpikingLIFNode(tau=2.0), "integrator": lambda: neuron.IntegratorNode(),
    "lif_detach_reset": lambda: neuron.LIFNode(detach_reset=True),
}
T, N = 4, 3


def make_net(make, step_mode):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), make(), nn.Linear(8, 3), make())
    functional.set_step_mode(net, step_mode)
    return net


def run(net, step_mode):
    x = torch.rand(T, N, 4) * 10
    return net(x) if step_mode == "m" else torch.stack([net(x_t) for x_t in x])


def count_warnings(fn) -> int:
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        fn()
    return sum(issubclass(r.category, ForgottenResetWarning) for r in records)


def once(fn) -> str | None:
    n = count_warnings(fn)
    return None if n == 1 else f"wrong: {n} ForgottenResetWarnings, expected 1"


def never(fn) -> str | None:
    n = count_warnings(fn)
    return None if n == 0 else f"wrong: {n} ForgottenResetWarnings in ordinary use"


def carried(make):
    net = make_net(make, "m")
    return once(lambda: [run(net, "m") for _ in range(3)])


def spent(make, step_mode):
    net = make_net(make, step_mode)
    run(net, step_mode).sum().backward()
    return once(lambda: [run(net, step_mode) for _ in range(2)])


def long_graph(make):
    functional.set_reset_check(max_graph_steps=30)
    try:
        net = make_net(make, "s")
        return once(lambda: [run(net, "s") for _ in range(12)])
    finally:
        functional.set_reset_check(max_graph_steps=2000)


def second_backward(make, step_mode):
    net = make_net(make, step_mode)
    run(net, step_mode).sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForgottenResetWarning)
        out = run(net, step_mode)
    out.sum().backward()                     # must raise spikesmith's hinted error
    return "wrong: the second backward through a spent state succeeded"


def error_mode(make, step_mode):
    functional.set_reset_check("error")
    try:
        net = make_net(make, step_mode)
        run(net, step_mode).sum().backward()
        run(net, step_mode)
        return "wrong: no ForgottenResetError"
    finally:
        functional.set_reset_check("warn")


def ordinary(make, step_mode, kind):
    net = make_net(make, step_mode)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05)

    def loop():
        for _ in range(3):
            if kind == "no_grad":
                with torch.no_grad():
                    run(net, step_mode)
                continue
            for _ in range(3 if kind == "tbptt" else 1):
                if kind == "retain" and step_mode == "s":
                    for x_t in torch.rand(T, N, 4):
                        net(x_t).sum().backward(retain_graph=True)
                else:
                    run(net, step_mode).mean().backward()
                optimizer.step()
                optimizer.zero_grad()
                if kind == "tbptt":
                    functional.detach_net(net)
            functional.reset_net(net)

    return never(loop)


BAD_NETS = {"None": None, "int": 3, "str": "net", "list": [neuron.LIFNode()], "tensor": torch.zeros(2)}
HELPERS = {
    "reset_net": lambda net: functional.reset_net(net),
    "detach_net": lambda net: functional.detach_net(net),
    "set_step_mode": lambda net: functional.set_step_mode(net, "m"),
    "set_backend": lambda net: functional.set_backend(net, "torch"),
    "name_layers": lambda net: functional.name_layers(net),
}


def cases():
    out = []
    for name, make in NEURONS.items():
        out.append(harness.Case("forgotten reset", f"{name}-carried-m", lambda m=make: carried(m)))
        out.append(harness.Case("forgotten reset", f"{name}-long-s", lambda m=make: long_graph(m)))
        for mode in "sm":
            out.append(harness.Case("forgotten reset", f"{name}-spent-{mode}", lambda m=make, s=mode: spent(m, s)))
            out.append(harness.Case("forgotten reset", f"{name}-second-backward-{mode}",
                                    lambda m=make, s=mode: second_backward(m, s)))
            out.append(harness.Case("forgotten reset", f"{name}-error-mode-{mode}",
                                    lambda m=make, s=mode: error_mode(m, s)))
            for kind in ("reset", "tbptt", "retain", "no_grad"):
                out.append(harness.Case("ordinary loop", f"{name}-{kind}-{mode}",
                                        lambda m=make, s=mode, k=kind: ordinary(m, s, k)))
    for helper, call in HELPERS.items():
        for bad, value in BAD_NETS.items():
            out.append(harness.Case("network argument", f"{helper}({bad})", lambda c=call, v=value: c(v)))
    return out


if __name__ == "__main__":
    harness.main(cases)
