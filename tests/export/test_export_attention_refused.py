"""Export refuses the spiking transformers' layers by name, with the reason, through the one pipeline."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from spikesmith import layer, neuron
from spikesmith.export import check
from spikesmith.export.ops import kind_of
from spikesmith.export.pipeline import export_model
from spikesmith.models import build_model

M = dict(step_mode="m")


@pytest.mark.parametrize("attention,text", [(layer.SpikingSelfAttention, "Q K^T V"),
                                            (layer.SpikeDrivenSelfAttention, "Q ⊗ SN(SUM_c(K ⊗ V))"),
                                            (layer.QKTokenAttention, "masks K"),
                                            (layer.QKChannelAttention, "masks K")])
@pytest.mark.parametrize("target", ["nir", "loihi2"])
def test_an_attention_layer_in_a_sequential_network_is_refused_by_name(attention, text, target):
    net = nn.Sequential(layer.Linear(8, 8, **M), neuron.LIFNode(**M), attention(8, 2))
    issues = check(net, target, (4, 8))
    hits = [i for i in issues if type(net[2]).__name__ in i.layer]
    assert len(hits) == 1 and hits[0].severity == "error"
    assert text in hits[0].problem and "no node that multiplies two run-time signals" in hits[0].problem
    assert f"{type(net[2]).__name__} '2'" in hits[0].layer


def test_the_pipeline_raises_naming_the_layer_and_writes_nothing(tmp_path):
    pytest.importorskip("nir")
    net = nn.Sequential(layer.Linear(8, 8, **M), neuron.LIFNode(**M), layer.SpikeDrivenSelfAttention(8, 2))
    path = tmp_path / "net.nir"
    with pytest.raises(ValueError, match=r"cannot be exported to nir exactly:\n.*SpikeDrivenSelfAttention '2': "
                                         r"no export target runs it"):
        export_model(net, "nir", torch.rand(3, 1, 4, 8), path)
    assert not path.exists()


@pytest.mark.parametrize("name,inside", [("spikformer", "SpikingSelfAttention 'stages.0.attention'"),
                                         ("sdt", "SpikeDrivenSelfAttention 'stages.0.attention'"),
                                         ("qkformer", "QKTokenAttention 'stages.first.0.attention'")])
def test_a_transformer_model_is_refused_naming_its_attention(name, inside):
    net = build_model(name, depth=2, dim=32, heads=2)
    with pytest.raises(TypeError, match="defines its own forward") as err:
        check(net, "nir", (1, 8, 8))
    assert "it holds layers no export target runs: SpikingPatchSplitting 'stem'" in str(err.value)
    assert inside in str(err.value)


def test_every_building_block_is_refused_by_name_and_the_stem_stages_are_a_chain():
    for m in (layer.SpikingPatchSplitting(1, 16), layer.RelativePositionEmbedding(8), layer.SpikingMLP(8, 16),
              layer.TransformerEncoderBlock(layer.SpikingSelfAttention(8, 2), layer.SpikingMLP(8, 16))):
        assert kind_of(m) == "refused", type(m).__name__
    stem = layer.SpikingPatchSplitting(1, 16, patch_size=2, rpe=False)
    issues = check(stem.stages, "nir", (1, 8, 8))
    assert issues and all("max pooling" in i.problem for i in issues if i.severity != "precision")
