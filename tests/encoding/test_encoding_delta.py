"""Delta modulation on hand-made signals."""

import pytest
import torch

from spikesmith.encoding import DeltaEncoder, delta_encode

# threshold 0.3, reference starts at x[0] = 0:
#   t=1 .25: no;  t=2 .5: +.5 -> +1, ref .5;  t=3 .5: no;  t=4 .75: +.25 no;
#   t=5 1: +.5 -> +1, ref 1;  t=6 .5: -.5 -> -1, ref .5;  t=7,8 .25: -.25 no;
#   t=9 1: +.5 -> +1, ref 1
SIGNAL = [0.0, 0.25, 0.5, 0.5, 0.75, 1.0, 0.5, 0.25, 0.25, 1.0]
SIGNED = [0, 0, 1, 0, 0, 1, -1, 0, 0, 1]


def _col(values, dtype=torch.float64):
    return torch.tensor(values, dtype=dtype).view(-1, 1)


def test_signed_train_by_hand():
    assert delta_encode(_col(SIGNAL), 0.3).flatten().tolist() == SIGNED


def test_on_only_still_moves_reference_on_downward_changes():
    # Without the off spike at t=6 moving the reference to .5, t=9 (1.0 - 1.0) would not fire.
    out = delta_encode(_col(SIGNAL), 0.3, off_spike=False).flatten().tolist()
    assert out == [0, 0, 1, 0, 0, 1, 0, 0, 0, 1]


def test_split_polarity_channels():
    out = delta_encode(_col(SIGNAL), 0.3, split_polarity=True)
    assert out.shape == (10, 1, 2)
    assert out[:, 0, 0].tolist() == [max(v, 0) for v in SIGNED]
    assert out[:, 0, 1].tolist() == [max(-v, 0) for v in SIGNED]


def test_ramp_fires_every_time_it_moves_past_threshold():
    # ramp of slope .125 with threshold .3: the change since the last spike reaches .375
    # every third step, so spikes at t = 3, 6, 9; then a step down of 1.5 gives one off spike.
    ramp = [0.125 * t for t in range(10)] + [-0.375]
    out = delta_encode(_col(ramp), 0.3).flatten().tolist()
    assert out == [0, 0, 0, 1, 0, 0, 1, 0, 0, 1, -1]


def test_change_equal_to_threshold_does_not_fire():
    out = delta_encode(_col([0.0, 0.25, 0.0, 0.5]), 0.25).flatten().tolist()
    assert out == [0, 0, 0, 1]


def test_initial_reference():
    x = _col([0.5, 0.5, 0.0])
    assert delta_encode(x, 0.25).flatten().tolist() == [0, 0, -1]
    assert delta_encode(x, 0.25, initial_reference=0.0).flatten().tolist() == [1, 0, -1]


def test_elements_are_independent_and_multidim():
    x = torch.stack([_col(SIGNAL)[:, 0], -_col(SIGNAL)[:, 0]], dim=1).view(10, 1, 2)
    out = delta_encode(x, 0.3)
    assert out.shape == (10, 1, 2) and out.dtype == torch.float64
    assert out[:, 0, 0].tolist() == SIGNED
    assert out[:, 0, 1].tolist() == [-v for v in SIGNED]


def test_module_checks_time_length():
    enc = DeltaEncoder(T=10, threshold=0.3)
    assert enc(_col(SIGNAL, torch.float32)).flatten().tolist() == SIGNED
    with pytest.raises(ValueError, match=r"T=10 .*transpose"):
        enc(torch.zeros(4, 10))
    assert DeltaEncoder()(torch.zeros(3, 2)).shape == (3, 2)
