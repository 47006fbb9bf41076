"""Bad arguments to the fused kernels and the neurons' multi-step mode (issue 14, points 2, 4, 9).

    PYTHONPATH=src python bench/reliability/probe_kernels.py --memory-gb 4

Categories:
``kernel arguments``  what ``kernels.multi_step`` is given: time_chunk, thresholds, parameters,
                      dtypes, shapes, layouts, initial states, surrogates. A bad one must be a clean
                      error (a case that returns is "wrong: accepted"); a valid odd one (time_chunk
                      10**8 or None, a non-contiguous input) must give the plain run's spikes,
                      state and input gradient.
``kernel memory``     scratch the compiled backward cannot allocate: a MemoryError of ours.
``non-finite input``  +Inf / -Inf / NaN in one neuron, every charge, hard and soft reset: the rule
                      of ``dynamics.fire_reset``, and the same result on scan, 's' and the fused kernel.
``empty sequence``    T=0 for every neuron in step mode 'm'.

Nothing runs in ``cases()``: every case runs in the harness's forked worker.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

K = "kernel arguments"
LIF = dict(charge="lif", v_threshold=0.5, v_reset=0.0, decay=0.5)
ALIF = dict(charge="alif", v_threshold=0.5, v_reset=0.0, decay=0.5, rho=0.9, beta=0.2, a0=0.0)
ADLIF = dict(charge="adlif", v_threshold=0.5, v_reset=None, alpha=0.9, beta=0.97, a=0.1, b=0.2, w0=0.0)


def _x(shape=(6, 3, 5), seed=0):
    import torch

    return torch.rand(shape, generator=torch.Generator().manual_seed(seed)) * 1.5


def _call(x, v0=0.0, surrogate=..., **kw):
    from spikesmith import kernels
    from spikesmith import surrogate as sg

    return kernels.multi_step(x, v0, surrogate=sg.Sigmoid() if surrogate is ... else surrogate, **kw)


def _rejects(**kw):
    """A case whose arguments are bad: it must raise; returning is a silent wrong result."""
    x = kw.pop("x", None)
    v0 = kw.pop("v0", 0.0)

    def run():
        _call(_x() if x is None else x() if callable(x) else x, v0() if callable(v0) else v0, **kw)
        return f"wrong: accepted {', '.join(f'{k}={v!r:.40}' for k, v in kw.items())}"
    return run


def _same_as_plain(make_x, base=LIF, **kw):
    """A valid odd call: spikes, final V and input gradient equal those of the plain call."""
    def run():
        import torch

        outs = []
        for extra in ({}, kw):
            x = make_x().detach().requires_grad_()
            s, v, _ = _call(x, **{**base, **extra})
            (s * torch.linspace(-1, 1, s.numel()).view_as(s)).sum().backward()
            outs.append((s.detach(), v.detach(), x.grad))
        for what, a, b in zip(("spikes", "final V", "input gradient"), *outs):
            if a.shape != b.shape or not torch.equal(a, b):
                return f"wrong: {what} differ from the plain run with {kw}"
        return None
    return run


def _argument_cases():
    import torch  # noqa: F401  (only names below; nothing runs)

    cases = []
    add = cases.append
    for bad in (0, -1, -10**20, 2.5, "8", True, float("nan"), [4]):
        add(harness.Case(K, f"time_chunk={bad!r}", _rejects(**LIF, time_chunk=bad)))
    for ok in (10**8, 2**63, None, 1, 6):
        add(harness.Case(K, f"time_chunk={ok!r} (valid)", _same_as_plain(_x, time_chunk=ok)))
    add(harness.Case(K, "time_chunk=numpy.int64(4) (valid)",
                     lambda: _same_as_plain(_x, time_chunk=__import__("numpy").int64(4))()))
    for name in ("v_threshold", "v_reset"):
        for bad in (math.nan, math.inf, -math.inf):
            add(harness.Case(K, f"{name}={bad}", _rejects(**{**LIF, name: bad})))
    add(harness.Case(K, "v_threshold tensor with NaN",
                     lambda: _rejects(**{**LIF, "v_threshold": __import__("torch").tensor([0.5, math.nan] * 2 + [0.5])})()))
    add(harness.Case(K, "v_reset above v_threshold", _rejects(**{**LIF, "v_reset": 1.0})))
    add(harness.Case(K, "v_threshold as a string", _rejects(**{**LIF, "v_threshold": "0.5"})))
    for bad in (math.nan, math.inf, -0.1, 1.5, "0.5", None):
        add(harness.Case(K, f"decay={bad!r}", _rejects(**{**LIF, "decay": bad})))
    add(harness.Case(K, "decay=0.0 (valid edge: H = V, never fires)", _decay_edge(0.0)))
    add(harness.Case(K, "decay=1.0 (valid edge: H = X, fires where X >= V_th)", _decay_edge(1.0)))
    add(harness.Case(K, "decay tensor out of range", lambda: _rejects(**{**LIF, "decay": __import__("torch").full((5,), 2.0)})()))
    add(harness.Case(K, "decay tensor of the wrong shape", lambda: _rejects(**{**LIF, "decay": __import__("torch").full((7,), 0.5)})()))
    add(harness.Case(K, "decay tensor with NaN", lambda: _rejects(**{**LIF, "decay": __import__("torch").tensor([0.5, math.nan, 0.5, 0.5, 0.5])})()))
    for name, bad in (("rho", 1.5), ("rho", math.nan), ("beta", -1.0), ("beta", math.inf), ("a0", math.nan)):
        add(harness.Case(K, f"alif {name}={bad}", _rejects(**{**ALIF, name: bad})))
    for name, bad in (("alpha", 1.2), ("beta", -0.1), ("a", math.nan), ("b", math.inf), ("w0", math.nan)):
        add(harness.Case(K, f"adlif {name}={bad}", _rejects(**{**ADLIF, name: bad})))
    add(harness.Case(K, "alif without a0", _rejects(**{k: v for k, v in ALIF.items() if k != "a0"})))
    add(harness.Case(K, "unknown keyword tau", _rejects(**LIF, tau=2.0)))
    add(harness.Case(K, "unknown charge", _rejects(**{**LIF, "charge": "nosuch"})))
    for dtype in ("float64", "float16", "bfloat16", "int32", "int64", "bool", "complex64"):
        add(harness.Case(K, f"x_seq {dtype}", _rejects(**LIF, x=lambda d=dtype: _x().to(getattr(__import__("torch"), d)))))
    add(harness.Case(K, "x_seq numpy array", _rejects(**LIF, x=lambda: _x().numpy())))
    add(harness.Case(K, "x_seq list", _rejects(**LIF, x=lambda: _x().tolist())))
    add(harness.Case(K, "x_seq None", _rejects(**LIF, x=lambda: None)))
    add(harness.Case(K, "x_seq 1-D", _rejects(**LIF, x=lambda: _x((6,)))))
    add(harness.Case(K, "x_seq 0-D", _rejects(**LIF, x=lambda: _x(()))))
    add(harness.Case(K, "x_seq T=0", _rejects(**LIF, x=lambda: _x((0, 3, 5)))))
    add(harness.Case(K, "x_seq T=0 alif", _rejects(**ALIF, x=lambda: _x((0, 3, 5)))))
    add(harness.Case(K, "x_seq N=0 (valid: empty)", _empty_neurons))
    add(harness.Case(K, "x_seq permuted (valid)", _same_as_plain(lambda: _x((6, 5, 3)).permute(0, 2, 1))))
    add(harness.Case(K, "x_seq stride-2 slice (valid)", _same_as_plain(lambda: _x((6, 3, 10))[:, :, ::2])))
    add(harness.Case(K, "x_seq time stride 2 (valid)", _same_as_plain(lambda: _x((12, 3, 5))[::2])))
    add(harness.Case(K, "x_seq expanded (valid)", _same_as_plain(lambda: _x((6, 1, 5)).expand(6, 3, 5))))
    add(harness.Case(K, "x_seq channels_last (valid)",
                     _same_as_plain(lambda: _x((6, 2, 3, 4, 4)).contiguous(memory_format=__import__("torch").channels_last_3d))))
    add(harness.Case(K, "v0 of the wrong shape", _rejects(**LIF, v0=lambda: __import__("torch").zeros(2, 5))))
    add(harness.Case(K, "v0 int64 tensor", _rejects(**LIF, v0=lambda: __import__("torch").zeros(3, 5, dtype=__import__("torch").int64))))
    add(harness.Case(K, "v0 NaN number", _rejects(**LIF, v0=math.nan)))
    add(harness.Case(K, "v0 string", _rejects(**LIF, v0="0")))
    add(harness.Case(K, "v0 None", _rejects(**LIF, v0=None)))
    add(harness.Case(K, "v0 True", _rejects(**LIF, v0=True)))
    add(harness.Case(K, "v0 broadcast [5] (valid)", _v0_broadcast))
    add(harness.Case(K, "surrogate None", _rejects(**LIF, surrogate=None)))
    add(harness.Case(K, "surrogate string", _rejects(**LIF, surrogate="sigmoid")))
    add(harness.Case(K, "surrogate class, not instance", lambda: _rejects(**LIF, surrogate=__import__("spikesmith").surrogate.Sigmoid)()))
    add(harness.Case(K, "surrogate without kernel code", _custom_surrogate))
    add(harness.Case(K, "detach_reset='yes'", _rejects(**LIF, detach_reset="yes")))
    for kw in (dict(v_reset=None, v_threshold=math.nan), dict(v_init=math.nan), dict(tau=math.nan)):
        add(harness.Case(K, f"LIFNode({', '.join(f'{k}={v}' for k, v in kw.items())})", _neuron_rejects(kw)))
    return cases


def _neuron_rejects(kw):
    def run():
        from spikesmith import neuron

        neuron.LIFNode(**kw)
        return f"wrong: LIFNode accepted {kw}"
    return run


def _decay_edge(decay):
    def run():
        import torch

        x = _x()
        s, _, _ = _call(x, **{**LIF, "decay": decay})
        expected = torch.zeros_like(x) if decay == 0.0 else (x >= LIF["v_threshold"]).float()
        return None if torch.equal(s, expected) else f"wrong: decay={decay} spikes {int(s.sum())} != {int(expected.sum())}"
    return run


def _empty_neurons():
    s, v, _ = _call(_x((6, 0, 5)), **LIF)
    return None if s.shape == (6, 0, 5) and v.shape == (0, 5) else f"wrong: shapes {s.shape}, {v.shape}"


def _v0_broadcast():
    import torch

    a = _call(_x(), torch.full((5,), 0.1), **LIF)
    b = _call(_x(), torch.full((3, 5), 0.1), **LIF)
    return None if torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) else "wrong: a broadcast v0 differs"


def _custom_surrogate():
    from spikesmith import surrogate

    class Custom(surrogate.Sigmoid):
        pass

    return _rejects(**LIF, surrogate=Custom())()


def _huge_scratch(chunk):
    def run():
        import torch

        from spikesmith import kernels, surrogate
        from spikesmith.kernels import cpu, fused

        x = torch.rand(3, 5, 4).requires_grad_()
        spec = kernels.KernelSpec("lif", {"decay": 0.5}, v_threshold=0.5, v_reset=0.0, surrogate=surrogate.Sigmoid())
        plan = fused.Plan(spec, x[0], cpu.LAUNCHER, chunk)   # past the Python cap, straight to the kernel
        s, _ = fused.apply(plan, x, [0.0])
        s.sum().backward()
        return "wrong: a backward with an impossible scratch returned"
    return run


def _nonfinite(charge_kw, value, soft):
    """+Inf/-Inf/NaN at t=1 in neuron 0 of 2: the rule, and the fused result equal to scan's."""
    def run():
        import torch

        from spikesmith import neuron

        kw = {**charge_kw, "v_reset": None if soft else 0.0}
        x = torch.tensor([[0.2, 0.2], [value, 0.2], [0.2, 0.2], [0.8, 0.8], [1.5, 1.5]]).view(5, 1, 2)
        node = {"if": lambda: neuron.IFNode(v_threshold=0.5, v_reset=kw["v_reset"]),
                "lif": lambda: neuron.LIFNode(tau=2.0, v_threshold=0.5, v_reset=kw["v_reset"]),
                "alif": lambda: neuron.AdaptiveLIFNode(tau=2.0, tau_adapt=10.0, beta=0.2, v_threshold=0.5,
                                                       v_reset=kw["v_reset"]),
                "adlif": lambda: neuron.AdLIFNode(shape=(2,), alpha=0.9, beta=0.97, a=0.1, b=0.2, v_threshold=0.5,
                                                  v_reset=kw["v_reset"])}[kw["charge"]]
        fused = _call(x, **kw)
        fused_s, fused_v = fused[0], fused[1]
        # step mode 's' on scan, step by step
        n = node()
        s_steps = torch.stack([n(x_t) for x_t in x])
        for name, a, b in (("spikes", fused_s, s_steps), ("final V", fused_v, n.v)):
            if not (torch.equal(torch.isnan(a), torch.isnan(b)) and torch.equal(a.nan_to_num(0.0), b.nan_to_num(0.0))):
                return f"wrong: {name} of the fused kernel {a.flatten().tolist()} != step mode 's' {b.flatten().tolist()}"
        s0 = fused_s[:, 0, 0]
        if value == math.inf and s0[1] != 1:
            return "wrong: +Inf did not spike"
        if not value == math.inf and s0[1] != 0:
            return f"wrong: {value} spiked"
        if math.isnan(value) and not (torch.isnan(fused_v[0, 0]) and (s0[1:] == 0).all()):
            return "wrong: NaN did not leave a NaN membrane"
        if value == math.inf and not soft and kw["charge"] in ("if", "lif", "alif") and not torch.isfinite(fused_v).all():
            return "wrong: a hard reset after +Inf did not bring the neuron back to finite values"
        return None
    return run


