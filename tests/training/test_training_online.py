"""Online training through time (``spikesmith.training.online``): OTTT's and SLTT's gradients against
hand-written loops, memory that does not grow with T, the training option and its refusals."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from spikesmith import functional, layer, neuron
from spikesmith.models import CSNN, FCSNN, RSNN
from spikesmith.training import make_config
from spikesmith.training.saved_memory import SavedTensorsMeter
from spikesmith.training.online import ONLINE_METHODS, backward_steps, check_online, online_step
from spikesmith.training.traces import presynaptic_traces, synapse_plan

ALPHA = 4.0   # the default surrogate: Sigmoid(alpha=4)


def _sg(z):
    """The default surrogate's derivative at z = h - v_th."""
    s = torch.sigmoid(ALPHA * z)
    return ALPHA * s * (1 - s)


def _spike(h):
    """Heaviside forward, the default surrogate's gradient backward (straight-through form)."""
    p = torch.sigmoid(ALPHA * (h - 1.0))
    return (h >= 1.0).to(h.dtype) + p - p.detach()


def _inputs(T=6, N=3, features=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(T, N, features, generator=g, dtype=torch.float64) < 0.5).double()
    return x, g


def _weights(shape, g, scale=1.5):
    return torch.randn(*shape, generator=g, dtype=torch.float64) * scale


# ----------------------------------------------------------------------------- OTTT, one layer, by hand
NEURONS_AND_LAMBDA = [
    # (neuron factory, lambda, dH/dX, charge h(v, i))
    (lambda: neuron.LIFNode(tau=2.0), 0.5, 0.5, lambda v, i: v + (i - v) / 2.0),
    (lambda: neuron.LIFNode(tau=4.0, decay_input=False), 0.75, 1.0, lambda v, i: v - v / 4.0 + i),
    (lambda: neuron.IFNode(), 1.0, 1.0, lambda v, i: v + i),
]


@pytest.mark.parametrize("make, lam, gain, charge", NEURONS_AND_LAMBDA, ids=["lif", "lif_no_decay_input", "if"])
def test_ottt_one_layer_gradient_is_the_trace_formula(make, lam, gain, charge):
    """dL/dW = (1/T) sum_t (dl_t/dU[t])^T a_hat[t], a_hat[t] = lambda a_hat[t-1] + x[t], with the
    surrogate at that step; l_t = sum(c_t * s_t)."""
    T, N, fin, fout = 6, 3, 4, 2
    x, g = _inputs(T, N, fin)
    W = _weights((fout, fin), g, scale=1.2)
    c = torch.randn(T, N, fout, generator=g, dtype=torch.float64)
    net = nn.Sequential(layer.Linear(fin, fout, bias=False, step_mode="m"), make().to(torch.float64)).double()
    with torch.no_grad():
        net[0].weight.copy_(W)
    online_step(net, x, lambda out, t: (c[t] * out).sum(), method="ottt")

    v = torch.zeros(N, fout, dtype=torch.float64)
    a_hat = torch.zeros(N, fin, dtype=torch.float64)
    expected = torch.zeros(fout, fin, dtype=torch.float64)
    without_trace = torch.zeros(fout, fin, dtype=torch.float64)
    for t in range(T):
        a_hat = lam * a_hat + x[t]
        h = charge(v, x[t] @ W.T)
        s = (h >= 1.0).double()
        delta = c[t] * _sg(h - 1.0) * gain                  # dl_t/dI[t], I = W x: through the charge at step t
        expected += delta.T @ a_hat / T
        without_trace += delta.T @ x[t] / T                  # SLTT's gradient of this layer
        v = h * (1 - s)                                      # hard reset to 0
    assert expected.abs().sum() > 0.1                       # the case exercises the surrogate
    torch.testing.assert_close(net[0].weight.grad, expected, rtol=1e-10, atol=1e-12)
    assert not torch.allclose(expected, without_trace)     # the trace matters


