"""Every argument of the fused kernels is checked in Python before it reaches compiled code, and an
allocation the compiled code cannot make is a MemoryError naming its size, never a crash (issue 14)."""

import math
import subprocess
import sys

import pytest
import torch

from spikesmith import kernels, surrogate

X = torch.rand(5, 3, 4)
LIF = dict(charge="lif", v_threshold=0.5, v_reset=0.0, decay=0.5, surrogate=surrogate.Sigmoid())


def call(x=X, v0=0.0, **changes):
    kw = {**LIF, **changes}
    if kw["charge"] != LIF["charge"] and "decay" not in changes:
        kw.pop("decay")
    return kernels.multi_step(x, v0, **kw)


_HUGE_SCRATCH = """
import torch
from spikesmith import kernels, surrogate
from spikesmith.kernels import cpu, fused

x = torch.rand(3, 5, 4).requires_grad_()
spec = kernels.KernelSpec("lif", {"decay": 0.5}, v_threshold=0.5, v_reset=0.0, surrogate=surrogate.Sigmoid())
# past the Python cap (time_chunk <= T): the backward's scratch of time_chunk x 512 floats per thread
for chunk in map(int, __import__("sys").argv[1:]):
    plan = fused.Plan(spec, x[0], cpu.LAUNCHER, chunk)
    s, v = fused.apply(plan, x, [0.0])
    try:
        s.sum().backward()
    except MemoryError as err:
        print("MemoryError:", err)
"""


