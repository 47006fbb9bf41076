"""The spiking transformer families: Spikformer, the Spike-driven Transformer and QKFormer, their ANN twins,
the identity-attention ablation, their options and a tiny end-to-end ``spikesmith train`` run."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from spikesmith import functional, layer
from spikesmith.cli.main import main
from spikesmith.models import MODELS, ModelInput, build_model, model_options
from spikesmith.models.softmax_attention import SoftmaxSelfAttention
from spikesmith.neuron import BaseNode
from spikesmith.training import load_checkpoint

pytestmark = pytest.mark.usefixtures("one_thread")

FAMILIES = ["spikformer", "spike_driven_transformer", "qkformer"]
SMALL = {"depth": 2, "dim": 32, "heads": 2}


def image(T=3, n=2, size=8):
    torch.manual_seed(0)
    return torch.rand(T, n, 1, size, size)


@pytest.mark.parametrize("name", FAMILIES)
def test_each_family_maps_images_to_class_scores_per_step(name):
    net = build_model(name, in_channels=1, num_classes=5, **SMALL)
    out = net(image())
    assert out.shape == (3, 2, 5)
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    assert any(p.grad.abs().sum() > 0 for n, p in net.named_parameters() if "q_proj" in n)


@pytest.mark.parametrize("name", FAMILIES)
def test_the_ann_twin_has_softmax_attention_and_no_neurons(name):
    twin = build_model(name, in_channels=1, num_classes=5, ann=True, **SMALL)
    assert not any(isinstance(m, BaseNode) for m in twin.modules())
    assert any(isinstance(m, SoftmaxSelfAttention) for m in twin.modules())
    assert twin(image()[0]).shape == (2, 5)
    snn = build_model(name, in_channels=1, num_classes=5, **SMALL)
    snn_keys = {k for k in snn.state_dict() if "v_proj" not in k}
    assert snn_keys <= set(twin.state_dict())            # the same layers (a Q-K layer's twin adds V)


def test_the_families_use_their_papers_attention_and_shortcut():
    kinds = {name: {type(m) for m in build_model(name, **SMALL).modules()} for name in FAMILIES}
    assert layer.SpikingSelfAttention in kinds["spikformer"]
    assert layer.SpikeDrivenSelfAttention in kinds["spike_driven_transformer"]
    assert {layer.QKTokenAttention, layer.SpikingSelfAttention} <= kinds["qkformer"]
    sdt = build_model("sdt", **SMALL)
    assert all(m.shortcut == "membrane" for m in sdt.modules() if isinstance(m, layer.SpikingAttention))
    assert MODELS.canonical("sdt") == "spike_driven_transformer"
    assert layer.QKChannelAttention in {type(m) for m in build_model("qkformer", attention="qk_channel", **SMALL).modules()}


@pytest.mark.parametrize("name", FAMILIES)
def test_identity_attention_moves_nothing_between_tokens(name):
    torch.manual_seed(1)
    spiking = build_model(name, in_channels=1, num_classes=5, **SMALL).eval()
    ablated = build_model(name, in_channels=1, num_classes=5, attention="identity", **SMALL).eval()
    for net in (spiking, ablated):                       # make the neurons fire often, so that mixing shows
        for m in net.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                nn.init.constant_(m.bias, 1.5)

    def stages_of(net):                               # QKFormer: the SSA stage (token attention is per token)
        return net.stages["second"] if name == "qkformer" else net.stages

    for net, mixes in ((ablated, False), (spiking, True)):
        with torch.no_grad():
            torch.manual_seed(2)
            tokens = torch.randn(3, 2, 16, net.head.in_features) * 2
            changed = tokens.clone()
            changed[:, :, 5] += 3.0 * torch.randn_like(changed[:, :, 5])
            functional.reset_net(net)
            out = stages_of(net)(tokens)
            functional.reset_net(net)
            out2 = stages_of(net)(changed)
        others = [i for i in range(16) if i != 5]
        moved = (out2[:, :, others] != out[:, :, others]).any()
        assert bool(moved) == mixes, (name, mixes)


def test_qk_token_attention_masks_each_token_alone_and_channel_attention_mixes():
    torch.manual_seed(3)
    x = torch.zeros(3, 2, 16, 8)                         # Q is silent ...
    changed = x.clone()
    changed[:, :, 5] = 4.0 * torch.randn(3, 2, 8)        # ... except at token 5
    for cls, mixes in ((layer.QKTokenAttention, False), (layer.QKChannelAttention, True)):
        m = cls(8, 2).eval()
        nn.init.constant_(m.k_proj.bn.bias, 1.5)         # K spikes everywhere
        outs = []
        with torch.no_grad():
            for inp in (x, changed):
                functional.reset_net(m)
                parts = m.qkv(inp)
                outs.append(m.attend(parts["q"], parts["k"], None))
        assert outs[1].sum() > 0
        others = [i for i in range(16) if i != 5]
        assert bool((outs[0][..., others, :] != outs[1][..., others, :]).any()) == mixes, cls.__name__


def test_direct_input_gives_the_same_output_as_its_full_copy():
    net = build_model("spikformer", **SMALL).eval()
    x = torch.rand(2, 1, 8, 8)
    with torch.no_grad():
        a = net(x.expand(3, -1, -1, -1, -1))
        functional.reset_net(net)
        b = net(x.expand(3, -1, -1, -1, -1).contiguous())
    torch.testing.assert_close(a, b)


def test_options_have_defaults_once_and_clear_errors():
    cfg = model_options("spikformer")
    assert (cfg.depth, cfg.dim, cfg.heads, cfg.patch_size, cfg.attention) == (2, 64, 4, 4, "ssa")
    assert model_options("sdt").attention == "sdsa" and model_options("qkformer").attention == "qk_token"
    args = cfg.arguments(ModelInput((1, 28, 28), 10))
    assert args["in_channels"] == 1 and args["patch_size"] == 4
    with pytest.raises(ValueError, match="Spikformer: dim=64 is not divisible by heads=5"):
        model_options("spikformer", {"heads": 5})
    with pytest.raises(ValueError, match=r"Spikformer: patch_size=8 does not tile a 28x28 image.*1, 2, 4"):
        model_options("spikformer", {"patch_size": 8}).arguments(ModelInput((1, 28, 28), 10))
    with pytest.raises(ValueError, match="patch_size must be a power of two"):
        model_options("spikformer", {"patch_size": 6})
    with pytest.raises(ValueError, match="attention must be .sdsa., .ssa. or .identity., got .qk_token."):
        model_options("sdt", {"attention": "qk_token"})
    with pytest.raises(ValueError, match=r"QKFormer: qk_depth must be an int in \[0, depth=2\]"):
        model_options("qkformer", {"qk_depth": 3})
    with pytest.raises(ValueError, match="takes images"):
        model_options("spikformer").arguments(ModelInput((784,), 10))


def test_a_model_given_an_image_the_patches_do_not_tile_says_so():
    net = build_model("spikformer", **SMALL)
    with pytest.raises(ValueError, match="patch_size=4 does not tile a 10x10 image"):
        net(torch.rand(2, 1, 1, 10, 10))


def test_cli_trains_a_tiny_spikformer_and_evaluates_its_checkpoint(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["train", "--model", "spikformer", "--help"])
    section = capsys.readouterr().out.split("options of model spikformer")[1]
    for flag in ("--depth", "--dim", "--heads", "--patch-size", "--attention"):
        assert flag in section
    out = tmp_path / "run"
    assert main(["train", "--model", "spikformer", "--dataset", "digits", "--train-subset", "96", "--test-subset",
                 "40", "--epochs", "1", "--T", "2", "--depth", "1", "--dim", "16", "--heads", "2", "--patch-size",
                 "2", "--report", "false", "--device", "cpu", "--out", str(out)]) == 0
    ckpt = load_checkpoint(out / "checkpoint.pt")
    assert ckpt["model_name"] == "spikformer"
    assert {k: ckpt["model_args"][k] for k in ("depth", "dim", "heads", "patch_size")} == \
        {"depth": 1, "dim": 16, "heads": 2, "patch_size": 2}
    metrics = json.loads((out / "metrics.json").read_text())
    capsys.readouterr()
    assert main(["eval", "--checkpoint", str(out / "checkpoint.pt")]) == 0
    assert json.loads(capsys.readouterr().out)["test_accuracy"] == metrics["test_accuracy"]
    assert main(["train", "--model", "sdt", "--dataset", "digits", "--heads", "3", "--out", str(tmp_path / "x")]) == 2
    assert "dim=64 is not divisible by heads=3" in capsys.readouterr().err


def test_paper_configurations_build():
    from spikesmith.models import qkformer, spike_driven_transformer, spikformer

    for module, name in ((spikformer, "spikformer"), (spike_driven_transformer, "sdt"), (qkformer, "qkformer")):
        cfg = model_options(name, module.PAPER["cifar"])
        args = cfg.arguments(ModelInput((3, 32, 32), 10))
        net = build_model(name, **args)
        n = sum(p.numel() for p in net.parameters())
        assert n > 1_000_000 and isinstance(net, nn.Module)


@pytest.mark.parametrize("name", FAMILIES)
def test_a_whole_model_stepped_one_step_at_a_time_equals_one_multi_step_call(name):
    net = build_model(name, in_channels=1, num_classes=5, **SMALL).eval()
    for m in net.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            nn.init.constant_(m.bias, 1.0)               # neurons that fire, so the comparison can fail
    seen = []
    net.stem.rpe.register_forward_hook(lambda mod, args, out: seen.append(out))    # the stem's output
    x = image()
    with torch.no_grad():
        multi = net(x)
        functional.reset_net(net)
        functional.set_step_mode(net, "s")
        steps = torch.stack([net(x[t]) for t in range(x.shape[0])])
    tokens_multi, tokens_steps = seen[0], torch.stack(seen[1:])
    assert not torch.equal(tokens_multi[0], tokens_multi[-1])                   # the steps differ
    torch.testing.assert_close(tokens_steps, tokens_multi)
    torch.testing.assert_close(steps, multi)
