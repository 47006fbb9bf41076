"""spikesmith.compat.spikingjelly.activation_based.layer.attention: the attention blocks of SpikingJelly's
newer model zoo (QKFormer, Spike-driven Transformer, Spikformer's SSA, MA-SNN)."""

from __future__ import annotations

import importlib

import pytest
import torch
from torch import nn

from spikesmith.compat.spikingjelly.activation_based import functional, layer

pytestmark = pytest.mark.usefixtures("one_thread")


def _zero_(module: nn.Module) -> nn.Module:
    with torch.no_grad():
        for p in module.parameters():
            p.zero_()
    return module


# ----------------------------------------------------------------- the weighting attentions, by hand
@pytest.mark.parametrize("dimension, shape", [(2, (8, 3, 5)), (4, (8, 3, 2, 4, 4))])
def test_temporal_attention_with_a_silent_mlp_halves_the_input(dimension, shape):
    net = _zero_(layer.TemporalWiseAttention(T=8, reduction=4, dimension=dimension))
    x = torch.rand(*shape)
    assert torch.equal(net(x), x * 0.5)                       # sigmoid(0 + 0) = 1/2 for every step


def test_temporal_attention_weights_each_step_by_its_mean_and_max():
    net = layer.TemporalWiseAttention(T=4, reduction=2, dimension=2)
    x = torch.rand(4, 3, 6)
    avg, mx = x.mean(-1).t(), x.amax(-1).t()                  # [N, T]
    weight = torch.sigmoid(net.sharedMLP(avg) + net.sharedMLP(mx)).t()[..., None]
    assert torch.allclose(net(x), x * weight, atol=1e-6)


def test_multi_dimensional_attention_with_silent_convs():
    x = torch.randn(4, 2, 8, 5, 5)
    every = _zero_(layer.MultiDimensionalAttention(T=4, C=8, reduction_t=2, reduction_c=4))
    assert torch.allclose(every(x), torch.relu(x * 0.125))    # three weights of 1/2 each, then ReLU
    channel_only = _zero_(layer.MultiDimensionalAttention(4, 8, 2, 4, use_temporal=False, use_spatial=False))
    assert torch.allclose(channel_only(x), torch.relu(x * 0.5))


# ----------------------------------------------------------------- the spiking attentions against direct formulas
def _drive(x_seq: torch.Tensor) -> torch.Tensor:
    return x_seq * 8.0                                         # strong enough that the neurons fire


def test_spiking_self_attention_equals_per_head_formula():
    torch.manual_seed(0)
    net = layer.SpikingSelfAttention(dim=8, num_heads=2)
    x = _drive(torch.rand(3, 2, 8, 5))
    y = net(x)
    functional.reset_net(net)
    qkv = net.qkv_lif(net.qkv_conv_bn(x))
    q, k, v = qkv[:, :, :8], qkv[:, :, 8:16], qkv[:, :, 16:]
    heads = []
    for h in range(2):
        c = slice(4 * h, 4 * h + 4)
        heads.append(torch.einsum("tnil,tnjl,tnjm->tnim", v[:, :, c], k[:, :, c], q[:, :, c]) * 0.125)
    expected = net.proj_lif(net.proj_conv_bn(net.attn_lif(torch.stack(heads, 2)).flatten(2, 3)))
    assert qkv.sum() > 0 and torch.equal(y, expected)


@pytest.mark.parametrize("qka_type, summed", [("token", 2), ("channel", 3)])
def test_qk_attention_equals_direct_formula(qka_type, summed):
    torch.manual_seed(0)
    net = layer.QKAttention(dim=8, num_heads=2, qka_type=qka_type)
    x = _drive(torch.rand(3, 2, 8, 5))
    y = net(x)
    functional.reset_net(net)
    qk = net.qk_lif(net.qk_conv_bn(x))
    q, k = qk[:, :, :8].reshape(3, 2, 2, 4, 5), qk[:, :, 8:].reshape(3, 2, 2, 4, 5)
    gate = net.attn_lif(q.sum(dim=summed + 1, keepdim=True))  # head channels (token) or tokens (channel)
    expected = net.proj_lif(net.proj_conv_bn((gate * k).reshape(3, 2, 8, 5)))
    assert qk.sum() > 0 and torch.equal(y, expected)
    assert isinstance(layer.TokenQKAttention(8, 2), layer.QKAttention)
    assert layer.ChannelQKAttention(8, 2).qka_type == "channel"