def test_ottt_linear_bias_gradient_is_the_plain_one():
    """A bias has no presynaptic input: its gradient is (1/T) sum_t sum_n delta_t, on inputs N x L x features."""
    T, N, L, fin, fout = 4, 2, 3, 5, 2
    g = torch.Generator().manual_seed(4)
    x = (torch.rand(T, N, L, fin, generator=g, dtype=torch.float64) < 0.5).double()
    c = torch.randn(T, N, L, fout, generator=g, dtype=torch.float64)
    net = nn.Sequential(layer.Linear(fin, fout, step_mode="m"), neuron.LIFNode(tau=2.0)).double()
    online_step(net, x, lambda out, t: (c[t] * out).sum(), method="ottt")
    W, b = net[0].weight.detach(), net[0].bias.detach()
    v, a_hat = torch.zeros(N, L, fout, dtype=torch.float64), torch.zeros(N, L, fin, dtype=torch.float64)
    gw, gb = torch.zeros_like(W), torch.zeros_like(b)
    for t in range(T):
        a_hat = 0.5 * a_hat + x[t]
        h = v + (x[t] @ W.T + b - v) / 2.0
        delta = c[t] * _sg(h - 1.0) * 0.5
        gw += torch.einsum("nlo,nli->oi", delta, a_hat) / T
        gb += delta.sum(dim=(0, 1)) / T
        v = h * (h < 1.0).double()
    torch.testing.assert_close(net[0].weight.grad, gw, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(net[0].bias.grad, gb, rtol=1e-10, atol=1e-12)


def test_ottt_forward_is_unchanged_and_the_model_restored():
    """The outputs are those of BPTT's forward; step modes, forwards and state_dict keys come back."""
    torch.manual_seed(0)
    net = FCSNN(in_shape=(12,), num_classes=3, hidden=8)
    x = (torch.rand(5, 4, 12) < 0.4).float()
    with torch.no_grad():
        expected = net(x)
    functional.reset_net(net)
    keys = list(net.state_dict())
    result = online_step(net, x, lambda out, t: out.sum(), method="ottt")
    torch.testing.assert_close(result.outputs, expected)
    assert all(m.step_mode == "m" for m in net.modules() if hasattr(m, "step_mode"))
    assert not any("forward" in vars(m) for m in net.modules())
    assert list(net.state_dict()) == keys
    assert torch.isclose(result.loss, expected.sum() / 5)


def _two_layer(T, N, fin, hidden, fout, seed=1):
    x, g = _inputs(T, N, fin, seed)
    W1 = _weights((hidden, fin), g, 1.3)
    W2 = _weights((fout, hidden), g, 1.0)
    c = torch.randn(T, N, fout, generator=g, dtype=torch.float64)
    return x, W1, W2, c


def _membrane_readout_net(W1, W2, spike_out=False):
    layers = [layer.Linear(W1.shape[1], W1.shape[0], bias=False, step_mode="m"), neuron.LIFNode(tau=2.0),
              layer.Linear(W2.shape[1], W2.shape[0], bias=False, step_mode="m")]
    if spike_out:
        layers.append(neuron.LIFNode(tau=2.0))
    net = nn.Sequential(*layers).double()
    with torch.no_grad():
        net[0].weight.copy_(W1)
        net[2].weight.copy_(W2)
    return net


def test_ottt_membrane_readout_has_no_trace_and_the_hidden_layer_has():
    """Linear -> LIF -> Linear (the readout, no neuron after it): the readout's gradient is the exact
    per-step sum_t c_t^T s_t; the hidden layer's uses the input's trace with the LIF's lambda."""
    T, N, fin, hidden, fout = 5, 3, 4, 5, 2
    x, W1, W2, c = _two_layer(T, N, fin, hidden, fout)
    net = _membrane_readout_net(W1, W2)
    online_step(net, x, lambda out, t: (c[t] * out).sum(), method="ottt")
    v = torch.zeros(N, hidden, dtype=torch.float64)
    a_hat = torch.zeros(N, fin, dtype=torch.float64)
    g1 = torch.zeros_like(W1)
    g2 = torch.zeros_like(W2)
    for t in range(T):
        a_hat = 0.5 * a_hat + x[t]
        h = v + (x[t] @ W1.T - v) / 2.0
        s = (h >= 1.0).double()
        g2 += c[t].T @ s / T                                 # o_t = W2 s_t: no membrane, no trace
        delta = (c[t] @ W2) * _sg(h - 1.0) * 0.5
        g1 += delta.T @ a_hat / T
        v = h * (1 - s)
    assert g2.abs().sum() > 0 and g1.abs().sum() > 0.05
    torch.testing.assert_close(net[2].weight.grad, g2, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(net[0].weight.grad, g1, rtol=1e-10, atol=1e-12)
    plan = synapse_plan(net)
    assert [s.decay() for s in plan] == [0.5, 0.0]


def test_ottt_conv_and_bias_gradient_is_the_trace_formula():
    """Conv2d with a bias, then IF (lambda = 1: the trace is the running sum of the inputs); the
    weight's gradient is the convolution's weight gradient taken with the trace, the bias's the plain one."""
    T, N = 4, 2
    g = torch.Generator().manual_seed(3)
    x = (torch.rand(T, N, 2, 5, 5, generator=g, dtype=torch.float64) < 0.5).double()
    net = nn.Sequential(layer.Conv2d(2, 3, 3, padding=1, step_mode="m"), neuron.IFNode()).double()
    c = torch.randn(T, N, 3, 5, 5, generator=g, dtype=torch.float64)
    online_step(net, x, lambda out, t: (c[t] * out).sum(), method="ottt")
    conv = net[0]
    W, b = conv.weight.detach(), conv.bias.detach()
    v = torch.zeros(N, 3, 5, 5, dtype=torch.float64)
    a_hat = torch.zeros_like(x[0])
    gw, gb = torch.zeros_like(W), torch.zeros_like(b)
    for t in range(T):
        a_hat = a_hat + x[t]
        h = v + torch.nn.functional.conv2d(x[t], W, b, padding=1)
        delta = c[t] * _sg(h - 1.0)
        # the weight gradient of a convolution written as a sum over positions (unfold: patches)
        patches = torch.nn.functional.unfold(a_hat, 3, padding=1)                # N x (2*9) x 25
        gw += torch.einsum("nol,nkl->ok", delta.flatten(2), patches).view_as(W) / T
        gb += delta.sum(dim=(0, 2, 3)) / T
        v = h * (1 - (h >= 1.0).double())
    torch.testing.assert_close(conv.weight.grad, gw, rtol=1e-9, atol=1e-11)
    torch.testing.assert_close(conv.bias.grad, gb, rtol=1e-9, atol=1e-11)


# ----------------------------------------------------------------------------- SLTT
def _bptt_detached(x, W1, W2, c, steps=None, detach=True):
    """The two-layer LIF net written out, the loss sum_t w_t sum(c_t * s2_t) backpropagated once;
    ``detach``: every temporal path (state to state) cut, as SLTT defines its gradient."""
    W1 = W1.clone().requires_grad_()
    W2 = W2.clone().requires_grad_()
    T, N = x.shape[:2]
    v1 = torch.zeros(N, W1.shape[0], dtype=torch.float64)
    v2 = torch.zeros(N, W2.shape[0], dtype=torch.float64)
    steps = list(range(T)) if steps is None else steps
    loss = 0
    for t in range(T):
        if detach:
            v1, v2 = v1.detach(), v2.detach()
        h1 = v1 + (x[t] @ W1.T - v1) / 2.0
        s1 = _spike(h1)
        h2 = v2 + (s1 @ W2.T - v2) / 2.0
        s2 = _spike(h2)
        if t in steps:
            loss = loss + (c[t] * s2).sum() / len(steps)
        v1, v2 = h1 * (1 - s1), h2 * (1 - s2)
    loss.backward()
    return W1.grad, W2.grad


def test_sltt_gradient_is_bptt_with_the_temporal_paths_cut():
    T, N, fin, hidden, fout = 6, 4, 5, 6, 3
    x, W1, W2, c = _two_layer(T, N, fin, hidden, fout, seed=5)
    net = _membrane_readout_net(W1, W2, spike_out=True)
    online_step(net, x, lambda out, t: (c[t] * out).sum(), method="sltt")
    g1, g2 = _bptt_detached(x, W1, W2, c)
    assert g1.abs().sum() > 0.05
    torch.testing.assert_close(net[0].weight.grad, g1, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(net[2].weight.grad, g2, rtol=1e-10, atol=1e-12)
    full1, _ = _bptt_detached(x, W1, W2, c, detach=False)           # the temporal paths do matter here
    assert not torch.allclose(full1, g1)
    # OTTT differs from SLTT exactly by its traces
    functional.reset_net(net)
    net.zero_grad()
    online_step(net, x, lambda out, t: (c[t] * out).sum(), method="ottt")
    assert not torch.allclose(net[0].weight.grad, g1)


def test_sltt_k_backpropagates_at_k_random_steps_weighted_1_over_k():
    T, N, fin, hidden, fout, K = 6, 4, 5, 6, 3, 2
    x, W1, W2, c = _two_layer(T, N, fin, hidden, fout, seed=6)
    chosen = [t for t, on in enumerate(backward_steps(T, K, torch.Generator().manual_seed(9))) if on]
    assert len(chosen) == K
    net = _membrane_readout_net(W1, W2, spike_out=True)
    result = online_step(net, x, lambda out, t: (c[t] * out).sum(), method="sltt", k=K,
                         generator=torch.Generator().manual_seed(9))
    g1, g2 = _bptt_detached(x, W1, W2, c, steps=chosen)
    torch.testing.assert_close(net[0].weight.grad, g1, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(net[2].weight.grad, g2, rtol=1e-10, atol=1e-12)
    # the reported loss is the mean over all T steps, not only the K that backpropagated
    torch.testing.assert_close(result.loss, (c * result.outputs).sum(dim=(1, 2)).mean())
    draws = {tuple(backward_steps(T, K, torch.Generator().manual_seed(s))) for s in range(20)}
    assert len(draws) > 3 and all(sum(d) == K for d in draws)


# ----------------------------------------------------------------------------- memory constant in T
def _peak_saved_bytes(model, T, online):
    torch.manual_seed(0)
    x = torch.rand(2, 1, 16, 16).expand(T, 2, 1, 16, 16)
    y = torch.tensor([1, 2])
    with SavedTensorsMeter() as counter:
        if online is None:
            out = model(x)
            torch.nn.functional.cross_entropy(out.mean(0), y).backward()
        else:
            online_step(model, x, lambda o, t: torch.nn.functional.cross_entropy(o, y), method=online)
    functional.reset_net(model)
    model.zero_grad()
    assert counter.live_bytes == 0        # everything saved was freed by the backward passes
    return counter.peak


def test_saved_tensors_meter_counts_storages_until_the_graph_is_freed():
    w = torch.ones(100, requires_grad=True)           # 400 bytes each
    v = torch.ones(100, requires_grad=True)
    with SavedTensorsMeter() as meter:
        first = (w * v + w * v).sum()                  # each product saves w and v: 4 saves, 2 storages
        assert (meter.live_bytes, meter.saves) == (800, 4)
        second = w.exp().sum()                         # exp saves its result: a new storage
        assert meter.live_bytes == 1200
        first.backward()
        assert meter.live_bytes == 400                 # only exp's result is still held
        second.backward()
    assert meter.live_bytes == 0 and meter.peak == 1200
    with pytest.raises(RuntimeError, match="already measuring"):
        with meter, meter:
            pass


@pytest.mark.parametrize("online", ["ottt", "sltt"])
def test_saved_memory_does_not_grow_with_T(online):
    """The peak of what autograd holds for backward over one training step, at T = 4 and T = 24."""
    model = CSNN(in_channels=1, num_classes=3, channels=2)
    bptt4, bptt24 = _peak_saved_bytes(model, 4, None), _peak_saved_bytes(model, 24, None)
    online4, online24 = _peak_saved_bytes(model, 4, online), _peak_saved_bytes(model, 24, online)
    assert bptt24 > 3 * bptt4                       # the measurement sees BPTT's growth
    assert online24 <= 1.05 * online4               # and none for the online method
    assert online24 < bptt24 / 3


# ----------------------------------------------------------------------------- the training option
def test_cli_trains_a_csnn_online_and_records_it(tmp_path, capsys):
    from spikesmith.cli.main import main

    out = tmp_path / "run"
    assert main(["train", "--dataset", "digits", "--model", "csnn", "--channels", "4", "--online", "ottt",
                 "--train-subset", "256", "--test-subset", "100", "--T", "2", "--epochs", "2", "--lr", "0.01",
                 "--batch-size", "32", "--threads", "1", "--report", "false", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["history"][-1]["train_loss"] < metrics["history"][0]["train_loss"] - 0.05
    assert "online ottt" in capsys.readouterr().err
    # the checkpoint is an ordinary one: evaluated (multi-step, BPTT's forward) to the run's accuracy
    assert main(["eval", "--checkpoint", str(out / "checkpoint.pt")]) == 0
    assert json.loads(capsys.readouterr().out)["test_accuracy"] == metrics["test_accuracy"]


@pytest.mark.parametrize("online", [{"online": "ottt"}, {"online": "sltt"}, {"online": "sltt", "sltt_k": 1}],
                         ids=["ottt", "sltt", "sltt_k1"])
def test_online_runs_learn_the_digits(tmp_path, online):
    from training_helpers import tiny_run

    metrics = tiny_run(tmp_path, epochs=5, **online)
    assert metrics["test_accuracy"] > 0.6            # chance is 0.1; BPTT reaches 0.83 here


@pytest.mark.parametrize("overrides, words", [
    ({"model": "rsnn"}, ["rsnn", "supported models: csnn, fcsnn"]),
    ({"model": "lsm"}, ["lsm", "without --online"]),
    ({"feedback": "fa"}, ["--feedback fa", "drop one"]),
    ({"feedback": "dfa"}, ["--feedback dfa"]),
    ({"ann": True}, ["--ann", "ANN twin"]),
    ({"rate_reg": 0.01}, ["rate-reg", "rate_reg=0"]),
    ({"sltt_k": 2}, ["sltt_k=2", "--online sltt only"]),
])
def test_unsupported_online_runs_are_refused_by_name(overrides, words):
    with pytest.raises(ValueError) as err:
        make_config(overrides={"dataset": "digits", "online": "ottt", **overrides})
    for word in words:
        assert word in str(err.value)


def test_bad_online_options_are_refused():
    with pytest.raises(ValueError, match="unknown online training method 'bptt'.*ottt.*sltt"):
        make_config(overrides={"dataset": "digits", "online": "bptt"})
    with pytest.raises(ValueError, match="sltt_k=3 needs online=sltt"):
        make_config(overrides={"dataset": "digits", "sltt_k": 3})
    with pytest.raises(ValueError, match="sltt_k must be an int >= 1"):
        make_config(overrides={"dataset": "digits", "online": "sltt", "sltt_k": 0})
    with pytest.raises(ValueError, match="one process"):
        check_online("sltt", "fcsnn", world_size=2)
    check_online("sltt", "csnn", sltt_k=2)          # fine
    assert set(ONLINE_METHODS) == {"ottt", "sltt"}


def test_cli_refuses_an_unsupported_model(tmp_path, capsys):
    from spikesmith.cli.main import main

    assert main(["train", "--dataset", "sfmnist", "--model", "rsnn", "--online", "sltt", "--out", str(tmp_path)]) == 2
    assert "does not support --model rsnn" in capsys.readouterr().err


def test_online_step_refuses_bad_input():
    net = FCSNN(in_shape=(4,), num_classes=2, hidden=3)
    with pytest.raises(ValueError, match=r"sltt_k=5 is more than the T=3"):
        online_step(net, torch.rand(3, 2, 4), lambda o, t: o.sum(), method="sltt", k=5)
    with pytest.raises(ValueError, match="applies to online=sltt only"):
        online_step(net, torch.rand(3, 2, 4), lambda o, t: o.sum(), method="ottt", k=1)
    with pytest.raises(ValueError, match=r"shape \[T, N, \.\.\.\]"):
        online_step(net, torch.rand(4), lambda o, t: o.sum())
    with pytest.raises(ValueError, match="unknown online training method"):
        online_step(net, torch.rand(3, 2, 4), lambda o, t: o.sum(), method="bptt")


def test_ottt_refuses_what_it_cannot_trace():
    cuba = nn.Sequential(layer.Linear(3, 2, step_mode="m"), neuron.CubaLIFNode())
    with pytest.raises(ValueError, match="membrane decay of .*CubaLIFNode.*online=sltt"):
        online_step(cuba, torch.rand(2, 1, 3), lambda o, t: o.sum(), method="ottt")
    online_step(cuba, torch.rand(2, 1, 3), lambda o, t: o.sum(), method="sltt")      # SLTT needs no trace
    per_neuron = nn.Sequential(layer.Linear(3, 2, step_mode="m"), neuron.LIFNode(tau=torch.tensor([2.0, 3.0])))
    with pytest.raises(ValueError, match="per-neuron decay"):
        synapse_plan(per_neuron)
    recurrent = RSNN(in_features=3, num_classes=2, n_lif=3, n_alif=2)
    with pytest.raises(ValueError, match="OTTT cannot trace"):
        synapse_plan(recurrent)
    reflect = nn.Sequential(layer.Conv2d(1, 2, 3, padding=1, padding_mode="reflect", step_mode="m"), neuron.IFNode())
    with pytest.raises(ValueError, match="padding_mode='reflect'"):
        synapse_plan(reflect)
    with pytest.raises(ValueError, match="no layer to trace"):
        synapse_plan(nn.Sequential(neuron.LIFNode()))
    net = nn.Sequential(layer.Linear(3, 2, step_mode="m"), neuron.LIFNode())
    with pytest.raises(ValueError, match="step_mode='m'"):
        with presynaptic_traces(net):
            net(torch.rand(2, 1, 3))
    assert "forward" not in vars(net[0])            # restored after the error


def test_a_nan_step_loss_is_skipped_before_it_reaches_the_weights(tmp_path, monkeypatch):
    """The online step's gradients are in .grad before the loss is checked: a skipped batch must
    drop them (the weights stay finite) and be counted."""
    from training_helpers import tiny_run

    from spikesmith.training import load_checkpoint, trainer

    real, calls = trainer.loss_fn, {"n": 0}

    def patched(cfg):
        base = real(cfg)

        def criterion(out, y):
            loss = base(out, y)
            if out.requires_grad:                      # training steps only
                calls["n"] += 1
                if calls["n"] == 3:                    # T = 2: batch 2, its first step
                    return loss * float("nan")
            return loss
        return criterion

    monkeypatch.setattr(trainer, "loss_fn", patched)
    metrics = tiny_run(tmp_path, online="ottt", nonfinite_loss="skip")
    assert [row["skipped_batches"] for row in metrics["history"]] == [1, 0]
    state = load_checkpoint(tmp_path / "checkpoint.pt")["state_dict"]
    assert all(torch.isfinite(t).all() for t in state.values() if t.is_floating_point())
