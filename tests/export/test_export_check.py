"""check(): each planted violation is found, with its fix and severity."""

import pytest
import torch
from torch import nn

from spikesmith import layer, neuron
from spikesmith.export import check
from spikesmith.models import build_model

M = dict(step_mode="m")


def _find(issues, layer_name, text):
    hits = [i for i in issues if layer_name in i.layer and text in i.problem]
    assert hits, [str(i) for i in issues]
    return hits[0]


def test_clean_models_have_no_blocking_issue():
    for m in (build_model("fcsnn", readout="spike"),
              build_model("csnn", channels=4, pool="avg", neuron="plif", readout="spike")):
        assert [i for i in check(m, "nir", (1, 28, 28))] == []
        assert all(i.severity == "precision" for i in check(m, "loihi2", (1, 28, 28)))


@pytest.mark.parametrize("target", ["nir", "loihi2"])
def test_planted_violations_are_each_found(target):
    net = nn.Sequential(
        layer.Conv2d(1, 2, 3, padding=1, **M), neuron.LIFNode(v_reset=None, **M),           # 1 soft reset
        layer.MaxPool2d(2, **M),                                                           # 2 max pooling
        layer.Conv2d(2, 2, 3, padding=1, **M), neuron.IFNode(v_init=0.3, **M),              # 4 initial potential
        layer.Flatten(**M), layer.Linear(32, 8, **M), neuron.AdaptiveLIFNode(**M),          # 7 unsupported neuron
        layer.Linear(8, 4, **M), layer.BatchNorm1d(4, **M), neuron.IFNode(**M),
        layer.Conv3d(1, 1, 1, **M),                                                        # 11 unsupported layer
    )
    issues = check(net, target, (1, 8, 8))
    assert _find(issues, "'1'", "soft reset").severity == "approximate"
    assert "v_reset=0.0" in _find(issues, "'1'", "soft reset").fix
    assert _find(issues, "'2'", "max pooling").severity == "approximate"
    assert _find(issues, "'4'", "initial potential").severity == "approximate"
    assert _find(issues, "'7'", "AdaptiveLIFNode").severity == "error"
    assert _find(issues, "'11'", "Conv3d").severity == "error"
    assert not [i for i in issues if "'9'" in i.layer]             # BatchNorm after linear: folded


def test_loihi_specific_violations():
    net = nn.Sequential(
        layer.Linear(4, 6, **M), neuron.LIFNode(tau=torch.linspace(2, 3, 6), **M),          # per-neuron tau
        layer.Linear(6, 5, **M), neuron.LIFNode(v_leak=0.2, v_init=0.2, **M),                # leak != reset
        layer.Linear(6 - 1, 3, **M), neuron.CubaLIFNode(tau_syn=4.0, **M),                   # bias into the current
        layer.Linear(3, 3, **M), neuron.NonSpikingLIFNode(**M), neuron.IFNode(**M),          # readout not last
    )
    issues = check(net, "loihi2", (4,))
    assert "one tau per layer" in _find(issues, "'1'", "per-neuron tau").fix
    assert _find(issues, "'3'", "leaks towards v_leak").severity == "approximate"
    _find(issues, "'5'", "bias into a synaptic current")
    _find(issues, "'7'", "readout is only supported as the last layer")
    assert _find(issues, "'0'", "8 bits").severity == "precision"
    nir_issues = check(net, "nir", (4,))
    assert not [i for i in nir_issues if "per-neuron" in i.problem or "bias" in i.problem]


def test_ann_and_bad_target():
    with pytest.raises(ValueError, match="unknown export target .spinnaker.; known export targets: loihi2, nir"):
        check(build_model("fcsnn"), "spinnaker")
    issues = check(build_model("fcsnn", ann=True), "nir", (1, 28, 28))
    assert "convert the ANN first" in _find(issues, "'2'", "ANN activation").fix
    with pytest.raises(TypeError, match="defines its own forward"):
        check(build_model("rsnn"), "nir")
