"""Bad arguments and inputs for the liquid state machine (issue 15, part 1: "Bad input").

Every constructor argument of ``models.LiquidStateMachine`` gets hostile values (a grid or
probabilities that make no connection, a negative or NaN lambda, a reservoir too big for memory,
...); an accepted value is checked against what it means. A built liquid then gets inputs of the
wrong rank, width, dtype and length, NaN, and bad read-out times; the readouts and the memory
measure get bad features.

    python bench/reliability/probe_lsm.py --memory-gb 4
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

NAN, INF = float("nan"), float("inf")

HOSTILE = {
    "n_inputs": [0, -1, 2.5, True, "3", None, 10**9],
    "grid": [(1, 1, 1), (15, 3), (0, 3, 3), (2.5, 3, 3), ("15", 3, 3), None, 15, (10**6, 10**6, 10**6),
             (10**12, 1, 1), (-1, 3, 3)],
    "lam": [-1.0, 0.0, NAN, INF, "2", None, 1e6],
    "excitatory_fraction": [-0.1, 1.5, NAN, "0.8", None],
    "weight_scale": [-1.0, NAN, INF, None],
    "weight_cv": [-1.0, NAN, INF],
    "dt": [0.0, -1.0, NAN, INF, 30.0, 100.0],
    "tau_m": [0.0, NAN, INF, -30.0],
    "v_reset": [1.0, 2.0, NAN],
    "refractory_ms": [(-1.0, 2.0), (3.0,), (NAN, 2.0), "3", None],
    "input_fraction": [0.0, -0.5, 1.5, NAN],
    "seed": [-1, 2.5, "0", None],
    "max_memory_gb": [0.0, -1.0, NAN, "4"],
    "tau_trace": [0.0, NAN, -1.0],
    "synapses": ["", "Dynamic", "markram", 1, None],
}


def _pairs():
    from spikesmith.models.lsm_connectivity import PairValues

    return {
        "connection_probability": [PairValues(0.0, 0.0, 0.0, 0.0), PairValues(1.5, 0.2, 0.4, 0.1),
                                   PairValues(NAN, 0.2, 0.4, 0.1), PairValues(-0.1, 0.2, 0.4, 0.1), (0.3, 0.2)],
        "delays_ms": [PairValues(INF, 0.8, 0.8, 0.8), PairValues(-1.0, 0.8, 0.8, 0.8), "1.5"],
        "mean_weight_na": [PairValues(NAN, 60.0, -19.0, -19.0), [30, 60, -19, -19]],
    }


def _construct(key, value):
    def run():
        from spikesmith.models import LiquidStateMachine

        lsm = LiquidStateMachine(n_inputs=2, **{key: value}) if key != "n_inputs" else LiquidStateMachine(value)
        if lsm.n_connections < 1:
            return f"wrong: {key}={value!r} built a liquid without connections"
        if key == "lam" and not value > 0:
            return f"wrong: lam={value!r} accepted"
        return None
    return run


def _forward(make_input, **kwargs):
    def run():
        import torch

        from spikesmith.models import LiquidStateMachine

        lsm = LiquidStateMachine(n_inputs=3, grid=(5, 3, 3))
        x = make_input(torch)
        out = lsm(x, **kwargs)
        if not bool(torch.isfinite(out.states).all()):
            return "wrong: non-finite liquid states"
        return None
    return run


def _readout(make):
    def run():
        import torch

        from spikesmith.models import LogisticReadout, RidgeReadout
        make(torch, RidgeReadout, LogisticReadout)
        return None
    return run


def _memory(make):
    def run():
        import torch

        from spikesmith.analysis import memory_curve
        curve = memory_curve(*make(torch))
        if not bool(torch.isfinite(curve.r2).all()):
            return "wrong: non-finite memory curve"
        return None
    return run


def cases():
    out = []
    hostile = dict(HOSTILE)
    hostile.update(_pairs())
    for key, values in hostile.items():
        for i, value in enumerate(values):
            out.append(harness.Case("lsm/construct", f"{key}-{i}", _construct(key, value), timeout_s=30))
    inputs = {
        "rank2": (lambda t: t.zeros(10, 3), {}),
        "rank4": (lambda t: t.zeros(10, 2, 3, 1), {}),
        "width": (lambda t: t.zeros(10, 2, 4), {}),
        "empty-time": (lambda t: t.zeros(0, 2, 3), {}),
        "nan": (lambda t: t.full((5, 2, 3), NAN), {}),
        "inf": (lambda t: t.full((5, 2, 3), INF), {}),
        "int": (lambda t: t.ones(5, 2, 3, dtype=t.int64), {}),
        "bool": (lambda t: t.ones(5, 2, 3, dtype=t.bool), {}),
        "complex": (lambda t: t.ones(5, 2, 3, dtype=t.complex64), {}),
        "float64": (lambda t: t.ones(5, 2, 3, dtype=t.float64), {}),
        "list": (lambda t: [[[0.0] * 3] * 2] * 5, {}),
        "read-late": (lambda t: t.zeros(5, 2, 3), {"read_times": (5,)}),
        "read-empty": (lambda t: t.zeros(5, 2, 3), {"read_times": ()}),
        "read-float": (lambda t: t.zeros(5, 2, 3), {"read_times": (1.5,)}),
        "read-str": (lambda t: t.zeros(5, 2, 3), {"read_times": "end"}),
        "read-bool": (lambda t: t.zeros(5, 2, 3), {"read_times": True}),
    }
    for name, (make, kwargs) in inputs.items():
        out.append(harness.Case("lsm/forward", name, _forward(make, **kwargs)))
    readouts = {
        "ridge-rank1": lambda t, R, L: R().fit(t.zeros(5), t.zeros(5)),
        "ridge-nan": lambda t, R, L: R().fit(t.full((5, 2), NAN), t.zeros(5)),
        "ridge-rows": lambda t, R, L: R().fit(t.zeros(5, 2), t.zeros(4)),
        "ridge-alpha": lambda t, R, L: R(alpha=-1.0),
        "ridge-unfit": lambda t, R, L: R()(t.zeros(3, 2)),
        "ridge-width": lambda t, R, L: R().fit(t.rand(6, 2), t.rand(6))(t.zeros(3, 5)),
        "logistic-label": lambda t, R, L: L(2, 3).fit(t.rand(6, 2), t.tensor([0, 1, 2, 3, 0, 1])),
        "logistic-sizes": lambda t, R, L: L(2.5, 3),
        "logistic-one-class": lambda t, R, L: L(2, 1),
    }
    for name, make in readouts.items():
        out.append(harness.Case("lsm/readout", name, _readout(make)))
    memory = {
        "rank1": lambda t: (t.rand(50), t.rand(50)),
        "length": lambda t: (t.rand(50, 3), t.rand(40)),
        "short": lambda t: (t.rand(10, 3), t.rand(10)),
        "negative-delay": lambda t: (t.rand(200, 3), t.rand(200), [-1]),
    }
    for name, make in memory.items():
        out.append(harness.Case("lsm/memory", name, _memory(make)))
    return out


if __name__ == "__main__":
    harness.main(cases)
