"""The SDNN model (Kheradpisheh et al. 2018) on tiny images: shapes, one spike per neuron with
lateral inhibition, STDP on the winners only, the readout, and the errors for sizes that do not fit."""

import pytest
import torch

from spikesmith.models.sdnn import SDNN

pytestmark = pytest.mark.usefixtures("one_thread")


def _net(**kw):
    torch.manual_seed(0)
    args = dict(image_size=(16, 16), num_classes=3, time_steps=6, dog_size=5, dog_threshold=0.01, maps=(4, 6),
                kernels=(3, 3), thresholds=(3.0, 2.0), pools=(2,))
    return SDNN(**{**args, **kw})


def _images(n=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(n, 1, 16, 16)
    x[:, :, 4:12, 4:12] = torch.rand(n, 1, 8, 8, generator=g)
    return x


def test_shapes_and_one_spike_per_position_after_lateral_inhibition():
    net = _net()
    x = _images()
    t_in = net.encode(x)
    assert t_in.shape == (6, 2, 16, 16) and bool(torch.isfinite(t_in).any())
    times, _ = net.spikes(0, t_in)
    assert times.shape == (6, 4, 14, 14) and bool(torch.isfinite(times).any())
    t2 = net.input_times(1, x)                                          # after inhibition and pooling
    assert t2.shape == (6, 4, 7, 7)
    assert bool((torch.isfinite(t2).sum(1) <= 4).all())
    from spikesmith.learning.winner_take_all import lateral_inhibition
    assert bool((torch.isfinite(lateral_inhibition(*net.spikes(0, t_in))).sum(1) <= 1).all())
    f = net.features(x)
    assert f.shape == (6, 6) and bool((f >= 0).all())


def test_learning_moves_only_winner_maps_towards_the_bounds():
    net = _net()
    before = [w.detach().clone() for w in net.weights]
    count = net.learn(0, _images(1)[0], a_plus=0.05, a_minus=0.04, winners=2, radius=1)
    assert 1 <= count <= 2
    changed = [(net.weights[0][m] != before[0][m]).any().item() for m in range(4)]
    assert sum(changed) == count
    assert torch.equal(net.weights[1], before[1])                       # the other layer is untouched
    assert float(net.weights[0].min()) >= 0 and float(net.weights[0].max()) <= 1


def test_readout_fits_separable_features():
    net = _net()
    g = torch.Generator().manual_seed(3)
    labels = torch.arange(30) % 3
    feats = torch.nn.functional.one_hot(labels, 6).float() * 5 + torch.rand(30, 6, generator=g)
    net.fit_readout(feats, labels, epochs=60, lr=0.1)
    assert float((net.readout(feats).argmax(1) == labels).float().mean()) == 1.0


@pytest.mark.parametrize("kw, match", [
    (dict(image_size=(4, 4)), "smaller than the 5 x 5 DoG window"),
    (dict(image_size=(8, 8), kernels=(3, 5)), "too small for these layers"),
    (dict(maps=(4,), kernels=(3,), thresholds=(1.0,), pools=(2,)), "one pool per gap"),
    (dict(in_channels=3), "grayscale"),
    (dict(thresholds=(0.0, 1.0)), "thresholds must be > 0"),
])
def test_sizes_that_do_not_fit_are_named(kw, match):
    with pytest.raises(ValueError, match=match):
        _net(**kw)


def test_learn_refuses_a_non_positive_a_plus():
    with pytest.raises(ValueError, match="a_plus must be > 0"):
        _net().learn(0, _images(1)[0], a_plus=0.0, a_minus=0.01)
