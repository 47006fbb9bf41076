"""The profile counts attention: SSA's products of two run-time tensors (multiply-accumulates), SDSA's and
the Q-K attentions' masks and additions only, each against a plain count over Q, K and V."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from spikesmith import functional, layer
from spikesmith.analysis import profile
from spikesmith.cli.main import main
from spikesmith.models import build_model

pytestmark = pytest.mark.usefixtures("one_thread")

T, N, L, D, H = 2, 3, 4, 6, 2


def firing(cls, **kwargs):
    torch.manual_seed(0)
    m = cls(D, H, **kwargs)
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm1d):
            nn.init.uniform_(mod.bias, 0.5, 2.5)        # Q, K, V spike often
    return m


def spikes():
    torch.manual_seed(1)
    return (torch.rand(T, N, L, D) < 0.5).float()


def captured(m, x):
    """Q, K, V of a run of ``m`` on ``x`` (eval mode, as the profile runs), read with hooks."""
    seen = {}
    hooks = [getattr(m, f"{p}_proj").register_forward_hook(lambda mod, a, out, p=p: seen.__setitem__(p, out))
             for p in m.projections]
    was = m.training
    m.eval()
    with torch.no_grad():
        m(x)
    m.train(was)
    for h in hooks:
        h.remove()
    functional.reset_net(m)
    return seen


def test_ssa_counts_its_two_matrix_products_as_macs():
    m = firing(layer.SpikingSelfAttention)
    x = spikes()
    qkv = captured(m, x)
    row = next(r for r in profile(m, x).rows if r.kind == "attention")
    d = D // H
    assert row.products == row.macs == 2 * T * H * L * L * d            # per sample: T steps, 2 products
    assert row.masks == 0 and row.acs == 0
    assert row.dense_macs == 2 * H * L * L * d                           # the ANN's one pass
    # the terms with a non-zero result, counted one by one
    q, k, v = qkv["q"], qkv["k"], qkv["v"]
    nonzero = 0
    for t in range(T):
        for n in range(N):
            for j in range(H):
                cols = range(j * d, (j + 1) * d)
                for i in range(L):
                    for l_ in range(L):
                        s = sum(int(q[t, n, i, c] * k[t, n, l_, c]) for c in cols)
                        nonzero += s
                        nonzero += sum(int(v[t, n, l_, c]) for c in cols) if s else 0
    assert nonzero > 0 and row.nonzero_terms == pytest.approx(nonzero / N)
    assert row.energy_pj == pytest.approx(row.macs * 4.6)


def test_sdsa_has_no_products_only_masks_and_additions():
    m = firing(layer.SpikeDrivenSelfAttention)
    x = torch.randn(T, N, L, D) * 2
    qkv = captured(m, x)
    p = profile(m, x)
    row = next(r for r in p.rows if r.kind == "attention")
    assert row.products == 0 and row.macs == 0 and row.nonzero_terms == 0
    assert row.masks == 2 * T * L * D                                   # K ⊗ V and Q ⊗ A
    kv_spikes = sum(float(qkv["k"][t, n, i, c] * qkv["v"][t, n, i, c])
                    for t in range(T) for n in range(N) for i in range(L) for c in range(D))
    assert kv_spikes > 0 and row.acs == pytest.approx(kv_spikes / N)    # each added once into its column
    assert row.energy_pj == pytest.approx(row.acs * 0.9)
    assert "0 products of two run-time tensors" in p.table()


@pytest.mark.parametrize("cls", [layer.QKTokenAttention, layer.QKChannelAttention])
def test_qk_attention_adds_the_spikes_of_q_and_masks_k(cls):
    m = firing(cls)
    x = spikes()
    q = captured(m, x)["q"]
    row = next(r for r in profile(m, x).rows if r.kind == "attention")
    assert row.macs == 0 and row.masks == T * L * D
    assert row.acs == pytest.approx(float(q.sum()) / N) and row.acs > 0


def test_a_model_profile_shows_sdsa_without_and_ssa_with_macs_in_attention():
    x = torch.rand(2, 1, 8, 8).expand(2, -1, -1, -1, -1)
    small = {"depth": 1, "dim": 16, "heads": 2, "patch_size": 2}
    sdsa = [r for r in profile(build_model("sdt", **small), x).rows if r.kind == "attention"]
    ssa = [r for r in profile(build_model("sdt", attention="ssa", **small), x).rows if r.kind == "attention"]
    assert len(sdsa) == len(ssa) == 1
    assert sdsa[0].macs == 0 and ssa[0].macs == 2 * 2 * 16 * 16 * 16          # T=2, L=16 tokens, D=16
    twin = profile(build_model("sdt", ann=True, **small), torch.rand(2, 1, 8, 8))
    assert [r.macs for r in twin.rows if r.kind == "attention"] == [2 * 16 * 16 * 16]


def test_spikesmith_profile_reports_attention_rows(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--model", "spikformer", "--dataset", "digits", "--train-subset", "64", "--test-subset",
                 "32", "--epochs", "1", "--T", "2", "--depth", "1", "--dim", "16", "--heads", "2", "--patch-size",
                 "2", "--report", "false", "--device", "cpu", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["profile", "--checkpoint", str(out / "checkpoint.pt"), "--json", "--out",
                 str(tmp_path / "p.png")]) == 0
    doc = json.loads(capsys.readouterr().out)
    rows = [r for r in doc["rows"] if r["kind"] == "attention"]
    assert [r["module"] for r in rows] == ["SpikingSelfAttention"] and rows[0]["macs"] == 2 * 2 * 16 * 16 * 16
    twin = [r for r in doc["ann_twin"]["rows"] if r["kind"] == "attention"]
    assert [r["module"] for r in twin] == ["SoftmaxSelfAttention"] and twin[0]["macs"] == 2 * 16 * 16 * 16
