"""spikesmith.compat.snntorch under bad input (issue 17): neurons, spikegen, losses, from_snntorch.

    PYTHONPATH=src python bench/reliability/probe_snntorch.py --memory-gb 4

``snntorch neuron``: odd inputs (NaN, +/-Inf, an empty batch, a scalar, integers, a list) and odd
states (another shape, a number) for every neuron; where snnTorch is installed the result must equal
snnTorch's (``wrong`` if it differs; where snnTorch itself fails, ours must fail cleanly or give the
rule's result), else it must be finite where the input is. ``snntorch argument``: bad constructor
arguments must be clean errors. ``snntorch spikegen`` / ``snntorch loss`` / ``snntorch convert``: bad
data, steps, targets and modules must be clean errors.
"""

from __future__ import annotations

import math
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import spikesmith.compat.snntorch as ss  # noqa: E402
from spikesmith.compat import from_snntorch  # noqa: E402
from spikesmith.compat.snntorch import functional as SF  # noqa: E402
from spikesmith.compat.snntorch import spikegen, utils  # noqa: E402

try:
    import snntorch as snn
except ImportError:  # the probe still runs: our results are checked against the rules alone
    snn = None

NEURONS = {
    "Leaky": dict(beta=0.9), "Synaptic": dict(alpha=0.8, beta=0.7), "Alpha": dict(alpha=0.9, beta=0.8),
    "Lapicque": dict(beta=0.9), "RLeaky": dict(beta=0.9, all_to_all=False, V=0.5),
    "RSynaptic": dict(alpha=0.8, beta=0.7, all_to_all=False, V=0.5),
}
INPUTS = {
    "nan": lambda: torch.tensor([[float("nan"), 0.5, 2.0]]),
    "inf": lambda: torch.tensor([[float("inf"), -float("inf"), 2.0]]),
    "empty-batch": lambda: torch.zeros(0, 3),
    "scalar": lambda: torch.tensor(1.5),
    "integers": lambda: torch.tensor([[0, 1, 2]]),
    "huge": lambda: torch.full((1, 3), 3e38),
    "list": lambda: [[0.5, 1.5]],
}


def _as_tuple(out):
    return out if isinstance(out, tuple) else (out,)


def _steps(make, x, steps=4):
    neuron = make()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [tuple(t.detach().double() for t in _as_tuple(neuron(x))) for _ in range(steps)]


def _same(a, b) -> bool:
    return len(a) == len(b) and all(len(u) == len(v) and all(
        p.shape == q.shape and torch.equal(torch.nan_to_num(p, nan=7.0), torch.nan_to_num(q, nan=7.0))
        for p, q in zip(u, v)) for u, v in zip(a, b))


def neuron_case(name, kw, make_x):
    def run():
        x = make_x()
        ours = _steps(lambda: getattr(ss, name)(init_hidden=True, output=True, **kw), x)
        if snn is None:
            finite = isinstance(x, torch.Tensor) and bool(torch.isfinite(x.double()).all())
            if finite and not all(torch.isfinite(t).all() for out in ours for t in out):
                return "wrong: a finite input gave a non-finite output"
            return None
        try:
            theirs = _steps(lambda: getattr(snn, name)(init_hidden=True, output=True, **kw), x)
        except Exception:  # noqa: BLE001 - snnTorch fails here: ours gave the rule's result (or a clean error)
            return None
        return None if _same(ours, theirs) else f"wrong: differs from snnTorch for {name}"
    return run


def state_case(name, kw, state):
    def run():
        neuron = getattr(ss, name)(**kw)
        count = len(neuron.state_names)
        out = neuron(torch.ones(2, 3), *([state()] * count))
        want = getattr(ss, name)(**kw)(torch.ones(2, 3))
        return None if all(torch.equal(a, b) for a, b in zip(out, want)) else "wrong: a state of another shape was used"
    return run


def construct(call):
    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call()
        return "wrong: accepted"
    return run


def expect_error(call):
    def run():
        call()
        return "wrong: accepted"
    return run


