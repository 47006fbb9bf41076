"""FCSNN and CSNN: shapes, the ANN twin's weights, the static-prefix fast path, name errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from spikesmith import functional
from spikesmith.models import ACTIVATIONS, CSNN, FCSNN, MODELS, NEURONS, build_model, make_activation, make_neuron, model_names
from spikesmith.models.blocks import forward_static_prefix
from spikesmith.neuron import BaseNode

T, N, CLASSES = 2, 3, 10


def _weight_keys(model: nn.Module) -> set[str]:
    """state_dict keys that do not belong to a neuron (PLIF's learned tau, thresholds as buffers)."""
    neuron_prefixes = tuple(f"{name}." for name, m in model.named_modules() if isinstance(m, BaseNode))
    return {k for k in model.state_dict() if not k.startswith(neuron_prefixes)}


# ------------------------------------------------------------------------------------------ shapes
@pytest.mark.parametrize("readout", ["spike", "membrane"])
def test_fcsnn_shapes(readout):
    snn = FCSNN(in_shape=(1, 8, 8), num_classes=CLASSES, hidden=16, readout=readout)
    out = snn(torch.rand(T, N, 1, 8, 8))
    assert out.shape == (T, N, CLASSES)
    if readout == "spike":
        assert set(out.unique().tolist()) <= {0.0, 1.0}
    ann = FCSNN(in_shape=(1, 8, 8), num_classes=CLASSES, hidden=16, readout=readout, ann=True)
    assert ann(torch.rand(N, 1, 8, 8)).shape == (N, CLASSES)


def test_fcsnn_flat_features():
    assert FCSNN(in_shape=(20,), num_classes=4, hidden=8)(torch.rand(T, N, 20)).shape == (T, N, 4)


@pytest.mark.parametrize("pool", ["max", "avg"])
@pytest.mark.parametrize("shape", [(1, 28, 28), (2, 34, 34), (1, 8, 8)])
def test_csnn_shapes_any_input_size(pool, shape):
    snn = CSNN(in_channels=shape[0], num_classes=CLASSES, channels=2, pool=pool, neuron="lif", readout="membrane")
    assert snn(torch.rand(T, N, *shape)).shape == (T, N, CLASSES)
    ann = CSNN(in_channels=shape[0], num_classes=CLASSES, channels=2, pool=pool, ann=True)
    assert ann(torch.rand(N, *shape)).shape == (N, CLASSES)


def test_csnn_pool_kind_is_used():
    assert any(isinstance(m, nn.AvgPool2d) for m in CSNN(channels=2, pool="avg", ann=True).modules())
    assert not any(isinstance(m, nn.MaxPool2d) for m in CSNN(channels=2, pool="avg", ann=True).modules())
    snn_avg = [type(m).__name__ for m in CSNN(channels=2, pool="avg").modules()]
    assert "AvgPool2d" in snn_avg and "MaxPool2d" not in snn_avg


def test_csnn_spike_readout_ends_in_a_neuron():
    assert isinstance(CSNN(channels=2, readout="spike")[-1], BaseNode)
    assert isinstance(CSNN(channels=2, readout="membrane")[-1], nn.Module)
    assert not isinstance(CSNN(channels=2, readout="membrane")[-1], BaseNode)


# ----------------------------------------------------------------------------------- the ANN twin
@pytest.mark.parametrize("neuron", ["lif", "plif", "if"])
@pytest.mark.parametrize("readout", ["spike", "membrane"])
@pytest.mark.parametrize("build", [
    lambda **kw: FCSNN(in_shape=(1, 8, 8), hidden=16, **kw),
    lambda **kw: CSNN(channels=2, dropout=0.2, **kw),
], ids=["fcsnn", "csnn"])
def test_ann_twin_has_the_same_weight_keys(build, neuron, readout):
    snn, ann = build(neuron=neuron, readout=readout), build(neuron=neuron, readout=readout, ann=True)
    assert _weight_keys(snn) == set(ann.state_dict())
    snn_sd, ann_sd = snn.state_dict(), ann.state_dict()
    assert all(snn_sd[k].shape == ann_sd[k].shape for k in ann_sd)
    # so the twin's weights load into the SNN as they are
    snn.load_state_dict({**snn_sd, **ann_sd})


def test_ann_twin_uses_the_activation():
    assert any(isinstance(m, nn.Hardtanh) for m in FCSNN(ann=True, activation="clip").modules())
    assert not any(isinstance(m, BaseNode) for m in CSNN(channels=2, ann=True).modules())


# ----------------------------------------------------------------------------- static prefix path
def _twins(make, seed=0):
    torch.manual_seed(seed)
    a = make().double()
    with torch.no_grad():
        for p in a.parameters():
            if p.dim() > 1:
                p.mul_(4)          # larger weights, so spikes reach the readout
    b = make().double()
    b.load_state_dict(a.state_dict())
    return a, b


@pytest.mark.parametrize("make, shape", [
    (lambda: FCSNN(in_shape=(1, 8, 8), hidden=16, readout="spike"), (1, 8, 8)),
    (lambda: FCSNN(in_shape=(1, 8, 8), hidden=16, neuron="plif", readout="membrane"), (1, 8, 8)),
    (lambda: CSNN(channels=3, neuron="lif", readout="membrane"), (1, 8, 8)),
    (lambda: CSNN(in_channels=2, channels=2, pool="avg", neuron="if", readout="spike"), (2, 12, 12)),
], ids=["fcsnn", "fcsnn-plif", "csnn", "csnn-avg"])
def test_static_prefix_equals_the_contiguous_sequence_in_train_mode(make, shape):
    fast, ref = _twins(make)
    fast.train()
    ref.train()
    x = torch.rand(5, *shape, dtype=torch.float64) * 3
    expanded = x.unsqueeze(0).expand(4, *x.shape)
    assert expanded.stride(0) == 0
    out_fast, out_ref = fast(expanded), ref(expanded.contiguous())
    assert torch.equal(out_fast, out_ref)
    assert out_ref.abs().sum() > 0 and (out_ref != out_ref[:1]).any()   # non-trivial over time
    # a loss that weights steps differently, so the gradient is not the same at every step
    w = torch.arange(1, 5, dtype=torch.float64).view(4, 1, 1)
    (w * out_fast).square().sum().backward()
    (w * out_ref).square().sum().backward()
    grads_ref = dict(ref.named_parameters())
    for name, p in fast.named_parameters():
        g_ref = grads_ref[name].grad
        assert p.grad is not None and g_ref is not None, name
        # the prefix sums over T before the weight product: the same up to summation order
        torch.testing.assert_close(p.grad, g_ref, rtol=1e-12, atol=1e-12, msg=name)
    assert any(p.grad.abs().sum() > 0 for p in fast.parameters())
    fast_sd, ref_sd = fast.state_dict(), ref.state_dict()
    for key in fast_sd:
        if key.endswith("running_var"):
            # the unbiased running variance uses n = N*H*W on the prefix and T*N*H*W on the full
            # sequence: the Bessel factors differ by < 1 %
            torch.testing.assert_close(fast_sd[key], ref_sd[key], rtol=1e-2, atol=0)
        else:
            torch.testing.assert_close(fast_sd[key], ref_sd[key], rtol=1e-12, atol=1e-12, msg=key)


def test_static_prefix_is_taken_only_for_stride_zero_inputs():
    calls = []

    class Count(nn.Module):
        def forward(self, x):
            calls.append(x.shape[0])
            return x * 2

    layers = [Count(), make_neuron("if"), Count()]
    x = torch.rand(1, 3, 4)
    forward_static_prefix(layers, x.expand(5, 3, 4))
    assert calls == [1, 5]        # stateless prefix once, everything after the neuron on all steps
    calls.clear()
    functional.reset_net(nn.Sequential(*layers))
    forward_static_prefix(layers, torch.rand(5, 3, 4))
    assert calls == [5, 5]


def test_static_prefix_matches_a_repeated_input_in_eval_mode():
    fast, ref = _twins(lambda: FCSNN(in_shape=(1, 8, 8), hidden=16, readout="membrane"))
    fast.eval()
    ref.eval()
    x = torch.rand(5, 1, 8, 8, dtype=torch.float64) * 3
    with torch.no_grad():
        assert torch.equal(fast(x.expand(3, *x.shape)), ref(x.repeat(3, 1, 1, 1, 1)))


# ------------------------------------------------------------------------------ names and options
def test_neuron_name_case_does_not_drop_tau():
    for model in (FCSNN(in_shape=(1, 8, 8), hidden=4, neuron="LIF", tau=3.0),
                  CSNN(channels=2, neuron="Lif", tau=3.0)):
        taus = [float(m.tau) for m in model.modules() if isinstance(m, BaseNode)]
        assert taus and all(t == 3.0 for t in taus)
    plif = FCSNN(in_shape=(1, 8, 8), hidden=4, neuron="PLIF", tau=4.0)
    assert all(float(m.tau) == pytest.approx(4.0) for m in plif.modules() if isinstance(m, BaseNode))


def test_every_registered_neuron_builds_and_runs():
    for name in NEURONS:
        model = FCSNN(in_shape=(4,), num_classes=3, hidden=5, neuron=name)
        assert model(torch.rand(2, 2, 4)).shape == (2, 2, 3), name


def test_unknown_model_lists_valid_ones():
    names = model_names()
    assert {"csnn", "fcsnn"} <= set(names) and names == sorted(names)
    listed = [f"{n} \\(aliases: {', '.join(MODELS.entry(n).aliases)}\\)" if MODELS.entry(n).aliases else n
              for n in names]
    with pytest.raises(ValueError, match=f"unknown model 'alexnet'; known models: {', '.join(listed)}$"):
        build_model("alexnet")
    with pytest.raises(ValueError, match="bad arguments for model 'fcsnn'.*'widht'"):
        build_model("fcsnn", widht=3)
    assert isinstance(build_model("FCSNN", hidden=4), FCSNN)


def test_unknown_neuron_lists_valid_ones():
    with pytest.raises(ValueError, match="unknown neuron 'lfi'; known neurons: adlif, alif, if, izhikevich, lif, masked_psn, plif, psn, sliding_psn"):
        FCSNN(neuron="lfi")
    with pytest.raises(ValueError, match="unknown neuron 'lfi'"):
        CSNN(channels=2, neuron="lfi")


def test_unknown_activation_lists_valid_ones():
    assert sorted(ACTIVATIONS) == ["clip", "qcfs", "qcfs8", "relu", "tcl"]
    with pytest.raises(ValueError, match="unknown activation 'tanh'; known activations: clip, qcfs, qcfs8, relu, tcl"):
        FCSNN(ann=True, activation="tanh")
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        make_activation("gelu")


def test_unknown_surrogate_lists_valid_ones():
    with pytest.raises(ValueError, match="unknown surrogate 'nope'.*atan"):
        FCSNN(surrogate="nope")


@pytest.mark.parametrize("cls", [FCSNN, CSNN])
def test_bad_readout(cls):
    with pytest.raises(ValueError, match=f"{cls.__name__}: readout must be 'spike' or 'membrane', got 'rate'"):
        cls(readout="rate")


def test_bad_pool():
    with pytest.raises(ValueError, match="CSNN: pool must be 'max' or 'avg', got 'min'"):
        CSNN(pool="min")
