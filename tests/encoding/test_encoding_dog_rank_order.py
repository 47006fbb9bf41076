"""The DoG front end and the rank-order code of the SDNN: hand-computed kernel values, no response
to a constant image, stronger inputs earlier, and one-line errors."""

import math

import pytest
import torch

from spikesmith.encoding.dog import dog_kernel, dog_on_off
from spikesmith.encoding.rank_order import rank_order_encode, rank_order_times


def _gauss(r2, s):
    return math.exp(-r2 / (2 * s * s)) / (2 * math.pi * s * s)


def test_dog_kernel_matches_the_hand_computed_3x3():
    # centre r^2 = 0, edges r^2 = 1 (4 of them), corners r^2 = 2 (4): DoG(r) = G_1 - G_2, then the mean removed
    d = [_gauss(r2, 1.0) - _gauss(r2, 2.0) for r2 in (0, 1, 2)]
    mean = (d[0] + 4 * d[1] + 4 * d[2]) / 9
    k = dog_kernel(3, 1.0, 2.0)
    assert k[1, 1].item() == pytest.approx(0.06655607339479533, abs=1e-12)
    assert k[1, 1].item() == pytest.approx(d[0] - mean, abs=1e-12)
    assert k[0, 1].item() == pytest.approx(d[1] - mean, abs=1e-12)
    assert k[0, 0].item() == pytest.approx(d[2] - mean, abs=1e-12)
    assert abs(k.sum().item()) < 1e-15
    assert torch.equal(k, k.T) and torch.equal(k, k.flip(0))


def test_dog_gives_zero_response_to_a_constant_image_edges_included():
    k = dog_kernel(7, 1.0, 2.0)
    out = dog_on_off(torch.full((2, 1, 12, 10), 0.7), k)
    assert out.shape == (2, 2, 12, 10)
    assert out.abs().max().item() < 1e-6


def test_dog_on_and_off_channels_of_a_bright_dot():
    k = dog_kernel(5, 1.0, 2.0)
    img = torch.zeros(1, 1, 9, 9, dtype=torch.float64)
    img[0, 0, 4, 4] = 1.0
    out = dog_on_off(img, k)
    # one bright pixel: the response is the (symmetric) kernel around it, on at the centre, off in the ring
    assert out[0, 0, 4, 4].item() == pytest.approx(k[2, 2].item(), abs=1e-12)
    assert out[0, 1, 4, 4].item() == 0.0
    assert out[0, 1, 2, 2].item() == pytest.approx(-k[0, 0].item(), abs=1e-12) and k[0, 0] < 0
    assert bool((out >= 0).all())
    assert dog_on_off(img, k, threshold=1.0).abs().max().item() == 0.0   # above every response: silent


@pytest.mark.parametrize("call, match", [
    (lambda: dog_on_off(torch.rand(1, 1, 5, 5), dog_kernel(7)), "smaller than the 7 x 7 DoG window"),
    (lambda: dog_on_off(torch.rand(1, 3, 9, 9), dog_kernel(7)), "grayscale"),
    (lambda: dog_kernel(6), "odd int"),
    (lambda: dog_kernel(7, 2.0, 2.0), "two different widths"),
    (lambda: dog_kernel(7, 0.0, 2.0), "sigma_centre must be a positive"),
    (lambda: dog_on_off(torch.rand(1, 1, 9, 9), dog_kernel(7), threshold=-1.0), "threshold must be"),
])
def test_dog_bad_input_is_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_rank_order_stronger_fires_earlier():
    x = torch.tensor([[0.2, 0.9, 0.0, 0.5]])
    assert rank_order_times(x, T=3).tolist() == [[2.0, 0.0, math.inf, 1.0]]
    # two per step when there are more inputs than steps; a zero never fires
    t = rank_order_times(torch.tensor([[6.0, 1.0, 5.0, 2.0, 4.0, 3.0, 0.0]]), T=3)
    assert t.tolist() == [[0.0, 2.0, 0.0, 2.0, 1.0, 1.0, math.inf]]


def test_rank_order_order_holds_for_random_inputs_and_any_scale():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(5, 2, 6, 6, generator=g) * (torch.rand(5, 2, 6, 6, generator=g) > 0.3)
    t = rank_order_times(x, T=7)
    assert torch.equal(t, rank_order_times(x * 250.0, T=7))            # the order only
    for n in range(5):
        v, s = x[n].flatten(), t[n].flatten()
        stronger = v[:, None] > v[None, :]
        assert bool((s[:, None] <= s[None, :])[stronger].all())        # never after a weaker input
        assert bool(torch.isinf(s[v == 0]).all()) and bool(torch.isfinite(s[v > 0]).all())
        assert float(s[v > 0].max()) <= 6


def test_rank_order_encode_one_spike_per_input_and_cumulative():
    x = torch.tensor([[0.2, 0.9, 0.0, 0.5]])
    s = rank_order_encode(x, 3)
    assert s.shape == (3, 1, 4) and s.sum(0).tolist() == [[1.0, 1.0, 0.0, 1.0]]
    c = rank_order_encode(x, 3, cumulative=True)
    assert torch.equal(c, s.cumsum(0))


def test_rank_order_refuses_negative_inputs():
    with pytest.raises(ValueError, match="on/off channels"):
        rank_order_times(torch.tensor([[0.5, -0.1]]), 4)