def _empty_sequence(cls_name, backend):
    def run():
        import torch

        from spikesmith import neuron

        node = getattr(neuron, cls_name)(step_mode="m", backend=backend)
        node(torch.rand(0, 2, 3))
        return "wrong: T=0 accepted"
    return run


def cases():
    out = _argument_cases()
    for chunk in (2**40, 2**62):
        out.append(harness.Case("kernel memory", f"backward scratch of time_chunk={chunk}", _huge_scratch(chunk)))
    for charge_kw in (dict(charge="if", v_threshold=0.5), dict(charge="lif", v_threshold=0.5, decay=0.5),
                      dict(charge="alif", v_threshold=0.5, decay=0.5, rho=0.9, beta=0.2, a0=0.0),
                      dict(charge="adlif", v_threshold=0.5, alpha=0.9, beta=0.97, a=0.1, b=0.2, w0=0.0)):
        for value in (math.inf, -math.inf, math.nan):
            for soft in (False, True):
                out.append(harness.Case("non-finite input", f"{charge_kw['charge']} {'soft' if soft else 'hard'} {value}",
                                        _nonfinite(charge_kw, value, soft)))
    for cls_name in ("IFNode", "LIFNode", "ParametricLIFNode", "AdaptiveLIFNode", "AdLIFNode", "IzhikevichNode",
                     "CubaLIFNode", "CubaLINode", "IntegratorNode", "NonSpikingLIFNode"):
        for backend in ("auto", "torch"):
            out.append(harness.Case("empty sequence", f"{cls_name} T=0 backend={backend}", _empty_sequence(cls_name, backend)))
    return out


if __name__ == "__main__":
    harness.main(cases)
