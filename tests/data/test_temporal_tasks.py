import pytest
import torch

from spikesmith.data.temporal_tasks import delayed_pattern_recall, temporal_xor


def test_delayed_recall_repeats_one_pattern_per_label_then_stays_quiet():
    x, labels = delayed_pattern_recall(40, n_patterns=3, pattern_steps=20, delay_steps=15, drop=0.0,
                                       noise_rate=0.0, seed=1)
    assert x.shape == (35, 40, 8) and x.dtype == torch.float32 and labels.shape == (40,)
    assert set(labels.tolist()) == {0, 1, 2}
    assert float(x[20:].sum()) == 0.0, "no spikes in the delay without noise"
    for label in range(3):
        same = x[:20, labels == label]
        assert torch.equal(same, same[:, :1].expand_as(same)), "one template per label"
    first = [x[:20, labels == label][:, 0] for label in range(3)]
    assert not torch.equal(first[0], first[1])
    again, labels_again = delayed_pattern_recall(40, n_patterns=3, pattern_steps=20, delay_steps=15, drop=0.0,
                                                 noise_rate=0.0, seed=1)
    assert torch.equal(again, x) and torch.equal(labels_again, labels)
    noisy, _ = delayed_pattern_recall(40, n_patterns=3, pattern_steps=20, delay_steps=15, seed=1)
    assert float(noisy[20:].sum()) > 0 and not torch.equal(noisy[:20], x[:20])


def test_temporal_xor_labels_are_the_xor_of_the_two_bursts():
    x, labels = temporal_xor(64, n_channels=4, burst_steps=5, gap_steps=7, tail_steps=3, rate=1.0,
                             noise_rate=0.0, seed=2)
    assert x.shape == (20, 64, 4)
    a = (x[:5, :, :2].sum((0, 2)) > 0).long()
    b = (x[12:17, :, :2].sum((0, 2)) > 0).long()
    assert torch.equal(labels, a ^ b)
    assert torch.equal(x[:5, :, 2:].sum((0, 2)) > 0, a == 0), "a 0-bit fires the second channel half"
    assert float(x[5:12].sum()) == 0 and float(x[17:].sum()) == 0
    assert 0 < int(labels.sum()) < 64


@pytest.mark.parametrize("call, words", [
    (lambda: delayed_pattern_recall(0), "n_samples"),
    (lambda: delayed_pattern_recall(4, rate=2.0), "rate"),
    (lambda: temporal_xor(4, n_channels=3), "even"),
])
def test_bad_task_arguments(call, words):
    with pytest.raises(ValueError, match=words):
        call()
