"""Gated spiking RNNs: SpikingLSTM / SpikingGRU, their cells, the two variants, signed channels,
the phased time gate, and bad input."""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from torch import nn

from spikesmith import functional, layer, reset_check
from spikesmith.surrogate import ATan

DT = torch.float64
T, N, I, H = 12, 3, 4, 5
CLASSES = [(layer.SpikingLSTM, layer.SpikingLSTMCell), (layer.SpikingGRU, layer.SpikingGRUCell)]
VARIANTS = ["spikingjelly", "snntorch"]


def spikes(*shape, p=0.5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(*shape, generator=g) < p).to(DT)


def scaled(module, factor=3.0, seed=0):
    """Larger weights so that the gates spike often (the default init rarely crosses 0 by much)."""
    torch.manual_seed(seed)
    module = module.to(DT)
    with torch.no_grad():
        for cell in getattr(module, "cells", [module]):
            cell.reset_parameters()
            cell.weight_ih.mul_(factor)
            cell.weight_hh.mul_(factor)
    return module


def options(variant, time_gate=None):
    opts = {"threshold": 0.2, "reset_mechanism": "subtract"} if variant == "snntorch" else {}
    if time_gate:  # short periods, open most of the time, so that the cells do spike within T steps
        opts.update(time_gate=time_gate, time_gate_options={"tau_min": 2.0, "tau_max": 6.0, "r_on": 0.7})
    return opts


# --------------------------------------------------------------------------- single vs multi step
@pytest.mark.parametrize("rnn_cls,cell_cls", CLASSES)
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("time_gate", [None, "phased"])
def test_cells_looped_equal_the_multi_step_stack_exactly(rnn_cls, cell_cls, variant, time_gate):
    rnn = scaled(rnn_cls(I, H, num_layers=2, variant=variant, **options(variant, time_gate)))
    x = spikes(T, N, I)
    y_multi = rnn(x)
    # the same cells, driven one step at a time, each cell on its own (as a user would loop them)
    functional.reset_net(rnn)
    functional.set_step_mode(rnn, "s")
    y_single = torch.stack([rnn(x_t) for x_t in x])
    assert torch.equal(y_multi, y_single)
    functional.reset_net(rnn)
    cells = [cell_cls(I if k == 0 else H, H, variant=variant, **options(variant, time_gate)).to(DT)
             for k in range(2)]
    for cell, src in zip(cells, rnn.cells):
        cell.load_state_dict(src.state_dict())
    y_cells = []
    for x_t in x:
        for cell in cells:
            x_t = cell(x_t)
        y_cells.append(x_t)
    assert torch.equal(y_multi, torch.stack(y_cells))
    assert 0 < y_multi.abs().mean() < 1, "the check needs some spikes and some silence"


def test_multi_step_in_two_chunks_continues_the_state():
    rnn = scaled(layer.SpikingLSTM(I, H, **options("spikingjelly", "phased")))
    x = spikes(T, N, I)
    whole = rnn(x)
    functional.reset_net(rnn)
    with reset_check.continuing():              # one sequence in two calls, on purpose
        assert torch.equal(torch.cat([rnn(x[:5]), rnn(x[5:])]), whole)


# --------------------------------------------------------------------------- shapes, reset, grads
@pytest.mark.parametrize("rnn_cls,cell_cls", CLASSES)
def test_stacked_layers_shapes_and_state(rnn_cls, cell_cls):
    rnn = rnn_cls(I, H, num_layers=3)
    assert [c.input_size for c in rnn.cells] == [I, H, H]
    assert rnn(torch.rand(T, N, I)).shape == (T, N, H)
    for cell in rnn.cells:
        assert all(getattr(cell, n).shape == (N, H) for n in cell.spec.state_names)
        assert cell.step_index == T
    pair = rnn_cls(I, H, num_layers=2, signed=True, signed_output="pair")
    assert [c.input_size for c in pair.cells] == [I, 2 * H]
    assert pair(torch.rand(T, N, I)).shape == (T, N, 2 * H)


