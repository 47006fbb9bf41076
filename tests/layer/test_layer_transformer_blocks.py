"""The spiking transformers' building blocks: the patch-splitting stem, the relative position embedding,
the MLP block and the encoder block with its two shortcut styles, against plain formulas."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from spikesmith import functional, layer
from spikesmith.layer.patch_splitting import map_to_tokens, tokens_to_map

from attention_reference import lif_ref, proj_ref

pytestmark = pytest.mark.usefixtures("one_thread")


def bn2d_ref(x, bn):
    shape = (1, -1, 1, 1)
    return (x - bn.running_mean.view(shape)) / torch.sqrt(bn.running_var.view(shape) + bn.eps) * \
        bn.weight.view(shape) + bn.bias.view(shape)


def randomised(m):
    torch.manual_seed(0)
    for p in m.parameters():
        nn.init.normal_(p, 0.3, 0.7)
    for mod in m.modules():
        if isinstance(mod, nn.modules.batchnorm._BatchNorm):
            mod.running_mean.uniform_(-0.3, 0.3)
            mod.running_var.uniform_(0.5, 1.5)
    return m.eval()


@pytest.mark.parametrize("image,patch,grid", [((28, 28), 4, (7, 7)), ((32, 16), 8, (4, 2)), ((8, 8), 2, (4, 4)),
                                              ((6, 6), 1, (6, 6))])
def test_sps_gives_one_token_per_patch(image, patch, grid):
    sps = layer.SpikingPatchSplitting(2, 32, patch_size=patch)
    out = sps(torch.rand(3, 2, 2, *image))
    assert out.shape == (3, 2, grid[0] * grid[1], 32)
    pools = [m for m in sps.stages if isinstance(m, nn.MaxPool2d)]
    assert len(pools) == {1: 0, 2: 1, 4: 2, 8: 3}[patch]


def test_one_stage_spike_sps_is_conv_bn_lif_pool_then_rpe():
    sps = randomised(layer.SpikingPatchSplitting(1, 4, patch_size=2, stages=1))
    torch.manual_seed(1)
    x = torch.rand(3, 2, 1, 6, 6) * 2
    conv, bn = sps.stages[0], sps.stages[1]
    with torch.no_grad():
        y = lif_ref(bn2d_ref(F.conv2d(x.flatten(0, 1), conv.weight, padding=1), bn).unflatten(0, (3, 2)))
        y = F.max_pool2d(y.flatten(0, 1), 3, 2, 1)
        rconv, rbn = sps.rpe.body[0], sps.rpe.body[1]
        r = lif_ref(bn2d_ref(F.conv2d(y, rconv.weight, padding=1), rbn).unflatten(0, (3, 2)))
        want = map_to_tokens(y.unflatten(0, (3, 2)) + r)
        got = sps(x)
    assert 0 < y.mean() < 1 and 0 < r.mean() < 1
    torch.testing.assert_close(got, want)


def test_membrane_sps_puts_the_neuron_before_each_later_conv():
    sps = layer.SpikingPatchSplitting(1, 8, patch_size=2, stages=2, shortcut="membrane")
    kinds = [type(m).__name__ for m in sps.stages]
    assert kinds == ["Conv2d", "BatchNorm2d", "LIFNode", "Conv2d", "BatchNorm2d", "MaxPool2d"]
    assert [type(m).__name__ for m in sps.rpe.body] == ["LIFNode", "Conv2d", "BatchNorm2d"]
    out = sps(torch.rand(2, 1, 1, 4, 4))
    assert not set(out.unique().tolist()) <= {0.0, 1.0, 2.0}            # membrane-like, not spikes


def test_tokens_round_trip_to_the_map():
    x = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)
    tokens = map_to_tokens(x)
    assert tokens.shape == (2, 20, 3) and torch.equal(tokens[1, 6], x[1, :, 1, 1])
    assert torch.equal(tokens_to_map(tokens, (4, 5)), x)


def test_patch_size_that_does_not_tile_the_image_is_a_clear_error():
    sps = layer.SpikingPatchSplitting(1, 32, patch_size=8)
    with pytest.raises(ValueError, match=r"patch_size=8 does not tile a 28x28 image.*tile it: 1, 2, 4"):
        sps(torch.rand(2, 1, 1, 28, 28))
    with pytest.raises(ValueError, match="patch_size must be a power of two"):
        layer.SpikingPatchSplitting(1, 32, patch_size=3)
    with pytest.raises(ValueError, match="needs 3 halving stages but stages=2"):
        layer.SpikingPatchSplitting(1, 32, patch_size=8, stages=2)
    with pytest.raises(ValueError, match=r"dim must be a positive multiple of 2\*\*\(stages-1\) = 8"):
        layer.SpikingPatchSplitting(1, 12)
    with pytest.raises(ValueError, match="expects 1 input channels"):
        sps(torch.rand(2, 1, 3, 32, 32))


@pytest.mark.parametrize("shortcut", ["spike", "membrane"])
def test_mlp_equals_its_formula(shortcut):
    mlp = randomised(layer.SpikingMLP(4, 8, shortcut=shortcut))
    torch.manual_seed(2)
    x = torch.randn(3, 2, 5, 4) * 2
    with torch.no_grad():
        if shortcut == "spike":
            want = proj_ref(proj_ref(x, mlp.fc1), mlp.fc2)
        else:
            want = proj_ref(proj_ref(lif_ref(x), mlp.fc1), mlp.fc2, neuron=False)
        got = mlp(x)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shortcut", ["spike", "membrane"])
def test_encoder_block_adds_both_branches(shortcut):
    attn = layer.SpikeDrivenSelfAttention(8, 2, shortcut=shortcut)
    mlp = layer.SpikingMLP(8, 16, shortcut=shortcut)
    block = randomised(layer.TransformerEncoderBlock(attn, mlp))
    x = torch.randn(3, 2, 5, 8)
    with torch.no_grad():
        mid = x + attn(x)
        want = mid + mlp(mid)
        functional.reset_net(block)
        got = block(x)
        functional.reset_net(block)
        functional.set_step_mode(block, "s")
        steps = torch.stack([block(x[t]) for t in range(3)])
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(steps, got)


def test_blocks_with_an_activation_are_the_ann_twin():
    relu = lambda **_: nn.ReLU()  # noqa: E731
    sps = layer.SpikingPatchSplitting(1, 16, patch_size=4, neuron=relu, step_mode="s")
    mlp = layer.SpikingMLP(16, 32, neuron=relu, step_mode="s")
    out = mlp(sps(torch.rand(2, 1, 8, 8)))
    assert out.shape == (2, 4, 16) and not any(isinstance(m, layer.Dropout) for m in mlp.modules())