def cases():
    out = []
    for name, kw in NEURONS.items():
        for label, make_x in INPUTS.items():
            out.append(harness.Case("snntorch neuron", f"{name}-{label}", neuron_case(name, kw, make_x)))
        out.append(harness.Case("snntorch neuron", f"{name}-state-other-shape",
                                state_case(name, kw, lambda: torch.zeros(5))))
        out.append(harness.Case("snntorch neuron", f"{name}-state-number",
                                expect_error(lambda name=name, kw=kw: getattr(ss, name)(**kw)(
                                    torch.ones(2), *([1.0] * len(getattr(ss, name)(**kw).state_names))))))
    bad_args = {
        "beta-string": lambda: ss.Leaky(beta="0.9"), "beta-none": lambda: ss.Leaky(beta=None),
        "threshold-list": lambda: ss.Leaky(beta=0.9, threshold=[1.0]),
        "reset-none": lambda: ss.Leaky(beta=0.9, reset_mechanism=None),
        "reset-hard": lambda: ss.Synaptic(alpha=0.5, beta=0.5, reset_mechanism="hard"),
        "spike-grad-number": lambda: ss.Leaky(beta=0.9, spike_grad=2.0),
        "state-quant-string": lambda: ss.Leaky(beta=0.9, state_quant="8"),
        "graded-string": lambda: ss.Leaky(beta=0.9, graded_spikes_factor="2"),
        "alpha-below-beta": lambda: ss.Alpha(alpha=0.5, beta=0.8),
        "alpha-equal-beta": lambda: ss.Alpha(alpha=0.8, beta=0.8),
        "alpha-beta-one": lambda: ss.Alpha(alpha=1.0, beta=1.0),
        "alpha-nan": lambda: ss.Alpha(alpha=float("nan"), beta=0.5),
        "lapicque-nothing": lambda: ss.Lapicque(), "lapicque-r-only": lambda: ss.Lapicque(R=3.0),
        "lapicque-all-three": lambda: ss.Lapicque(beta=0.9, R=1.0, C=2.0),
        "rleaky-no-features": lambda: ss.RLeaky(beta=0.9),
        "rleaky-conv-no-kernel": lambda: ss.RLeaky(beta=0.9, conv2d_channels=4),
        "rleaky-linear-and-conv": lambda: ss.RLeaky(beta=0.9, linear_features=4, conv2d_channels=4, kernel_size=3),
        "rleaky-one-to-one-with-features": lambda: ss.RLeaky(beta=0.9, all_to_all=False, linear_features=4),
        "rsynaptic-no-features": lambda: ss.RSynaptic(alpha=0.5, beta=0.4),
        "inhibition-3d": lambda: ss.Leaky(beta=0.9, inhibition=True)(torch.ones(2, 2, 2)),
        "init-hidden-with-state": lambda: ss.Leaky(beta=0.9, init_hidden=True)(torch.ones(2), torch.zeros(2)),
    }
    out += [harness.Case("snntorch argument", k, construct(v)) for k, v in bad_args.items()]
    data = torch.rand(2, 3)
    bad_spikegen = {
        "rate-no-steps": lambda: spikegen.rate(data), "rate-negative-steps": lambda: spikegen.rate(data, num_steps=-2),
        "rate-float-steps": lambda: spikegen.rate(data, num_steps=2.5),
        "rate-first-spike-late": lambda: spikegen.rate(data, num_steps=3, first_spike_time=3),
        "rate-list": lambda: spikegen.rate([0.5], num_steps=3),
        "rate-nan": lambda: spikegen.rate(torch.tensor([math.nan]), num_steps=3),
        "rate-uint8": lambda: spikegen.rate(torch.tensor([255], dtype=torch.uint8), num_steps=3),
        "rate-time-var-scalar": lambda: spikegen.rate(torch.tensor(0.5), time_var_input=True),
        "latency-out-of-range": lambda: spikegen.latency(data * 3, num_steps=5),
        "latency-nan": lambda: spikegen.latency(torch.tensor([math.nan, 0.5]), num_steps=5),
        "latency-empty": lambda: spikegen.latency(torch.zeros(0), num_steps=5),
        "latency-no-steps": lambda: spikegen.latency(data),
        "latency-threshold-zero": lambda: spikegen.latency(data, num_steps=5, threshold=0.0),
        "latency-tau-negative": lambda: spikegen.latency(data, num_steps=5, tau=-1),
        "latency-too-late": lambda: spikegen.latency(torch.tensor([0.0]), num_steps=3),
        "latency-normalize-no-steps": lambda: spikegen.latency(data, normalize=True, bypass=True),
        "delta-scalar": lambda: spikegen.delta(torch.tensor(1.0)), "delta-empty": lambda: spikegen.delta(torch.zeros(0)),
    }
    out += [harness.Case("snntorch spikegen", k, expect_error(v)) for k, v in bad_spikegen.items()]
    spk = torch.zeros(4, 3, 5)
    bad_loss = {
        "ce-rate-2d": lambda: SF.ce_rate_loss()(spk[0], torch.zeros(3, dtype=torch.long)),
        "ce-count-target-out-of-range": lambda: SF.ce_count_loss()(spk, torch.tensor([0, 1, 9])),
        "ce-count-target-negative": lambda: SF.ce_count_loss()(spk, torch.tensor([0, -1, 2])),
        "ce-rate-float-targets": lambda: SF.ce_rate_loss()(spk, torch.tensor([0.0, 1.0, 2.0])),
        "mse-count-wrong-batch": lambda: SF.mse_count_loss()(spk, torch.tensor([0, 1])),
        "ce-count-population-no-classes": lambda: SF.ce_count_loss(population_code=True)(spk, torch.zeros(3).long()),
        "ce-count-population-uneven": lambda: SF.ce_count_loss(population_code=True, num_classes=2)(
            spk, torch.zeros(3).long()),
        "loss-bad-reduction": lambda: SF.ce_count_loss(reduction="avg"),
        "accuracy-population-no-classes": lambda: SF.accuracy_rate(spk, torch.zeros(3).long(), population_code=True),
    }
    out += [harness.Case("snntorch loss", k, expect_error(v)) for k, v in bad_loss.items()]
    bad_convert = {"not-a-module": lambda: from_snntorch([1]), "reset-not-a-module": lambda: utils.reset("net"),
                   "class-reset-hidden": lambda: ss.Leaky.reset_hidden()}
    if snn is not None:
        bad_convert["unknown-snntorch-module"] = lambda: from_snntorch(nn.Sequential(snn.SLSTM(2, 2)))

        class MyLeaky(snn.Leaky):
            pass

        bad_convert["snntorch-subclass"] = lambda: from_snntorch(nn.Sequential(MyLeaky(beta=0.5)))
    out += [harness.Case("snntorch convert", k, expect_error(v)) for k, v in bad_convert.items()]
    return out


if __name__ == "__main__":
    harness.main(cases)
