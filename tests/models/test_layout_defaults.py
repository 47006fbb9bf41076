"""Each conv family's static memory-layout default (issue 20, item 4): ``run_defaults['channels_last']``
chosen from ``bench/bench_convnet.py --models`` (recorded in bench/results/layout_defaults), under
the config file and the command line."""

import pytest

from spikesmith.models import config_class
from spikesmith.training import make_config

CHOSEN = {"csnn": False, "vgg": False, "resnet": True}


@pytest.mark.parametrize("model", sorted(CHOSEN))
def test_each_conv_family_sets_its_measured_layout(model):
    assert config_class(model).run_defaults["channels_last"] is CHOSEN[model]
    assert make_config(overrides={"dataset": "fashion_mnist", "model": model}).channels_last is CHOSEN[model]


@pytest.mark.parametrize("model", sorted(CHOSEN))
def test_the_command_line_overrides_the_family_layout(model):
    flipped = not CHOSEN[model]
    cfg = make_config(overrides={"dataset": "fashion_mnist", "model": model, "channels_last": str(flipped).lower()})
    assert cfg.channels_last is flipped


def test_a_family_without_convolutions_keeps_the_plain_default():
    assert "channels_last" not in config_class("fcsnn").run_defaults
    assert make_config(overrides={"dataset": "digits", "model": "fcsnn"}).channels_last is False
