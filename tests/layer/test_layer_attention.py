"""The spiking attention layers against their papers' formulas written out plainly (loops over heads,
tokens and channels, the LIF recurrence by hand), single-step against multi-step, gradients, spike-only
inputs and the errors for bad arguments."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from spikesmith import functional, layer

from attention_reference import lif_ref, proj_ref

pytestmark = pytest.mark.usefixtures("one_thread")

T, N, L, D, H = 3, 2, 4, 6, 2          # d = D / H = 3 channels per head


def heads(x: torch.Tensor) -> list[torch.Tensor]:
    """Per head j the channels j*d .. (j+1)*d - 1: a list of [T, N, L, d]."""
    d = x.shape[-1] // H
    return [x[..., j * d:(j + 1) * d] for j in range(H)]


def ssa_ref(q, k, v, scale):
    """out[t, n, i, c] = scale * sum_l sum_m q[i, m] k[l, m] v[l, c], per head, with plain loops."""
    out = torch.zeros_like(q)
    d = D // H
    for j in range(H):
        for t in range(T):
            for n in range(N):
                for i in range(L):
                    for c in range(d):
                        total = 0.0
                        for l_ in range(L):
                            for m in range(d):
                                total += float(q[t, n, i, j * d + m] * k[t, n, l_, j * d + m] * v[t, n, l_, j * d + c])
                        out[t, n, i, j * d + c] = scale * total
    return out


def sdsa_ref(q, k, v):
    """Per channel c: kv[c] = sum over tokens of k[l, c] v[l, c]; A = LIF_0.5(kv); out = q * A."""
    kv = torch.zeros(T, N, 1, D)
    for c in range(D):
        for l_ in range(L):
            kv[:, :, 0, c] += k[:, :, l_, c] * v[:, :, l_, c]
    return q * lif_ref(kv, 0.5)


def qk_token_ref(q, k):
    """Per head and token: a = sum of q over the head's channels; A = LIF_0.5(a); out = A * k."""
    out = torch.zeros_like(k)
    for j, (qj, kj) in enumerate(zip(heads(q), heads(k))):
        a = torch.zeros(T, N, L, 1)
        for m in range(D // H):
            a[..., 0] += qj[..., m]
        out[..., j * (D // H):(j + 1) * (D // H)] = lif_ref(a, 0.5) * kj
    return out


def qk_channel_ref(q, k):
    """Per channel: a = sum of q over the tokens; A = LIF_0.5(a); out = A * k (heads change nothing)."""
    a = torch.zeros(T, N, 1, D)
    for l_ in range(L):
        a[:, :, 0] += q[:, :, l_]
    return lif_ref(a, 0.5) * k


def prepared(cls, **kwargs):
    """The layer in eval mode with random weights and running statistics, so that Q, K, V spike often."""
    torch.manual_seed(0)
    m = cls(D, H, **kwargs)
    for p in m.parameters():
        nn.init.normal_(p, 0.3, 1.0)
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm1d):
            nn.init.uniform_(mod.bias, 0.5, 2.5)
            mod.running_mean.uniform_(-0.3, 0.3)
            mod.running_var.uniform_(0.5, 1.5)
    return m.eval()


def inputs(membrane: bool = False):
    torch.manual_seed(1)
    x = torch.randn(T, N, L, D) * 2 if membrane else (torch.rand(T, N, L, D) < 0.5).float() * 2
    return x


def reference(m, x):
    s = lif_ref(x) if m.shortcut == "membrane" else x
    q, k = proj_ref(s, m.q_proj), proj_ref(s, m.k_proj)
    v = proj_ref(s, m.v_proj) if hasattr(m, "v_proj") else None
    if isinstance(m, layer.SpikingSelfAttention):
        a = lif_ref(ssa_ref(q, k, v, m.scale), 0.5)
    elif isinstance(m, layer.SpikeDrivenSelfAttention):
        a = sdsa_ref(q, k, v)
    elif isinstance(m, layer.QKTokenAttention):
        a = qk_token_ref(q, k)
    else:
        a = qk_channel_ref(q, k)
    return proj_ref(a, m.out_proj, neuron=m.shortcut == "spike"), (q, k, v, a)


CASES = [(layer.SpikingSelfAttention, "spike"), (layer.SpikingSelfAttention, "membrane"),
         (layer.SpikeDrivenSelfAttention, "membrane"), (layer.SpikeDrivenSelfAttention, "spike"),
         (layer.QKTokenAttention, "spike"), (layer.QKChannelAttention, "spike")]


@pytest.mark.parametrize("cls,shortcut", CASES)
def test_forward_equals_the_plain_formula(cls, shortcut):
    # SSA's scores are at most L d = 12 here: a larger scale than the paper's 0.125 lets its neuron fire
    m = prepared(cls, shortcut=shortcut, **({"scale": 0.5} if cls is layer.SpikingSelfAttention else {}))
    x = inputs(membrane=shortcut == "membrane")
    with torch.no_grad():
        want, (q, k, v, a) = reference(m, x)
        got = m(x)
    # the intermediate spikes are non-trivial, so the comparison can fail
    assert 0.1 < q.mean() < 0.9 and 0.1 < k.mean() < 0.9 and 0.0 < a.abs().sum()
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_ssa_scores_are_integer_counts_times_the_scale():
    q = torch.tensor([[1., 0.], [1., 1.]])           # L = 2 tokens, d = 2
    k = torch.tensor([[1., 1.], [0., 1.]])
    v = torch.tensor([[1., 0.], [1., 1.]])
    # Q K^T = [[1, 0], [2, 1]]; (Q K^T) V = [[1, 0], [3, 1]]
    got = layer.spiking_self_attention.ssa_scores(q, k, v, 0.125)
    torch.testing.assert_close(got, torch.tensor([[1., 0.], [3., 1.]]) * 0.125)


def test_sdsa_only_masks_q():
    m = prepared(layer.SpikeDrivenSelfAttention)
    x = inputs(membrane=True)
    with torch.no_grad():
        parts = m.qkv(x)
        a = m.attend(parts["q"], parts["k"], parts["v"])
    assert set(a.unique().tolist()) <= {0.0, 1.0}
    assert bool((a <= parts["q"]).all())                  # Q ⊗ mask: never a spike where Q has none


@pytest.mark.parametrize("cls,shortcut", CASES)
def test_single_steps_equal_one_multi_step_call(cls, shortcut):
    m = prepared(cls, shortcut=shortcut)
    x = inputs(membrane=shortcut == "membrane")
    with torch.no_grad():
        multi = m(x)
        functional.reset_net(m)
        functional.set_step_mode(m, "s")
        steps = torch.stack([m(x[t]) for t in range(T)])
    assert all(sub.step_mode == "s" for sub in m.modules() if hasattr(sub, "step_mode"))
    torch.testing.assert_close(steps, multi)


@pytest.mark.parametrize("cls", [layer.SpikingSelfAttention, layer.SpikeDrivenSelfAttention,
                                 layer.QKTokenAttention, layer.QKChannelAttention])
def test_gradients_reach_the_input_and_every_projection(cls):
    torch.manual_seed(2)
    m = prepared(cls, attn_drop=0.2, **({"scale": 0.5} if cls is layer.SpikingSelfAttention else {})).train()
    x = (inputs(membrane=True) * 2).requires_grad_()
    m(x).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    for name, p in m.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert m.q_proj.linear.weight.grad.abs().sum() > 0


def test_attention_dropout_keeps_one_mask_over_time():
    m = prepared(layer.QKChannelAttention, attn_drop=0.5).train()
    seen = {}
    m.attn_drop.register_forward_hook(lambda mod, args, out: seen.update(x=args[0], y=out))
    torch.manual_seed(3)
    m(inputs())
    x, y = seen["x"], seen["y"]
    dropped = (y == 0) & (x != 0)
    assert dropped.any()
    ever = dropped.any(0)                                        # a position dropped at some step ...
    assert not bool(((x != 0) & (y != 0) & ever).any())           # ... is dropped at every step
    kept = (x != 0) & ~dropped
    assert torch.equal(y[kept], x[kept] * 2)                      # scaled by 1 / (1 - p)


def test_q_k_v_must_be_spikes():
    def not_spiking(**overrides):
        return nn.Identity()

    for cls in (layer.SpikingSelfAttention, layer.SpikeDrivenSelfAttention, layer.QKTokenAttention):
        m = cls(D, H, neuron=not_spiking)
        with pytest.raises(ValueError, match="Q must be spikes .0 or 1."):
            m(torch.randn(T, N, L, D))


def test_dim_not_divisible_by_heads_is_a_clear_error():
    with pytest.raises(ValueError, match=r"dim=10 is not divisible by num_heads=4.*Heads that divide 10: 1, 2, 5"):
        layer.SpikingSelfAttention(10, 4)
    with pytest.raises(ValueError, match="num_heads must be a positive int"):
        layer.QKTokenAttention(8, 0)


@pytest.mark.parametrize("kwargs,match", [({"shortcut": "residual"}, "shortcut must be 'spike'"),
                                          ({"attn_drop": 1.0}, r"attn_drop must be in \[0, 1\)"),
                                          ({"neuron": "lif"}, "neuron must be a callable")])
def test_bad_arguments_are_clear_errors(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        layer.SpikeDrivenSelfAttention(D, H, **kwargs)
    with pytest.raises(ValueError, match="scale must be a number > 0"):
        layer.SpikingSelfAttention(D, H, scale=0)


def test_bad_input_shapes_are_clear_errors():
    m = layer.SpikingSelfAttention(D, H)
    with pytest.raises(ValueError, match=r"expects input of shape \[T, N, tokens, dim\].*single-step input"):
        m(torch.rand(N, L, D))
    with pytest.raises(ValueError, match="with dim=6 in the last place"):
        m(torch.rand(T, N, L, D + 1))
