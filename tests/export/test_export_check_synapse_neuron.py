"""check(model, 'loihi2') flags a conv/linear layer that no neuron follows (netx blocks are synapse + neuron):
a membrane-readout network ends with a Linear, which to_lava refuses; a readout IntegratorNode fixes it."""

from collections import OrderedDict

import pytest
import torch
from torch import nn

from spikesmith import layer, neuron
from spikesmith.export import check, to_lava
from spikesmith.models import build_model

M = dict(step_mode="m")


def _synapse_issues(issues):
    return [i for i in issues if "not by a neuron" in i.problem]


def test_membrane_readout_is_flagged_for_loihi_only():
    net = build_model("csnn", channels=4, pool="avg", readout="membrane")
    hits = _synapse_issues(check(net, "loihi2", (1, 28, 28)))
    assert [i.layer for i in hits] == ["Linear '12'"]
    assert hits[0].severity == "error" and "ends the network" in hits[0].problem
    assert "IntegratorNode" in hits[0].fix and "readout='spike'" in hits[0].fix
    assert _synapse_issues(check(net, "nir", (1, 28, 28))) == []          # NIR takes a trailing Affine
    spiking = build_model("csnn", channels=4, pool="avg", neuron="plif", readout="spike")
    assert _synapse_issues(check(spiking, "loihi2", (1, 28, 28))) == []


def test_synapse_followed_by_synapse_is_named():
    net = nn.Sequential(layer.Linear(4, 3, **M), layer.Linear(3, 2, **M), neuron.IFNode(**M))
    hits = _synapse_issues(check(net, "loihi2", (4,)))
    assert [i.layer for i in hits] == ["Linear '0'"]
    assert "followed by Linear '1'" in hits[0].problem


def test_readout_neuron_appended_exports(tmp_path):
    pytest.importorskip("h5py")
    net = build_model("fcsnn", in_shape=(1, 8, 8), hidden=6, readout="membrane")
    with pytest.raises(ValueError, match="not by a neuron"):
        to_lava(net, tmp_path / "a.net", (1, 8, 8))
    fixed = nn.Sequential(OrderedDict(list(net.named_children()) + [("readout", neuron.IntegratorNode(**M))]))
    assert [i for i in check(fixed, "loihi2", (1, 8, 8)) if i.severity != "precision"] == []
    info = to_lava(fixed, tmp_path / "b.net", (1, 8, 8))
    assert info.layers[-1].readout and info.layers[-1].neuron["vDecay"] == 0
    x = (torch.rand(3, 2, 1, 8, 8) < 0.4).float()
    with torch.no_grad():                                    # same prediction: argmax of the sum = of the mean
        assert torch.equal(net(x).mean(0).argmax(-1), fixed(x)[-1].argmax(-1))
