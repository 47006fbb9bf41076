"""Bad arguments and inputs for the spike-train metrics and the spike-timing rules (issue 16: "Bad input").

Every metric gets hostile trains (empty where undefined, unsorted, NaN, Inf, 2-D, strings, None, ints,
very long trains) and hostile parameters (negative, zero, NaN, Inf, strings, bools); an accepted value is
checked against what it must be (finite, >= 0, symmetric, <= its bound). The LIF, the four rules and the
trainer get hostile parameters, inputs, weights and targets (beyond the simulated time, unsorted, two in
one step), and a learning rate that diverges.

    PYTHONPATH=src python bench/reliability/probe_spike_timing.py --memory-gb 4
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

NAN, INF = float("nan"), float("inf")
TRAINS = {
    "empty": [], "unsorted": [3.0, 1.0], "nan": [1.0, NAN], "inf": [INF], "neg-inf": [-INF, 1.0], "2d": [[1.0, 2.0]],
    "str": "1.0", "none": None, "dict": {1: 2}, "ints": [1, 2, 3], "bool": [True, False], "duplicates": [1.0, 1.0],
    "negative-times": [-5.0, -1.0], "long": "long", "complex": [1 + 1j],
}
PARAMS = {"negative": -1.0, "zero": 0.0, "nan": NAN, "inf": INF, "str": "1", "bool": True, "none": None,
          "tiny": 1e-300, "huge": 1e300}


def _train(value):
    if isinstance(value, str) and value == "long":
        import torch
        return torch.arange(20_000, dtype=torch.float64) * 0.5
    return value


def _metric(fn_name, train, param, param_name):
    def run():
        from spikesmith import metrics

        fn = getattr(metrics, fn_name)
        other = [0.5, 2.0, 7.0]
        kwargs = {param_name: param}
        d1 = fn(_train(train), other, **kwargs)
        d2 = fn(other, _train(train), **kwargs)
        for d in (d1, d2):
            if not (isinstance(d, float) and math.isfinite(d) and d >= 0):
                return f"wrong: {fn_name} returned {d!r}"
        if abs(d1 - d2) > 1e-9 * max(1.0, abs(d1)):
            return f"wrong: {fn_name} is not symmetric ({d1} vs {d2})"
        if fn_name == "schreiber_correlation" and d1 > 1 + 1e-12:
            return f"wrong: correlation {d1} > 1"
        if fn_name == "victor_purpura":
            n = len(_train(train))
            if d1 > n + 3 + 1e-9:
                return f"wrong: VP {d1} above delete-all + insert-all ({n + 3})"
        return None
    return run


def _isi(train, t_start, t_end, fn_name="isi_distance"):
    def run():
        from spikesmith import metrics

        fn = getattr(metrics, fn_name)
        d1 = fn(_train(train), [0.5, 2.0, 7.0], t_start, t_end)
        d2 = fn([0.5, 2.0, 7.0], _train(train), t_start, t_end)
        if not (math.isfinite(d1) and 0 <= d1 < 1 and abs(d1 - d2) < 1e-9):
            return f"wrong: {fn_name} gave {d1}, {d2}"
        return None
    return run


def _binned(fn_name, make, param):
    def run():
        import torch

        from spikesmith import metrics

        a, b = make(torch)
        out = getattr(metrics, fn_name)(a, b, param, dt=0.5)
        if not bool(torch.isfinite(out).all()) or bool((out < 0).any()):
            return f"wrong: {fn_name} gave {out}"
        return None
    return run


def _rule(make):
    def run():
        from spikesmith import learning

        make(learning)
        return None
    return run


def _fit(inputs, target, rule="resume", weights=None, epochs=2, **neuron):
    def run():
        import torch

        from spikesmith import learning

        x = inputs(torch) if callable(inputs) else inputs
        rules = {"resume": learning.ReSuMe(), "e": learning.ChronotronE(), "i": learning.ChronotronI(),
                 "span": learning.SPAN(), "diverge": learning.SPAN(lr=1e300), "str": "resume"}
        n_in = x.shape[1] if hasattr(x, "shape") and x.dim() == 2 else 3
        cell = learning.SpikeTimingNeuron(n_in, learning.TimingLIF(**neuron), init_mean=0.1, init_std=0.05, seed=0)
        if weights is not None:
            cell.weight = torch.nn.Parameter(weights(torch), requires_grad=False)
        history = cell.fit(x, target, rules[rule], epochs)
        values = history.van_rossum + history.victor_purpura
        if not all(math.isfinite(v) and v >= 0 for v in values):
            return f"wrong: non-finite or negative distance {values}"
        if len(history.van_rossum) != epochs + 1:
            return f"wrong: {len(history.van_rossum)} entries for {epochs} epochs"
        return None
    return run


def cases():
    out = []
    metric_params = {"victor_purpura": "q", "van_rossum": "tau", "schreiber_correlation": "sigma"}
    for fn_name, param_name in metric_params.items():
        for name, train in TRAINS.items():
            out.append(harness.Case(f"metrics/{fn_name}", f"train-{name}", _metric(fn_name, train, 0.5, param_name),
                                    timeout_s=60))
        for name, value in PARAMS.items():
            out.append(harness.Case(f"metrics/{fn_name}", f"{param_name}-{name}",
                                    _metric(fn_name, [1.0, 4.0], value, param_name)))
    for name, train in TRAINS.items():
        for fn_name in ("isi_distance", "spike_distance"):
            out.append(harness.Case(f"metrics/{fn_name}", f"train-{name}", _isi(train, 0.0, 1e5, fn_name),
                                    timeout_s=60))
    for name, (lo, hi) in {"reversed": (10.0, 0.0), "empty": (5.0, 5.0), "nan": (NAN, 10.0), "inf": (0.0, INF),
                           "str": ("0", 10.0), "narrow": (1.5, 2.5), "wide": (-1e300, 1e300)}.items():
        for fn_name in ("isi_distance", "spike_distance"):
            out.append(harness.Case(f"metrics/{fn_name}", f"window-{name}", _isi([1.0, 2.0], lo, hi, fn_name)))
    for name, train in TRAINS.items():
        out.append(harness.Case("metrics/alignment", f"train-{name}",
                                lambda t=train: (__import__("spikesmith.metrics", fromlist=["x"])
                                                 .victor_purpura_alignment(_train(t), [1.0, 2.0], 0.2), None)[1],
                                timeout_s=60))
        out.append(harness.Case("metrics/matched", f"train-{name}",
                                lambda t=train: (__import__("spikesmith.metrics", fromlist=["x"])
                                                 .matched_spikes(_train(t), [1.0, 2.0], 2.0), None)[1]))
    binned = {
        "ok": lambda t: (t.zeros(50, 3), t.ones(50, 3)),
        "shape": lambda t: (t.zeros(50, 3), t.zeros(50, 4)),
        "empty-time": lambda t: (t.zeros(0, 3), t.zeros(0, 3)),
        "list": lambda t: ([0, 1], [1, 0]),
        "nan": lambda t: (t.full((5, 2), NAN), t.zeros(5, 2)),
        "int": lambda t: (t.ones(5, 2, dtype=t.int64), t.zeros(5, 2, dtype=t.int64)),
        "bool": lambda t: (t.ones(5, 2, dtype=t.bool), t.zeros(5, 2, dtype=t.bool)),
        "0-d": lambda t: (t.tensor(1.0), t.tensor(0.0)),
        "long": lambda t: (t.zeros(200_000, 2), t.zeros(200_000, 2)),
    }
    for fn_name in ("van_rossum_binned", "victor_purpura_binned", "schreiber_correlation_binned"):
        for name, make in binned.items():
            out.append(harness.Case(f"metrics/{fn_name}", name, _binned(fn_name, make, 2.0), timeout_s=60))
        for pname, value in PARAMS.items():
            out.append(harness.Case(f"metrics/{fn_name}", f"param-{pname}",
                                    _binned(fn_name, lambda t: (t.eye(6)[:, :2], t.eye(6)[:, 1:3]), value)))
    for cls in ("ReSuMe", "ChronotronE", "ChronotronI", "SPAN", "TimingLIF"):
        for field in ("lr", "tau", "q", "shift_gain", "a", "amplitude", "tau_m", "tau_s", "v_threshold", "dt"):
            for pname, value in PARAMS.items():
                def make(learning, cls=cls, field=field, value=value):
                    import dataclasses
                    klass = getattr(learning, cls)
                    if field not in {f.name for f in dataclasses.fields(klass)}:
                        return None
                    return klass(**{field: value})
                out.append(harness.Case(f"learning/{cls}", f"{field}-{pname}", _rule(make)))
    fits = {
        "ok": ((lambda t: (t.rand(400, 20) < 0.05).double()), [50.0, 120.0]),
        "target-beyond": ((lambda t: t.zeros(100, 3)), [10.0, 80.0]),
        "target-negative": ((lambda t: t.zeros(100, 3)), [-1.0]),
        "target-unsorted": ((lambda t: t.zeros(100, 3)), [30.0, 10.0]),
        "target-same-step": ((lambda t: t.zeros(100, 3)), [10.0, 10.1]),
        "target-nan": ((lambda t: t.zeros(100, 3)), [NAN]),
        "target-str": ((lambda t: t.zeros(100, 3)), "10"),
        "target-empty": ((lambda t: (t.rand(100, 3) < 0.1).double()), []),
        "inputs-1d": ((lambda t: t.zeros(100)), [10.0]),
        "inputs-3d": ((lambda t: t.zeros(100, 2, 3)), [10.0]),
        "inputs-empty": ((lambda t: t.zeros(0, 3)), [10.0]),
        "inputs-nan": ((lambda t: t.full((100, 3), NAN)), [10.0]),
        "inputs-int": ((lambda t: t.zeros(100, 3, dtype=t.int64)), [10.0]),
        "inputs-list": ([[0.0] * 3] * 100, [10.0]),
        "inputs-float32": ((lambda t: (t.rand(100, 3) < 0.1).float()), [10.0]),
    }
    for name, (inputs, target) in fits.items():
        for rule in ("resume", "e", "i", "span"):
            out.append(harness.Case("learning/fit", f"{name}-{rule}", _fit(inputs, target, rule), timeout_s=60))
    out.append(harness.Case("learning/fit", "diverging-lr", _fit(lambda t: (t.rand(100, 3) < 0.2).double(),
                                                                  [10.0], "diverge", epochs=20)))
    out.append(harness.Case("learning/fit", "rule-str", _fit(lambda t: t.zeros(100, 3), [10.0], "str")))
    for epochs in (-1, 2.5, "3", True, None):
        out.append(harness.Case("learning/fit", f"epochs-{epochs!r}",
                                _fit(lambda t: t.zeros(100, 3), [10.0], epochs=epochs)))
    out.append(harness.Case("learning/fit", "weights-nan",
                            _fit(lambda t: t.zeros(100, 3), [10.0], weights=lambda t: t.full((3,), NAN))))
    out.append(harness.Case("learning/fit", "weights-wrong-width",
                            _fit(lambda t: t.zeros(100, 3), [10.0], weights=lambda t: t.zeros(4))))
    return out


if __name__ == "__main__":
    harness.main(cases)
