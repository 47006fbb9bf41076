"""The sparse spike kernels (kernels.sparse) against torch's dense Linear and Conv2d on binary inputs:
every geometry the kernels take (stride, padding, kernel shapes, channel counts around the 16-lane and
64-bit word boundaries, bias or none), empty inputs, one sample, and the refusal of values other than
0 and 1. The sums differ from torch's only by the order of the float additions (tolerance 1e-5
relative to the sum of absolute weights)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from spikesmith.kernels import sparse

pytestmark = pytest.mark.skipif(not sparse.available(), reason=f"sparse kernels: {sparse.unavailable_reason()}")


def spikes(shape, density, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, generator=g) < density).float()


def close(a, b, scale):
    # float reassociation only: the error is bounded by a few ulps of the sum of |terms|
    assert a.shape == b.shape
    assert float((a - b).abs().max()) <= 1e-5 * max(1.0, float(scale))


@pytest.mark.parametrize("rows,inp,out", [(1, 5, 3), (7, 100, 64), (33, 200, 130), (4, 17, 10), (2, 3, 1)])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("density", [0.0, 0.1, 0.5, 1.0])
def test_spike_linear_equals_the_dense_product(rows, inp, out, bias, density):
    torch.manual_seed(rows + inp)
    x = spikes((rows, inp), density, seed=out)
    w = torch.randn(out, inp)
    b = torch.randn(out) if bias else None
    index = sparse.gather_spikes(x)
    assert index.spikes == int(x.sum())
    assert index.density == pytest.approx(float(x.mean()))
    y = sparse.spike_linear(index, sparse.linear_weight(w), b)
    close(y, F.linear(x, w, b), w.abs().sum(1).max())


def test_gather_lists_the_active_positions_of_each_row():
    x = torch.tensor([[0, 1, 0, 1, 1.0], [0, 0, 0, 0, 0], [1, 0, 0, 0, 0]])
    index = sparse.gather_spikes(x)
    lists = [index.idx[int(s): int(s) + int(c)].tolist() for s, c in zip(index.start, index.count)]
    assert lists == [[1, 3, 4], [], [0]]
    assert index.spikes == 4


def test_gather_of_long_rows_uses_the_vector_path_and_its_tail():
    x = spikes((3, 16 * 5 + 7), 0.3, seed=3)
    index = sparse.gather_spikes(x)
    for r in range(3):
        got = index.idx[int(index.start[r]): int(index.start[r] + index.count[r])].tolist()
        assert got == torch.nonzero(x[r]).flatten().tolist()


CONV_CASES = [
    # N, C, O, H, W, kernel, stride, padding
    (2, 3, 5, 9, 11, (3, 3), (1, 1), (1, 1)),
    (1, 4, 16, 8, 8, (3, 3), (2, 2), (0, 0)),
    (3, 70, 33, 7, 6, (3, 2), (2, 1), (2, 1)),     # two 64-bit words of channels, a 17-wide tail
    (2, 32, 80, 10, 10, (5, 5), (1, 1), (2, 2)),   # O over 64: two blocks
    (1, 1, 1, 5, 5, (1, 1), (1, 1), (0, 0)),
    (2, 16, 32, 6, 9, (2, 4), (3, 2), (1, 3)),
    (1, 64, 64, 4, 4, (3, 3), (1, 1), (1, 1)),
]


@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("density", [0.0, 0.05, 0.4, 1.0])
def test_spike_conv2d_equals_the_dense_convolution(case, bias, density):
    n, c, o, h, w, k, stride, padding = case
    torch.manual_seed(c * o)
    x = spikes((n, c, h, w), density, seed=h * w)
    weight = torch.randn(o, c, *k)
    b = torch.randn(o) if bias else None
    mask = sparse.spike_mask(x)
    assert mask.spikes == int(x.sum())
    y = sparse.spike_conv2d(mask, sparse.conv_weight(weight), b, stride, padding)
    ref = F.conv2d(x, weight, b, stride, padding)
    close(y, ref, weight.abs().sum((1, 2, 3)).max())
    assert y.is_contiguous(memory_format=torch.channels_last)


def test_spike_conv2d_of_a_single_spike_is_the_kernel_footprint():
    # hand-computed: one spike in the middle of a 5x5 input adds the flipped-index kernel around it
    x = torch.zeros(1, 1, 5, 5)
    x[0, 0, 2, 2] = 1
    weight = torch.arange(9.0).reshape(1, 1, 3, 3)
    y = sparse.spike_conv2d(sparse.spike_mask(x), sparse.conv_weight(weight), None, (1, 1), (1, 1))
    expect = torch.zeros(5, 5)
    expect[1:4, 1:4] = torch.arange(9.0).flip(0).reshape(3, 3)   # out[y, x] = w[2 - (y - 1), 2 - (x - 1)]
    assert torch.equal(y[0, 0], expect)


@pytest.mark.parametrize("bad", [0.5, 2.0, -1.0, float("nan"), float("inf")])
def test_values_other_than_zero_and_one_are_refused(bad):
    x = spikes((4, 40), 0.3)
    x[2, 37] = bad
    with pytest.raises(sparse.NonBinaryInputError, match="neither 0 nor 1"):
        sparse.gather_spikes(x)
    x4 = spikes((2, 3, 6, 6), 0.3)
    x4[1, 2, 5, 5] = bad
    with pytest.raises(sparse.NonBinaryInputError, match="neither 0 nor 1"):
        sparse.spike_mask(x4)


def test_bad_arguments_are_clear_errors():
    x = spikes((3, 8), 0.5)
    index = sparse.gather_spikes(x)
    with pytest.raises(ValueError, match="contiguous"):
        sparse.spike_linear(index, torch.randn(4, 8))          # W, not W.T
    with pytest.raises(ValueError, match="bias must have shape"):
        sparse.spike_linear(index, torch.randn(8, 4), torch.randn(3))
    with pytest.raises(TypeError, match="float32"):
        sparse.gather_spikes(x.double())
    with pytest.raises(ValueError, match=r"\[rows, length\]"):
        sparse.gather_spikes(x[0])
    mask = sparse.spike_mask(spikes((1, 2, 3, 3), 0.5))
    with pytest.raises(ValueError, match="smaller than the kernel"):
        sparse.spike_conv2d(mask, sparse.conv_weight(torch.randn(4, 2, 5, 5)))
    with pytest.raises(ValueError, match=r"\[2, kh, kw, O\]"):
        sparse.spike_conv2d(mask, torch.randn(3, 3, 3, 4))


def test_the_kernels_without_avx512_give_the_same_sums(tmp_path):
    """The plain-C++ loops (SPIKESMITH_KERNEL_ARCH=generic) against torch, in a fresh process."""
    script = (
        "import torch, torch.nn.functional as F\n"
        "from spikesmith.kernels import sparse\n"
        "assert sparse.available(), sparse.unavailable_reason()\n"
        "torch.manual_seed(0)\n"
        "x = (torch.rand(5, 70) < 0.3).float(); w = torch.randn(33, 70); b = torch.randn(33)\n"
        "y = sparse.spike_linear(sparse.gather_spikes(x), sparse.linear_weight(w), b)\n"
        "assert (y - F.linear(x, w, b)).abs().max() < 1e-4\n"
        "x = (torch.rand(2, 70, 7, 6) < 0.3).float(); w = torch.randn(33, 70, 3, 2)\n"
        "y = sparse.spike_conv2d(sparse.spike_mask(x), sparse.conv_weight(w), b, (2, 1), (2, 1))\n"
        "assert (y - F.conv2d(x, w, b, (2, 1), (2, 1))).abs().max() < 1e-4\n"
        "x[0, 0, 0, 0] = 0.5\n"
        "try:\n    sparse.spike_mask(x)\nexcept sparse.NonBinaryInputError:\n    print('ok')\n")
    src = Path(sparse.__file__).resolve().parents[2]
    env = dict(os.environ, SPIKESMITH_KERNEL_ARCH="generic", PYTHONPATH=str(src),
               SPIKESMITH_CACHE=os.environ.get("SPIKESMITH_CACHE", str(tmp_path)))
    res = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == "ok"
