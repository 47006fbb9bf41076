"""Dataset names live in one list: every alias the event datasets accept resolves from the CLI's lookup too."""

from __future__ import annotations

import pytest

from spikesmith.data.event_frames import event_info, is_event_dataset
from spikesmith.data.names import ALIASES, EVENT_NAMES, canonical_name, valid_names


@pytest.mark.parametrize("alias, name", [("n-mnist", "nmnist"), ("N-MNIST", "nmnist"), ("dvs128_gesture", "dvsgesture"),
                                         ("DVS-Gesture", "dvsgesture"), ("neuromorphic_fashion_mnist", "nfmnist")])
def test_event_aliases_resolve_everywhere(alias, name):
    assert canonical_name(alias) == name
    assert is_event_dataset(alias)
    assert event_info(alias, T=4).name == name


def test_every_alias_points_at_a_listed_name():
    canonical = set(valid_names()) - set(ALIASES)
    assert set(ALIASES.values()) <= canonical and set(EVENT_NAMES) <= canonical


def test_a_static_dataset_is_not_an_event_dataset():
    assert not is_event_dataset("digits") and not is_event_dataset("no-such-set") and not is_event_dataset(None)
    with pytest.raises(ValueError, match="not an event-camera dataset; event datasets: nfmnist, nmnist, dvsgesture"):
        event_info("digits", T=4)
    with pytest.raises(ValueError, match=r"unknown dataset 'cifar'; known datasets: digits, dvsgesture \(aliases: dvs128_gesture"):
        event_info("cifar", T=4)