def test_an_impossible_scratch_is_a_memory_error_naming_its_size():
    # in a subprocess: without the check malloc's NULL was written to (exit 139), which would kill pytest.
    # 2^40 steps x 2 KiB: 2 PB, malloc fails; 2^62 x 2 KiB: the size overflows 64 bits (it wrapped to a
    # small buffer, overrun in place)
    chunks = [2**40, 2**62]
    out = subprocess.run([sys.executable, "-c", _HUGE_SCRATCH, *map(str, chunks)], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    for chunk in chunks:
        assert f"could not allocate {chunk * 512 * 4} bytes" in out.stdout


@pytest.mark.parametrize("changes, match", [
    (dict(v_threshold=math.nan), "v_threshold must be finite"),
    (dict(v_threshold=math.inf), "v_threshold must be finite"),
    (dict(v_threshold=torch.tensor([0.5, math.nan, 0.5, 0.5])), "v_threshold must be finite"),
    (dict(v_reset=math.nan), "v_reset must be finite"),
    (dict(v_reset=1.0), "v_threshold must be greater than v_reset"),
    (dict(decay=math.nan), "decay must be finite"),
    (dict(decay=1.5), r"decay must lie in \[0, 1\]"),
    (dict(decay=-0.1), r"decay must lie in \[0, 1\]"),
    (dict(decay=torch.full((4,), 2.0)), r"decay must lie in \[0, 1\]"),
    (dict(decay=torch.ones(7)), "does not broadcast to one step"),
    (dict(charge="alif", decay=0.5, rho=1.5, beta=0.1, a0=0.0), r"rho must lie in \[0, 1\]"),
    (dict(charge="alif", decay=0.5, rho=0.5, beta=-1.0, a0=0.0), r"beta must lie in \[0, inf\]"),
    (dict(charge="alif", decay=0.5, rho=0.5, beta=0.1, a0=math.nan), "the initial a .* must be finite"),
    (dict(time_chunk=0), "time_chunk must be a positive int"),
    (dict(time_chunk=-1), "time_chunk must be a positive int"),
    (dict(time_chunk=2.5), "time_chunk must be a positive int"),
    (dict(charge="nosuch"), "nosuch"),
])
def test_bad_numbers_are_value_errors(changes, match):
    with pytest.raises(ValueError, match=match):
        call(**changes)


def test_adlif_ranges():
    kw = dict(charge="adlif", v_reset=None, alpha=0.9, beta=0.95, a=0.1, b=0.2, w0=0.0)
    call(**kw)
    for bad in (dict(alpha=1.2), dict(beta=-0.1)):
        with pytest.raises(ValueError, match="must lie in"):
            call(**{**kw, **bad})
    with pytest.raises(ValueError, match="b must be finite"):
        call(**{**kw, "b": math.inf})


@pytest.mark.parametrize("x, v0, changes, error, match", [
    (X.double(), 0.0, {}, TypeError, "float32 CPU tensor"),
    (X.to(torch.int32), 0.0, {}, TypeError, "float32 CPU tensor"),
    (X.numpy(), 0.0, {}, TypeError, "float32 CPU tensor"),
    (torch.rand(5), 0.0, {}, ValueError, r"x_seq must be \[T, N, ...\]"),
    (X, torch.zeros(2, 4), {}, ValueError, "initial v of shape .* does not broadcast"),
    (X, torch.zeros(3, 4, dtype=torch.int64), {}, TypeError, "initial v must be a floating tensor"),
    (X, "0", {}, TypeError, r"initial v \(v0\) must be a number or a tensor"),
    (X, math.nan, {}, ValueError, r"initial v \(v0\) must be finite"),
    (X, 0.0, dict(surrogate="sigmoid"), TypeError, "surrogate must be a spikesmith SurrogateFunction"),
    (X, 0.0, dict(detach_reset="yes"), TypeError, "detach_reset must be a bool"),
    (X, 0.0, dict(v_threshold="1"), TypeError, "v_threshold must be a number or a tensor"),
    (X, 0.0, dict(tau=2.0), TypeError, "takes no argument tau"),
])
def test_bad_types_and_shapes(x, v0, changes, error, match):
    with pytest.raises(error, match=match):
        call(x, v0, **changes)


def test_time_chunk_none_and_numpy_ints_are_accepted():
    import numpy as np

    ref = call(time_chunk=5)
    for chunk in (None, np.int64(5), 10**8):
        got = call(time_chunk=chunk)
        assert torch.equal(ref[0], got[0]) and torch.equal(ref[1], got[1])


def test_a_non_contiguous_input_gives_the_contiguous_result():
    base = torch.rand(4, 5, 3) * 1.5
    x = base.permute(0, 2, 1)   # steps not dense in memory
    assert not x.is_contiguous()
    xs = [x.clone().requires_grad_(), x.contiguous().requires_grad_()]
    outs = []
    for xi in xs:
        s, v, _ = call(xi)
        (s * torch.linspace(-1, 1, s.numel()).view_as(s)).sum().backward()
        outs.append((s.detach(), v.detach(), xi.grad))
    for a, b in zip(*outs):
        assert torch.equal(a, b)


_ARCH = """
import torch
from spikesmith import kernels, surrogate
from spikesmith.kernels import _build
s, v, _ = kernels.multi_step(torch.rand(4, 3, 700) * 2, 0.0, charge="lif", v_threshold=0.5, v_reset=0.0, decay=0.5,
                             surrogate=surrogate.Sigmoid())
lib = _build.library(kernels.CHARGES.get("lif"))
print(" ".join(lib.flags))
print(lib.path)
"""


def test_the_instruction_set_is_an_environment_switch(monkeypatch):
    import os

    from spikesmith.kernels import _build

    # this process's library was built for whatever the suite runs with; a child builds for the other
    here = _build.library(kernels.CHARGES.get("lif"))
    other = "native" if "-mavx2" in here.flags else "avx2"
    out = subprocess.run([sys.executable, "-c", _ARCH], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "SPIKESMITH_KERNEL_ARCH": other})
    assert out.returncode == 0, out.stderr[-2000:]
    flags, path = out.stdout.split("\n")[:2]
    avx2 = flags if other == "avx2" else " ".join(here.flags)
    native = flags if other == "native" else " ".join(here.flags)
    assert "-mavx2" in avx2 and "-mno-avx512f" in avx2 and "-march=native" not in avx2
    assert "-march=native" in native
    assert path != str(here.path)   # the flags are in the cache key: another library
    monkeypatch.setenv("SPIKESMITH_KERNEL_ARCH", "avx3")
    with pytest.raises(ValueError, match="SPIKESMITH_KERNEL_ARCH='avx3' is not one of native, avx2, generic"):
        _build.arch_flags()