@pytest.mark.parametrize("rnn_cls,cell_cls", CLASSES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_reset_net_clears_the_state(rnn_cls, cell_cls, variant):
    rnn = scaled(rnn_cls(I, H, num_layers=2, variant=variant, **options(variant)))
    x = spikes(T, N, I)
    with reset_check.continuing():
        first = rnn(x)
        cont = rnn(x)                          # continues from the end state of the first call
    functional.reset_net(rnn)
    for cell in rnn.cells:
        assert all(getattr(cell, n) is None for n in cell.spec.state_names) and cell.step_index == 0
    assert torch.equal(rnn(x), first)
    assert not torch.equal(cont, first)        # so the state did carry over before the reset
    functional.reset_net(rnn)
    assert rnn(spikes(T, N + 2, I)).shape == (T, N + 2, H)   # a new batch size after a reset


def test_in_a_sequential_with_set_step_mode_and_detach_net():
    from torch import nn

    from spikesmith import neuron

    torch.manual_seed(0)
    net = nn.Sequential(layer.SpikingGRU(I, H, num_layers=2), layer.Linear(H, 3), neuron.LIFNode()).to(DT)
    functional.set_step_mode(net, "m")
    x = spikes(T, N, I)
    y = net(x)
    assert y.shape == (T, N, 3)
    assert net[0].cells[1].h.requires_grad
    functional.detach_net(net)                 # truncated BPTT: the state leaves the graph
    assert not net[0].cells[1].h.requires_grad
    functional.reset_net(net)
    functional.set_step_mode(net, "s")
    assert torch.equal(torch.stack([net(x_t) for x_t in x]), y)


def test_a_new_batch_size_without_reset_is_a_clear_error():
    rnn = layer.SpikingGRU(I, H)
    rnn(torch.rand(T, N, I))
    with pytest.warns(reset_check.ForgottenResetWarning), pytest.raises(ValueError, match="reset_net"):
        rnn(torch.rand(T, N + 1, I))


@pytest.mark.parametrize("rnn_cls,cell_cls", CLASSES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_surrogate_gradients_reach_every_weight_and_the_input(rnn_cls, cell_cls, variant):
    rnn = scaled(rnn_cls(I, H, num_layers=2, variant=variant, **options(variant, "phased")))
    x = spikes(T, N, I).requires_grad_()
    rnn(x).sum().backward()
    assert x.grad.abs().sum() > 0
    for name, p in rnn.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        if "weight" in name:
            assert p.grad.abs().sum() > 0, name


# --------------------------------------------------------------------------- SpikingJelly
def _copy_from_spikingjelly(ours, peer):
    with torch.no_grad():
        for mine, theirs in zip(ours.cells, peer.cells):
            mine.weight_ih.copy_(theirs.linear_ih.weight)
            mine.weight_hh.copy_(theirs.linear_hh.weight)
            mine.bias_ih.copy_(theirs.linear_ih.bias)
            mine.bias_hh.copy_(theirs.linear_hh.bias)


@pytest.mark.parametrize("ours_name,peer_name", [("SpikingLSTM", "SpikingLSTM"), ("SpikingGRU", "SpikingGRU")])
@pytest.mark.parametrize("two_surrogates", [False, True])
def test_equals_spikingjelly_outputs_and_gradients(ours_name, peer_name, two_surrogates):
    sj_rnn = pytest.importorskip("spikingjelly.activation_based.rnn")
    sj_surrogate = pytest.importorskip("spikingjelly.activation_based.surrogate")
    torch.manual_seed(0)
    peer_kw = {"surrogate_function1": sj_surrogate.ATan(alpha=2.0)}
    ours_kw = {"surrogate_function": ATan(alpha=2.0)}
    if two_surrogates:  # SpikingJelly's surrogate_function2 drives the candidate g / n only
        peer_kw["surrogate_function2"] = sj_surrogate.ATan(alpha=5.0)
        ours_kw["candidate_surrogate"] = ATan(alpha=5.0)
    peer = getattr(sj_rnn, peer_name)(I, H, 2, **peer_kw).to(DT)
    with torch.no_grad():
        for p in peer.parameters():
            p.mul_(3.0)
    ours = getattr(layer, ours_name)(I, H, num_layers=2, **ours_kw).to(DT)
    _copy_from_spikingjelly(ours, peer)
    x_peer = spikes(T, N, I).requires_grad_()
    x_ours = x_peer.detach().clone().requires_grad_()
    y_peer, _ = peer(x_peer)
    y_ours = ours(x_ours)
    assert torch.equal(y_ours, y_peer)
    assert 0 < y_ours.mean() < 1
    weights = torch.randn(T, N, H, dtype=DT)
    (y_peer * weights).sum().backward()
    (y_ours * weights).sum().backward()
    torch.testing.assert_close(x_ours.grad, x_peer.grad, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(ours.cells[0].weight_hh.grad, peer.cells[0].linear_hh.weight.grad,
                               rtol=1e-12, atol=1e-12)


def test_spikingjelly_lstm_cell_state_is_clamped_at_one_with_a_straight_through_gradient():
    cell = layer.SpikingLSTMCell(1, 1, bias=False, surrogate_function=ATan()).to(DT)
    with torch.no_grad():
        cell.weight_ih.fill_(1.0)        # every gate u = x: i = f = g = o = 1 for x >= 0
        cell.weight_hh.zero_()
    x = torch.ones(2, 1, 1, dtype=DT)
    functional.set_step_mode(cell, "m")
    h = cell(x)
    assert h.flatten().tolist() == [1.0, 1.0]      # c = 1*1 + 1*1 = 2, clamped to 1
    assert cell.c.item() == 1.0


# --------------------------------------------------------------------------- snnTorch
@pytest.mark.parametrize("reset", ["none", "subtract", "zero"])
def test_equals_snntorch_slstm_spikes_and_mem(reset):
    snn = pytest.importorskip("snntorch")
    torch.manual_seed(0)
    size = H  # see test_snntorch_slstm_restarts_when_input_and_hidden_sizes_differ
    peer = snn.SLSTM(size, H, threshold=0.1, reset_mechanism=reset)
    ours = layer.SpikingLSTMCell(size, H, variant="snntorch", threshold=0.1, reset_mechanism=reset)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(ours, name).copy_(getattr(peer.lstm_cell, name) * 2)
            getattr(peer.lstm_cell, name).mul_(2)
    x = torch.randn(T, N, size)
    syn, mem = peer.init_slstm()
    peer_spk, peer_mem = [], []
    for x_t in x:
        spk, syn, mem = peer(x_t, syn, mem)
        peer_spk.append(spk)
        peer_mem.append(mem)
    functional.set_step_mode(ours, "m")
    ours_spk = ours(x)
    assert torch.equal(ours_spk, torch.stack(peer_spk))
    assert 0 < ours_spk.mean() < 1
    torch.testing.assert_close(ours.mem, peer_mem[-1], rtol=0, atol=1e-6)
    functional.reset_net(ours)
    for x_t, m in zip(x, peer_mem):   # every step's membrane, through the single-step path
        ours.single_step_forward(x_t)
        torch.testing.assert_close(ours.mem, m, rtol=0, atol=1e-6)


def test_snntorch_slstm_restarts_when_input_and_hidden_sizes_differ():
    # snnTorch's SLSTM zeroes its state whenever syn.shape != input.shape, i.e. at every step
    # when input_size != hidden_size; ours keeps its state, and equals the peer only when reset
    # at every step. This documents why the equality test above uses input_size == hidden_size.
    snn = pytest.importorskip("snntorch")
    torch.manual_seed(0)
    peer = snn.SLSTM(I, H, threshold=0.1)
    ours = layer.SpikingLSTMCell(I, H, variant="snntorch", threshold=0.1)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(ours, name).copy_(getattr(peer.lstm_cell, name))
    syn, mem = peer.init_slstm()
    for x_t in torch.randn(4, N, I):
        _, syn, mem = peer(x_t, syn, mem)
        functional.reset_net(ours)
        ours(x_t)
        torch.testing.assert_close(ours.mem, mem, rtol=0, atol=1e-6)


def test_snntorch_variant_fires_on_mem_above_threshold_not_at_it():
    # snnTorch spikes on mem > theta (H(0) = 0), where the house's Heaviside has H(0) = 1
    theta = torch.tanh(torch.tensor(1.0, dtype=DT)).item()
    cell = layer.SpikingGRUCell(1, 1, variant="snntorch", threshold=theta, surrogate_function=ATan()).to(DT)
    with torch.no_grad():   # z = 0, n = tanh(x): mem = tanh(x)
        cell.weight_ih.zero_()
        cell.weight_hh.zero_()
        cell.bias_ih.copy_(torch.tensor([0.0, -1e9, 0.0], dtype=DT))
        cell.bias_hh.zero_()
        cell.weight_ih[2, 0] = 1.0
    x = torch.ones(1, 1, dtype=DT, requires_grad=True)
    s = cell(x)
    assert cell.mem.item() == theta and s.item() == 0.0
    s.sum().backward()
    assert x.grad.item() > 0                     # the surrogate gradient is unchanged at mem = theta
    cell.reset()
    assert cell(torch.full((1, 1), 1.0001, dtype=DT)).item() == 1.0


def test_snntorch_variant_defaults_and_its_bounded_membrane():
    cell = layer.SpikingLSTMCell(I, H, variant="snntorch")
    assert cell.threshold == 1.0 and cell.reset_mechanism == "none"   # snnTorch's defaults
    cell = scaled(cell, factor=10.0)
    functional.set_step_mode(cell, "m")
    assert cell(torch.randn(T, N, I, dtype=DT) * 5).sum() == 0   # mem = o tanh(syn) < 1 = theta


# --------------------------------------------------------------------------- phased time gate
def _open_at_every_step(gate):
    with torch.no_grad():  # period = one step, peak of the open phase on every integer time
        gate.tau.fill_(1.0)
        gate.r_on.fill_(1.0)
        gate.shift.fill_(-0.5)


@pytest.mark.parametrize("rnn_cls,cell_cls", CLASSES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_phased_gate_fully_open_equals_the_plain_cell(rnn_cls, cell_cls, variant):
    plain = scaled(cell_cls(I, H, variant=variant, step_mode="m", **options(variant)))
    gated = scaled(cell_cls(I, H, variant=variant, step_mode="m", time_gate="phased", **options(variant)))
    _open_at_every_step(gated.time_gate)
    assert torch.equal(gated.time_gate.openness(torch.arange(T, dtype=DT)), torch.ones(T, H, dtype=DT))
    x = spikes(T, N, I)
    assert torch.equal(gated(x), plain(x))
    for name in plain.spec.state_names:
        assert torch.equal(getattr(gated, name), getattr(plain, name))


def test_phased_gate_openness_hand_computed():
    gate = layer.PhasedTimeGate(1, r_on=0.5, alpha=0.01).to(DT)
    with torch.no_grad():
        gate.tau.fill_(8.0)
        gate.shift.fill_(0.0)
    k = gate.openness(torch.arange(10, dtype=DT)).flatten()
    # phi = t/8: opening 2 phi / 0.5 for phi < 0.25, closing until 0.5, then 0.01 phi; period 8
    want = [0.0, 0.5, 1.0, 0.5, 0.01 * 0.5, 0.01 * 0.625, 0.01 * 0.75, 0.01 * 0.875, 0.0, 0.5]
    torch.testing.assert_close(k, torch.tensor(want, dtype=DT), rtol=0, atol=1e-15)


@pytest.mark.parametrize("variant", VARIANTS)
def test_in_a_closed_phase_the_state_only_leaks(variant):
    cell = scaled(layer.SpikingLSTMCell(I, H, variant=variant, time_gate="phased",
                                        time_gate_options={"alpha": 0.0}, **options(variant)))
    gate = cell.time_gate
    with torch.no_grad():   # phi = t / 20: open (k > 0) for t = 1, 2, 3, closed for t in [4, 20)
        gate.tau.fill_(20.0)
        gate.r_on.fill_(0.2)
        gate.shift.fill_(0.0)
    x = spikes(T, N, I, p=0.8)
    for x_t in x[:4]:
        cell(x_t)
    held = [getattr(cell, n).clone() for n in cell.spec.state_names]
    assert any(v.abs().sum() > 0 for v in held)
    for x_t in x[4:8]:                     # closed, alpha = 0: nothing moves
        cell(x_t)
        assert all(torch.equal(getattr(cell, n), v) for n, v in zip(cell.spec.state_names, held))
    # with a leak alpha the closed cell moves by alpha * phi of the update exactly
    gate.alpha = 0.01
    state = tuple(held)
    new = cell.spec.update(x[8], state, cell.gate_params())
    k = 0.01 * (8.0 / 20.0)
    cell(x[8])
    for name, n, o in zip(cell.spec.state_names, new, state):
        torch.testing.assert_close(getattr(cell, name), k * n + (1 - k) * o, rtol=0, atol=1e-15)


# --------------------------------------------------------------------------- signed channels
def test_signed_spikingjelly_lstm_by_hand():
    # one neuron, u = w x for every gate: weights (i, f, g, o) = (1, 1, -1, 1), no recurrence
    cell = layer.SpikingLSTMCell(1, 1, bias=False, signed=True, signed_output="pair").to(DT)
    with torch.no_grad():
        cell.weight_ih.copy_(torch.tensor([[1.0], [1.0], [-1.0], [1.0]], dtype=DT))
        cell.weight_hh.zero_()
    # x = 1: i = f = o = 1, g = S(-1) - S(1) = -1: c = 0 * 1 + 1 * (-1) = -1, h = -1 -> pair [0, 1]
    assert cell(torch.ones(1, 1, dtype=DT)).tolist() == [[0.0, 1.0]]
    assert cell.c.item() == -1.0
    # x = 1 again: c = -1 - 1 = -2, clamped to -1
    assert cell(torch.ones(1, 1, dtype=DT)).tolist() == [[0.0, 1.0]]
    assert cell.c.item() == -1.0
    # x = -1: i = f = o = 0 (u < 0): c = 0, h = 0
    assert cell(-torch.ones(1, 1, dtype=DT)).tolist() == [[0.0, 0.0]]
    # x = 0: u = 0 for all; i = f = o = 1, g = S(0) - S(-0) = 0: c stays 0
    assert cell(torch.zeros(1, 1, dtype=DT)).tolist() == [[0.0, 0.0]]
    cell.reset()
    cell.signed_output = "difference"
    assert cell(torch.ones(1, 1, dtype=DT)).tolist() == [[-1.0]]


def test_signed_snntorch_both_channels_and_the_signed_reset_by_hand():
    cell = layer.SpikingGRUCell(1, 1, bias=True, variant="snntorch", threshold=0.5,
                                reset_mechanism="subtract", signed=True, signed_output="pair").to(DT)
    with torch.no_grad():   # z = sigmoid(-inf) = 0, n = tanh(x): mem = tanh(x) - theta (pos - neg)_prev
        cell.weight_ih.zero_()
        cell.weight_hh.zero_()
        cell.bias_ih.copy_(torch.tensor([0.0, -1e9, 0.0], dtype=DT))
        cell.bias_hh.zero_()
        cell.weight_ih[2, 0] = 1.0
    a = math.tanh(1.0)                                      # 0.7616
    assert cell(torch.full((1, 1), -1.0, dtype=DT)).tolist() == [[0.0, 1.0]]   # mem = -a < -0.5
    assert cell.mem.item() == pytest.approx(-a)
    # the negative spike is reset by subtracting theta * (0 - 1): mem = a + 0.5, positive spike
    assert cell(torch.full((1, 1), 1.0, dtype=DT)).tolist() == [[1.0, 0.0]]
    assert cell.mem.item() == pytest.approx(a + 0.5)
    # small input, previous positive spike: mem = tanh(0.1) - 0.5 (no spike either side)
    assert cell(torch.full((1, 1), 0.1, dtype=DT)).tolist() == [[0.0, 0.0]]
    assert cell.mem.item() == pytest.approx(math.tanh(0.1) - 0.5)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("cls", [layer.SpikingLSTM, layer.SpikingGRU, layer.SpikingLSTMCell, layer.SpikingGRUCell])
@pytest.mark.parametrize("kwargs,match", [
    ({"input_size": 0}, "input_size must be a positive int, got 0"),
    ({"input_size": -3}, "input_size must be a positive int"),
    ({"hidden_size": 2.5}, "hidden_size must be a positive int"),
    ({"input_size": True}, "input_size must be a positive int"),
    ({"variant": "keras"}, "unknown spiking (LSTM|GRU) variant 'keras'; known .*: snntorch, spikingjelly"),
    ({"signed_output": "sum"}, "unknown signed_output 'sum'; known .*: difference, pair"),
    ({"time_gate": "gaussian"}, "unknown time_gate 'gaussian'; known .*: phased"),
    ({"reset_mechanism": "subtract"}, "variant 'spikingjelly' takes reset_mechanism in \\['none'\\]"),
    ({"variant": "snntorch", "reset_mechanism": "hard"}, "reset_mechanism in \\['none', 'subtract', 'zero'\\]"),
    ({"variant": "snntorch", "threshold": float("nan")}, "threshold must be a finite number"),
    ({"time_gate_options": {"alpha": 0.1}}, "time_gate_options given without a time_gate"),
    ({"time_gate": "phased", "time_gate_options": {"r_on": 0.0}}, "r_on must be a positive"),
    ({"time_gate": "phased", "time_gate_options": {"alpha": 2.0}}, "alpha must be in \\[0, 1\\]"),
    ({"dt": 0.0}, "dt .* must be positive"),
])
def test_bad_construction_is_a_clear_value_error(cls, kwargs, match):
    args = {"input_size": I, "hidden_size": H, **kwargs}
    with pytest.raises(ValueError, match=match):
        cls(**args)


@pytest.mark.parametrize("cls", [layer.SpikingLSTM, layer.SpikingGRUCell])
def test_an_empty_sequence_is_a_clear_error(cls):
    rnn = cls(I, H, step_mode="m")
    with pytest.raises(ValueError, match="empty sequence .*T=0"):
        rnn(torch.rand(0, N, I))


def test_nan_input_is_caught_in_debug_mode(monkeypatch):
    from spikesmith import _config

    rnn = layer.SpikingLSTM(I, H)
    x = torch.rand(T, N, I)
    x[3, 0, 1] = float("nan")
    rnn(x)                                   # off by default: the fast path checks nothing
    functional.reset_net(rnn)
    monkeypatch.setattr(_config, "_DEBUG", True)
    with pytest.raises(ValueError, match="SpikingLSTM received NaN in its input"):
        rnn(x)


def test_num_layers_must_be_positive():
    with pytest.raises(ValueError, match="num_layers must be a positive int, got 0"):
        layer.SpikingLSTM(I, H, num_layers=0)


@pytest.mark.parametrize("cls,mode", [(layer.SpikingLSTM, "m"), (layer.SpikingGRU, "m"),
                                      (layer.SpikingLSTMCell, "s"), (layer.SpikingGRUCell, "s")])
def test_wrong_rank_or_feature_size_names_the_expected_shape(cls, mode):
    rnn = cls(I, H)
    want = "[T, N, input_size=4]" if mode == "m" else "[N, input_size=4]"
    bad_rank = torch.rand(N, I) if mode == "m" else torch.rand(T, N, I)
    with pytest.raises(ValueError, match=f"expects input of shape {want.replace('[', '.').replace(']', '.')}"):
        rnn(bad_rank)
    bad_features = torch.rand(T, N, I + 1) if mode == "m" else torch.rand(N, I + 1)
    with pytest.raises(ValueError, match=r"got shape .*\(5 features\); pass input_size=5 or feed 4 features"):
        rnn(bad_features)
    with pytest.raises(TypeError, match="torch.Tensor"):
        rnn([[0.0] * I])
    with pytest.raises(TypeError, match="floating-point"):
        rnn(bad_features[..., :I].long())
    with pytest.raises(TypeError, match="input is torch.float64 .* but the weights are torch.float32"):
        rnn(bad_features[..., :I].double())


@pytest.mark.parametrize("make", [lambda: layer.SpikingLSTMCell(4, 10**7),
                                  lambda: layer.SpikingGRU(4, 8, num_layers=10**9)])
def test_a_layer_that_cannot_fit_in_memory_is_refused_with_the_estimate(make):
    with pytest.raises(MemoryError, match=r"needs [0-9.]+ GiB of weights, more than this machine's"):
        make()


@pytest.mark.parametrize("options,error,match", [
    ({"bogus": 1}, ValueError, r"unknown time_gate_options \['bogus'\] .*known: \['tau_min', 'tau_max'"),
    ("r_on=0.1", TypeError, "time_gate_options must be a dict of PhasedTimeGate options, got str"),
])
def test_bad_time_gate_options(options, error, match):
    with pytest.raises(error, match=match):
        layer.SpikingLSTMCell(I, H, time_gate="phased", time_gate_options=options)


# ----------------------------------------------------------------------- the forgotten-reset check
@pytest.mark.parametrize("cls", [layer.SpikingLSTM, layer.SpikingGRU])
def test_a_forgotten_reset_warns_once_and_a_reset_does_not(cls):
    from spikesmith.reset_check import ForgottenResetWarning

    torch.manual_seed(0)
    net = nn.Sequential(cls(3, 5, num_layers=2), nn.Linear(5, 2))
    x = torch.rand(4, 2, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ForgottenResetWarning)
        for _ in range(3):                      # ordinary BPTT: a reset between batches, silent
            net(x).sum().backward()
            functional.reset_net(net)
    net(x).sum().backward()                      # ... then no reset: the next call starts from a spent graph
    with pytest.warns(ForgottenResetWarning, match="reset_net") as record:
        net(x)
        net(x)
    assert len([w for w in record if issubclass(w.category, ForgottenResetWarning)]) == 1   # once per network


@pytest.mark.parametrize("cell_cls", [layer.SpikingLSTMCell, layer.SpikingGRUCell])
def test_each_variant_has_its_own_default_spike_function(cell_cls):
    # the SpikingJelly formulation's Heaviside gates train far better with a narrow surrogate (the
    # measurement is in gated_variants.SPIKINGJELLY_SURROGATE); the snnTorch one keeps snnTorch's atan
    from spikesmith.surrogate import FastSigmoid

    sj = cell_cls(3, 4)
    assert isinstance(sj.surrogate_function, FastSigmoid) and sj.surrogate_function.slope == 10.0
    assert isinstance(cell_cls(3, 4, variant="snntorch").surrogate_function, ATan)
    assert isinstance(cell_cls(3, 4, surrogate_function="atan").surrogate_function, ATan)   # a choice wins
