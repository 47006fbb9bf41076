"""spikesmith.compat.spikingjelly.activation_based.rnn: SpikingJelly's explicit-state spiking RNNs
(spiking_lstm_sequential_mnist.py builds ``rnn.SpikingLSTM(28, 1024, 1)``)."""

from __future__ import annotations

import pytest
import torch

from spikesmith.compat.spikingjelly.activation_based import rnn

pytestmark = pytest.mark.usefixtures("one_thread")


def _lstm_cell_all_gates_follow_x():
    cell = rnn.SpikingLSTMCell(1, 1)
    with torch.no_grad():
        cell.linear_ih.weight.fill_(1.0)
        cell.linear_ih.bias.zero_()
        cell.linear_hh.weight.zero_()
        cell.linear_hh.bias.zero_()
    return cell


def test_lstm_cell_by_hand_with_the_clamp():
    cell = _lstm_cell_all_gates_follow_x()
    one, minus = torch.ones(1, 1), -torch.ones(1, 1)
    h, c = cell(one)                  # i = f = g = o = 1: c = 0 + 1 = 1, h = 1
    assert (h.item(), c.item()) == (1.0, 1.0)
    h, c = cell(one, (h, c))          # c = 1 * 1 + 1 = 2, clamped to 1
    assert (h.item(), c.item()) == (1.0, 1.0)
    h, c = cell(minus, (h, c))        # every gate 0: c = 0, h = 0
    assert (h.item(), c.item()) == (0.0, 0.0)


def test_lstm_cell_clamp_passes_the_gradient_unchanged():
    cell = _lstm_cell_all_gates_follow_x()
    c0 = torch.ones(1, 1, requires_grad=True)
    h, c = cell(torch.ones(1, 1), (torch.zeros(1, 1), c0))
    c.sum().backward()                # c = c0 f + i g (clamped): dc/dc0 = f = 1 through the clamp
    assert c0.grad.item() == 1.0


def test_gru_and_vanilla_cells_by_hand():
    gru = rnn.SpikingGRUCell(1, 1)
    vanilla = rnn.SpikingVanillaRNNCell(1, 1)
    with torch.no_grad():
        for cell in (gru, vanilla):
            for p in cell.parameters():
                p.zero_()
            cell.linear_ih.weight.fill_(1.0)
    x = torch.ones(1, 1)
    # r = z = n = H(1) = 1: h = (1 - z) n + z h = h = 0 from zeros; then from h = 0.5, still 0.5
    assert gru(x).item() == 0.0
    assert gru(x, torch.full((1, 1), 0.5)).item() == 0.5
    assert vanilla(x).item() == 1.0 and vanilla(-x).item() == 0.0


def test_parameters_are_drawn_uniform_within_one_over_sqrt_hidden():
    torch.manual_seed(0)
    cell = rnn.SpikingLSTMCell(3, 16)
    names = [n for n, _ in cell.named_parameters()]
    assert names == ["linear_ih.weight", "linear_ih.bias", "linear_hh.weight", "linear_hh.bias"]
    assert cell.linear_ih.weight.shape == (64, 3) and cell.linear_hh.weight.shape == (64, 16)
    assert all(p.abs().max() <= 0.25 for p in cell.parameters())


def test_stacked_lstm_equals_its_cells_looped_by_hand():
    torch.manual_seed(0)
    net = rnn.SpikingLSTM(4, 5, 2)
    x = torch.rand(6, 3, 4) * 2
    y, (h_n, c_n) = net(x)
    assert y.shape == (6, 3, 5) and h_n.shape == c_n.shape == (2, 3, 5)
    seq = x
    for layer, cell in enumerate(net.cells):
        state, outs = None, []
        for x_t in seq:
            state = cell(x_t, state)
            outs.append(state[0])
        seq = torch.stack(outs)
        assert torch.equal(state[0], h_n[layer]) and torch.equal(state[1], c_n[layer])
    assert torch.equal(seq, y)
    again, _ = net(x, (torch.zeros(2, 3, 5), torch.zeros(2, 3, 5)))
    assert torch.equal(again, y)


def test_bidirectional_reverse_half_runs_backwards_in_time():
    torch.manual_seed(0)
    net = rnn.SpikingGRU(4, 5, 1, bidirectional=True)
    x = torch.rand(7, 2, 4) * 2
    y, h_n = net(x)
    assert y.shape == (7, 2, 10) and h_n.shape == (2, 2, 5)
    state, backwards = None, []
    for x_t in x.flip(0):                     # the reverse cell, fed the sequence from its end
        state = net.cells_reverse[0](x_t, state)
        backwards.append(state)
    assert torch.equal(y[..., 5:], torch.stack(backwards).flip(0))
    assert torch.equal(h_n[1], state)         # its final state is the one after the first step


@pytest.mark.parametrize("bad, message", [
    (lambda: rnn.SpikingLSTM(4, 5, 0), "num_layers"),
    (lambda: rnn.SpikingLSTM(4, 5, 1, dropout_p=1.5), "dropout_p"),
    (lambda: rnn.SpikingLSTMCell(0, 5), "input_size"),
    (lambda: rnn.SpikingLSTM(4, 5, 1)(torch.zeros(3, 4)), r"\[T, N, 4\]"),
    (lambda: rnn.SpikingLSTM(4, 5, 2)(torch.zeros(3, 2, 4), (torch.zeros(1, 2, 5),) * 2), r"\[2, N, 5\]"),
    (lambda: rnn.SpikingGRU(4, 5, 1)(torch.zeros(3, 2, 4), [torch.zeros(1, 2, 5)]), "tuple of tensors"),
    (lambda: rnn.SpikingGRUCell(4, 5)(torch.zeros(2, 3)), r"\[N, 4\]"),
])
def test_bad_input_is_a_clear_error(bad, message):
    with pytest.raises((ValueError, TypeError), match=message):
        bad()


@pytest.mark.parametrize("name, options", [
    ("SpikingLSTM", {}), ("SpikingGRU", {}), ("SpikingVanillaRNN", {}),
    ("SpikingLSTM", {"bidirectional": True}),
    ("SpikingGRU", {"dropout_p": 0.3, "invariant_dropout_mask": True}),
    ("SpikingLSTM", {"dropout_p": 0.3}),
])
def test_same_weights_outputs_and_gradients_as_spikingjelly(name, options):
    sj = pytest.importorskip("spikingjelly.activation_based.rnn")
    runs = []
    for module in (sj, rnn):
        torch.manual_seed(0)
        net = getattr(module, name)(5, 7, 2, **options)
        torch.manual_seed(1)
        x = (torch.rand(6, 3, 5) * 2).requires_grad_()
        y, states = net(x)
        states = states if isinstance(states, tuple) else (states,)
        (y.sum() + sum(s.sum() for s in states)).backward()
        runs.append((net.state_dict(), y.detach(), [s.detach() for s in states], x.grad))
    (w0, y0, s0, g0), (w1, y1, s1, g1) = runs
    assert list(w0) == list(w1) and all(torch.equal(w0[k], w1[k]) for k in w0)
    assert y0.sum() > 0 and torch.equal(y0, y1)
    assert all(torch.equal(a, b) for a, b in zip(s0, s1))
    assert torch.equal(g0, g1)                # Erf's gradient rounds as SpikingJelly's


def test_reachable_through_the_alias():
    pytest.importorskip("spikingjelly")
    import importlib

    import spikesmith.compat as compat

    compat.install_spikingjelly_alias()
    try:
        aliased = importlib.import_module("spikingjelly.activation_based.rnn")
        assert aliased is rnn
    finally:
        compat.uninstall_spikingjelly_alias()
