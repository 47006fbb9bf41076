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
    with pytest.raises(ValueError, match=r"unknown dataset 'cifar'; known datasets: delayed_recall \(aliases: delayed_pattern_recall\), "
                                         r"digits, dvsgesture \(aliases: dvs128_gesture"):
        event_info("cifar", T=4)


@pytest.mark.parametrize("name", ["nmnist", "N-MNIST", "dvsgesture"])
def test_get_dataset_sends_an_event_dataset_to_its_loaders(name):
    from spikesmith.data import dataset_info, get_dataset

    for load in (lambda: get_dataset(name, "test"), lambda: dataset_info(name)):
        with pytest.raises(ValueError, match=r"is an event-camera dataset: .*event_frames; get_dataset loads "
                                             r"fashion_mnist, mnist, digits, sfmnist"):
            load()


def test_every_static_name_has_a_loader():
    from spikesmith.data import dataset_info, dataset_names

    assert [dataset_info(n).name for n in dataset_names()] == list(dataset_names())