def test_spike_driven_attention_equals_direct_formula():
    torch.manual_seed(0)
    net = layer.SpikeDrivenSelfAttention(dim=8, num_heads=2)
    x = _drive(torch.rand(2, 2, 8, 3, 3))
    y = net(x)
    functional.reset_net(net)
    s = net.shortcut_lif(x)
    q, k, v = (getattr(net, f"{n}_lif")(getattr(net, f"{n}_bn")(getattr(net, f"{n}_conv")(s))) for n in "qkv")
    kv = (k * v).sum(dim=(3, 4), keepdim=True)               # over the 9 tokens, per channel (and so per head)
    out = q * net.attn_lif(kv.reshape(2, 2, 2, 1, 4)).reshape(2, 2, 8, 1, 1)
    assert s.sum() > 0 and torch.equal(y, net.proj_bn(net.proj_conv(out)) + x)


@pytest.mark.parametrize("bad, message", [
    (lambda: layer.SpikingSelfAttention(10, 4), "multiple of num_heads"),
    (lambda: layer.QKAttention(8, 2, qka_type="pixel"), "qka_type"),
    (lambda: layer.TemporalWiseAttention(T=4, reduction=8), "cannot exceed T"),
    (lambda: layer.TemporalWiseAttention(T=4, reduction=2, dimension=3), "dimension"),
    (lambda: layer.MultiDimensionalAttention(4, 8, 2, 4, kernel_size=5), "kernel_size"),
    (lambda: layer.MultiDimensionalAttention(4, 8, use_temporal=False, use_channel=False, use_spatial=False),
     "at least one"),
    (lambda: layer.MultiDimensionalAttention(4, 8, 2, 16), "cannot exceed C"),
    (lambda: layer.SpikingSelfAttention(8, 2)(torch.zeros(3, 2, 8)), r"\[T, N, C, L\]"),
    (lambda: layer.SpikeDrivenSelfAttention(8, 2)(torch.zeros(3, 2, 8, 4)), r"\[T, N, C, H, W\]"),
    (lambda: layer.TemporalWiseAttention(4, 2)(torch.zeros(4, 2, 3, 3)), r"\[T, N, M\]"),
])
def test_bad_input_is_a_clear_error(bad, message):
    with pytest.raises(ValueError, match=message):
        bad()


# ----------------------------------------------------------------- SpikingJelly itself
CASES = [
    ("TemporalWiseAttention", (8, 2, 4), {}, (8, 2, 3, 4, 4)),
    ("TemporalWiseAttention", (8, 4, 2), {}, (8, 2, 5)),
    ("MultiDimensionalAttention", (4, 8, 2, 4), {"kernel_size": 7}, (4, 2, 8, 6, 6)),
    ("SpikingSelfAttention", (16, 4), {}, (3, 2, 16, 10)),
    ("TokenQKAttention", (16, 4), {}, (3, 2, 16, 10)),
    ("ChannelQKAttention", (16, 4), {}, (3, 2, 16, 10)),
    ("SpikeDrivenSelfAttention", (16, 4), {}, (2, 2, 16, 4, 4)),
]


@pytest.mark.parametrize("name, args, options, shape", CASES, ids=[c[0] + str(i) for i, c in enumerate(CASES)])
def test_same_weights_outputs_and_gradients_as_spikingjelly(name, args, options, shape):
    sj = pytest.importorskip("spikingjelly.activation_based.layer")
    runs = []
    for module in (sj, layer):
        torch.manual_seed(0)
        net = getattr(module, name)(*args, **options)
        torch.manual_seed(1)
        x = _drive(torch.rand(*shape)).requires_grad_()
        y = net(x)
        y.pow(2).sum().backward()
        membranes = [m.v.detach() for m in net.modules() if isinstance(getattr(m, "v", None), torch.Tensor)]
        runs.append((net.state_dict(), y.detach(), x.grad, membranes))
    (w0, y0, g0, v0), (w1, y1, g1, v1) = runs
    assert len(v0) == len(v1) and all(torch.equal(a, b) for a, b in zip(v0, v1))   # every neuron's last membrane
    assert list(w0) == list(w1) and all(torch.equal(w0[k], w1[k]) for k in w0)
    assert (y0.abs().sum() > 0 or name == "SpikingSelfAttention") and torch.equal(y0, y1)
    assert torch.allclose(g0, g1, rtol=1e-5, atol=1e-6)


def test_importable_as_spikingjelly_module_path():
    module = importlib.import_module("spikesmith.compat.spikingjelly.activation_based.layer.attention")
    assert module.QKAttention is layer.QKAttention
    pytest.importorskip("spikingjelly")
    import spikesmith.compat as compat

    compat.install_spikingjelly_alias()
    try:
        aliased = importlib.import_module("spikingjelly.activation_based.layer.attention")
        assert aliased.SpikeDrivenSelfAttention is layer.SpikeDrivenSelfAttention
    finally:
        compat.uninstall_spikingjelly_alias()
