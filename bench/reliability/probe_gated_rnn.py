"""Bad arguments and inputs for the gated spiking RNNs (issue 15, part 2: "Bad input").

Every constructor argument of ``layer.SpikingLSTM`` / ``SpikingGRU`` and their cells gets hostile
values; a layer that accepts one is checked against what the argument means (a hidden_size of 2.5
taken as 2 would be a silent wrong result). Built layers then get inputs of the wrong rank, size,
dtype, batch and length, and NaN in debug mode.

    python bench/reliability/probe_gated_rnn.py --memory-gb 4
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

I, H, T, N = 4, 6, 5, 3


def _classes():
    from spikesmith import layer

    return {"SpikingLSTM": layer.SpikingLSTM, "SpikingGRU": layer.SpikingGRU,
            "SpikingLSTMCell": layer.SpikingLSTMCell, "SpikingGRUCell": layer.SpikingGRUCell}


# argument -> hostile values, and what an accepted value must satisfy on the built layer
HOSTILE = {
    "input_size": [0, -1, 2.5, True, "4", None, float("nan")],
    "hidden_size": [0, -3, 2.5, False, "6", None, 10**7, 30000],
    "variant": ["", "keras", None, 3, "SPIKINGJELLY", " snntorch "],
    "threshold": [float("nan"), float("inf"), "1", True, None, -0.5],
    "reset_mechanism": ["", "hard", 1, "subtract"],
    "signed_output": ["", "sum", None, "PAIR"],
    "time_gate": ["", "gaussian", 1, "Phased"],
    "time_gate_options": [{"tau_min": -1}, {"tau_min": 10.0, "tau_max": 2.0}, {"r_on": 1.5}, {"alpha": -0.1},
                          {"bogus": 1}, "r_on=0.1", {"r_on": float("nan")}],
    "dt": [0, -1.0, float("nan"), float("inf"), "1"],
    "surrogate_function": ["nope", 3, "atan:alpha=-1"],
    "candidate_surrogate": ["nope", 3],
    "num_layers": [0, -1, 1.5, True, 10**9],
}
NEEDS = {"reset_mechanism": {"variant": "snntorch"}, "threshold": {"variant": "snntorch"},
         "time_gate_options": {"time_gate": "phased"}, "signed_output": {"signed": True}}


def _accepted_ok(module, key, value) -> str | None:
    """None when an accepted value means what it says on the built layer, else 'wrong: ...'."""
    cells = getattr(module, "cells", [module])
    cell = cells[0]
    checks = {
        "input_size": lambda: cell.input_size == value,
        "hidden_size": lambda: cell.hidden_size == value,
        "variant": lambda: cell.variant == value.strip().lower(),
        "threshold": lambda: isinstance(value, (int, float)) and math.isfinite(value) and cell.threshold == value,
        "reset_mechanism": lambda: cell.reset_mechanism == value,
        "signed_output": lambda: cell.signed_output == value.lower(),
        "time_gate": lambda: cell.time_gate is not None,
        "dt": lambda: isinstance(value, (int, float)) and value > 0 and math.isfinite(value),
        "num_layers": lambda: isinstance(value, int) and len(cells) == value,
    }
    check = checks.get(key)
    if check is not None and not check():
        return f"wrong: {key}={value!r} accepted as {module!r}"[:300]
    return None


def _construct(cls_name, key, value):
    def run():
        import torch

        cls = _classes()[cls_name]
        kwargs = {"input_size": I, "hidden_size": H, **NEEDS.get(key, {}), key: value}
        module = cls(**kwargs)
        verdict = _accepted_ok(module, key, value)
        if verdict is None:  # an accepted layer must also run
            mode_m = "Cell" not in cls_name
            x = torch.rand(T, N, module.cells[0].input_size) if mode_m else torch.rand(N, module.input_size)
            y = module(x)
            if not torch.isfinite(y).all():
                return f"wrong: {key}={value!r}: non-finite output"
        return verdict

    return run


def _bad_input(cls_name, what):
    def run():
        import torch

        from spikesmith import _config, functional

        module = _classes()[cls_name](I, H)
        single = "Cell" in cls_name
        shape = (N, I) if single else (T, N, I)
        inputs = {
            "rank-1": lambda: torch.rand(I),
            "rank-4": lambda: torch.rand(2, *shape),
            "features+1": lambda: torch.rand(*shape[:-1], I + 1),
            "features-0": lambda: torch.rand(*shape[:-1], 0),
            "int": lambda: torch.ones(*shape, dtype=torch.long),
            "bool": lambda: torch.ones(*shape, dtype=torch.bool),
            "float64": lambda: torch.rand(*shape, dtype=torch.float64),
            "list": lambda: [[0.0] * I] * N,
            "none": lambda: None,
            "T=0": lambda: torch.rand(0, N, I),
        }
        if what == "batch-change":
            module(torch.rand(*shape))
            module(torch.rand(*shape[:-2], N + 1, I))
            return "wrong: a new batch size without reset was accepted"
        if what == "nan-debug":
            x = torch.rand(*shape)
            x.view(-1)[0] = float("nan")
            _config.set_debug(True)
            try:
                module(x)
            finally:
                _config.set_debug(False)
            return "wrong: NaN input accepted in debug mode"
        if what == "N=0":  # an empty batch is valid: empty output of the right shape
            y = module(torch.rand(*shape[:-2], 0, I))
            functional.reset_net(module)
            return None if y.shape == (*shape[:-2], 0, H) else f"wrong: shape {list(y.shape)}"
        y = module(inputs[what]())
        return f"wrong: {what} input accepted, output shape {list(y.shape)}"

    return run


def cases():
    out = []
    for cls_name in _classes():
        for key, values in HOSTILE.items():
            if key == "num_layers" and "Cell" in cls_name:
                continue  # a cell is one layer
            for value in values:
                out.append(harness.Case("gated-rnn args", f"{cls_name}.{key}={value!r}"[:80],
                                        _construct(cls_name, key, value), timeout_s=20))
        for what in ("rank-1", "rank-4", "features+1", "features-0", "int", "bool", "float64", "list", "none",
                     "T=0", "batch-change", "nan-debug", "N=0"):
            if what == "T=0" and "Cell" in cls_name:
                continue  # a cell's single step has no T (and an empty batch is the N=0 case)
            out.append(harness.Case("gated-rnn input", f"{cls_name}:{what}", _bad_input(cls_name, what),
                                    timeout_s=20))
    return out


if __name__ == "__main__":
    harness.main(cases)
