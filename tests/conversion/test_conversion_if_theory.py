"""IF with soft reset on a constant input: floor-style counts; the V_th/(2T) shift makes them rounds."""

import math

import pytest
import torch

from spikesmith.conversion import IFActivation, quantize
from spikesmith.neuron import IFNode


def _counts(layer: IFActivation, c: torch.Tensor, T: int) -> torch.Tensor:
    layer.T = T
    out = layer(c.unsqueeze(0).expand(T, *c.shape).flatten(0, 1))      # [T*N, ...], amplitude V_th
    return (out.unflatten(0, (T, -1)) / layer.threshold).sum(0)


# constant inputs away from the rounding boundaries, including below 0 and above V_th
C = torch.tensor([-0.5, 0.0, 0.013, 0.1, 0.2471, 0.333, 0.52, 0.61, 0.777, 0.9, 1.0 - 1e-3, 1.2, 3.0],
                 dtype=torch.float64)


@pytest.mark.parametrize("T", [1, 4, 7, 16, 64])
@pytest.mark.parametrize("v_th", [1.0, 0.37])
def test_if_soft_reset_counts_are_clamped_floors(T, v_th):
    c = C * v_th
    layer = IFActivation(torch.tensor(v_th, dtype=torch.float64)).double()
    got = _counts(layer, c.unsqueeze(1), T).squeeze(1)
    expected = torch.tensor([min(max(math.floor(float(ci) * T / v_th + 1e-9), 0), T) for ci in c],
                            dtype=torch.float64)
    torch.testing.assert_close(got, expected)
    torch.testing.assert_close(got * v_th / T, quantize(c, torch.tensor(v_th, dtype=torch.float64), T))


@pytest.mark.parametrize("T", [2, 4, 8, 32])
def test_shift_turns_floor_into_round(T):
    v_th = 0.8
    # inputs at k + 0.3 and k + 0.7 quanta: floor gives k for both, round gives k and k + 1
    k = torch.arange(0, T, dtype=torch.float64)
    c = torch.cat([(k + 0.3), (k + 0.7)]) * v_th / T
    plain = IFActivation(torch.tensor(v_th, dtype=torch.float64)).double()
    shifted = IFActivation(torch.tensor(v_th, dtype=torch.float64), shift_bias=True).double()
    n_plain = _counts(plain, c.unsqueeze(1), T).squeeze(1)
    n_shift = _counts(shifted, c.unsqueeze(1), T).squeeze(1)
    torch.testing.assert_close(n_plain, torch.floor(c * T / v_th))
    torch.testing.assert_close(n_shift, torch.clamp(torch.round(c * T / v_th), 0, T))
    assert bool((n_shift[T:] == n_plain[T:] + 1)[: T - 1].all())
    # the same with the shift as an initial potential V_th / 2 (QCFS-style)
    pot = IFActivation(torch.tensor(v_th, dtype=torch.float64)).double()
    pot.set_v_init(torch.tensor(v_th / 2, dtype=torch.float64))
    torch.testing.assert_close(_counts(pot, c.unsqueeze(1), T).squeeze(1), n_shift)
    torch.testing.assert_close(n_shift * v_th / T, quantize(c, torch.tensor(v_th, dtype=torch.float64), T, shift=True))


def test_per_channel_thresholds_and_ifnode_is_multistep():
    th = torch.tensor([0.5, 1.0, 2.0]).view(3, 1, 1)
    layer = IFActivation(th, bias_shape=(3, 1, 1))
    T = 8
    x = torch.full((2, 3, 2, 2), 0.5)
    counts = _counts(layer, x, T)
    torch.testing.assert_close(counts[:, :, 0, 0], torch.tensor([[8.0, 4.0, 2.0]] * 2))
    assert isinstance(layer.neuron, IFNode) and layer.neuron.step_mode == "m" and layer.neuron.v_reset is None
