"""The forgotten-reset check (spikesmith.reset_check): each mistake warns once per network, the switch
makes it an error, the second backward names the fix, and ordinary loops stay silent."""

import warnings
import weakref

import pytest
import torch
from torch import nn

from spikesmith import _config, functional, layer, neuron, reset_check
from spikesmith.kernels.checkpoint import time_checkpoint
from spikesmith.reset_check import ForgottenResetError, ForgottenResetWarning

T, N = 5, 3


@pytest.fixture(autouse=True)
def _restore_settings():
    before = reset_check.reset_check_settings()
    yield
    functional.set_reset_check(*before[:1], max_graph_steps=before[1])


def make_net(step_mode="s", node=lambda: neuron.LIFNode(tau=2.0)):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), node(), nn.Linear(8, 3), node())
    functional.set_step_mode(net, step_mode)
    return net


def run(net, x):
    """One batch: the whole sequence in 'm' mode, a loop over its steps in 's' mode."""
    if net[1].step_mode == "m":
        return net(x)
    return torch.stack([net(x_t) for x_t in x])


def batch():
    return torch.rand(T, N, 4) * 2


class Recorded(list):
    def __init__(self, records):
        super().__init__(r for r in records if issubclass(r.category, ForgottenResetWarning))


def recorded(fn):
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        fn()
    return Recorded(records)


def silent(fn):
    """Run ``fn`` with a ForgottenResetWarning turned into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ForgottenResetWarning)
        fn()


def assert_names_the_fix(message: str):
    assert "functional.reset_net" in message and "functional.detach_net" in message
    assert "\n" not in message


# ----------------------------------------------------------------------------- the three mistakes
def test_multi_step_call_on_a_graph_left_by_the_last_one_warns_once_per_network():
    nets = [make_net("m"), make_net("m")]

    def forget():
        for net in nets:
            for _ in range(3):
                net(batch())                 # grad on (the weights), no reset, no backward

    records = recorded(forget)
    assert len(records) == 2                 # one per network, not per neuron or per batch
    message = str(records[0].message)
    assert "LIFNode '1'" in message and "step_mode='m'" in message
    assert_names_the_fix(message)
    assert records[0].filename == __file__   # points at the user's line


@pytest.mark.parametrize("step_mode", ["s", "m"])
def test_state_of_a_backpropagated_graph_warns_before_the_second_backward(step_mode):
    net = make_net(step_mode)
    run(net, batch()).sum().backward()
    records = recorded(lambda: run(net, batch()))           # no reset_net: warns at the forward
    assert len(records) == 1
    assert "a backward has already used and freed" in str(records[0].message)
    assert_names_the_fix(str(records[0].message))
    out = run(net, batch())
    assert not recorded(lambda: run(net, batch()))          # once per network
    with pytest.raises(RuntimeError, match=r"backward through the graph a second time.*functional\.reset_net"):
        out.sum().backward()


@pytest.mark.parametrize("detach_reset", [False, True])
@pytest.mark.parametrize("read", ["first", "last"])
def test_spent_state_is_caught_whatever_step_the_loss_reads(read, detach_reset):
    # only the first output and the first state of a trail are watched: a loss on a later step
    # reaches them through the state, with or without the gradient through the reset
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), neuron.LIFNode(tau=2.0, detach_reset=detach_reset))
    outs = [net(x_t) for x_t in batch()]        # not stacked: a stack's backward reaches every step
    (outs[0] if read == "first" else outs[-1]).sum().backward()
    assert len(recorded(lambda: net(batch()[0]))) == 1


def test_the_second_backward_error_is_left_alone_where_the_state_did_not_cause_it():
    net = make_net("m")
    out = net(batch())
    loss = out.sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="second time") as raised:
        loss.backward()                      # the user's own double backward, state not involved
    assert "reset_net" not in str(raised.value)


def test_graph_carried_over_many_single_steps_warns_once():
    functional.set_reset_check(max_graph_steps=40)
    net = make_net("s")
    x = torch.rand(N, 4)
    first = recorded(lambda: [net(x) for _ in range(41)])   # the 41st call starts from 40 steps: at the limit
    assert not first
    records = recorded(lambda: [net(x) for _ in range(100)])
    assert len(records) == 1
    message = str(records[0].message)
    assert "41 steps (limit 40)" in message and "torch.no_grad()" in message
    assert_names_the_fix(message)


def test_the_step_limit_default_is_written_once():
    assert reset_check.reset_check_settings() == (_config.DEFAULT_RESET_CHECK, _config.DEFAULT_MAX_GRAPH_STEPS)
    assert _config.DEFAULT_MAX_GRAPH_STEPS == 2000 and _config.DEFAULT_RESET_CHECK == "warn"


def test_every_neuron_type_catches_a_spent_state(make_node):
    net = make_net("m", make_node)
    x = batch() * 20
    net(x).sum().backward()
    records = recorded(lambda: net(x))
    assert len(records) == 1


# ----------------------------------------------------------------------------- the switch
def test_error_switch_raises_every_time():
    functional.set_reset_check("error")
    net = make_net("m")
    net(batch())
    for _ in range(2):
        with pytest.raises(ForgottenResetError, match=r"functional\.reset_net.*functional\.detach_net"):
            net(batch())
    assert issubclass(ForgottenResetError, RuntimeError)
    functional.reset_net(net)
    net(batch())                             # a reset clears it


def test_error_switch_for_a_spent_state():
    functional.set_reset_check("error")
    net = make_net("s")
    run(net, batch()).sum().backward()
    with pytest.raises(ForgottenResetError, match="already used and freed"):
        net(batch()[0])


def test_off_switch_is_silent():
    functional.set_reset_check("off")
    net = make_net("m")
    silent(lambda: [net(batch()) for _ in range(3)])


def test_bad_settings_name_the_valid_ones(monkeypatch):
    with pytest.raises(ValueError, match="must be one of 'warn', 'error', 'off', got 'loud'"):
        functional.set_reset_check("loud")
    with pytest.raises(ValueError, match="positive int, got 0"):
        functional.set_reset_check(max_graph_steps=0)
    monkeypatch.setenv("SPIKESMITH_RESET_CHECK_STEPS", "many")
    with pytest.raises(ValueError, match="SPIKESMITH_RESET_CHECK_STEPS must be a positive int, got 'many'"):
        _config._steps_from_env()
    monkeypatch.setenv("SPIKESMITH_RESET_CHECK_STEPS", "300")
    assert _config._steps_from_env() == 300


# ----------------------------------------------------------------------------- ordinary use is silent
def train(net, batches, step_mode):
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(batches):
        loss = run(net, batch()).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        functional.reset_net(net)


@pytest.mark.parametrize("step_mode", ["s", "m"])
def test_bptt_with_a_reset_between_batches_is_silent(step_mode):
    net = make_net(step_mode)
    silent(lambda: train(net, 3, step_mode))
    silent(lambda: (run(net, batch()), functional.reset_net(net)))   # then an evaluation after the reset


@pytest.mark.parametrize("step_mode", ["s", "m"])
def test_truncated_bptt_with_detach_net_is_silent(step_mode):
    net = make_net(step_mode)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)

    def tbptt():
        for _ in range(2):
            for _ in range(4):               # one long sequence in chunks of T steps
                loss = run(net, batch()).mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                functional.detach_net(net)
            functional.reset_net(net)

    silent(tbptt)


def test_a_loss_per_step_with_retain_graph_is_silent():
    net = make_net("s")

    def per_step():
        for x_t in batch():
            net(x_t).sum().backward(retain_graph=True)
        functional.reset_net(net)

    silent(per_step)


def test_evaluation_without_grad_carries_the_state_silently():
    # the first rule needs a graph: streaming chunks under no_grad is legitimate
    net = make_net("m")
    with torch.no_grad():
        silent(lambda: [net(batch()) for _ in range(3)])


def test_time_checkpoint_chunks_are_one_sequence():
    net = make_net("m")

    def train_checkpointed():
        for _ in range(2):
            time_checkpoint(net, torch.rand(12, N, 4), time_chunk=4).sum().backward()
            functional.reset_net(net)

    silent(train_checkpointed)
    time_checkpoint(net, torch.rand(12, N, 4), time_chunk=4)
    assert len(recorded(lambda: time_checkpoint(net, torch.rand(12, N, 4), time_chunk=4))) == 1


def test_continuing_checks_only_the_first_call_of_each_neuron():
    net = make_net("m")
    with reset_check.continuing():           # chunks of one sequence, split on purpose
        silent(lambda: [net(batch()) for _ in range(3)])
    with reset_check.continuing():           # the next sequence without a reset: its first chunk warns
        assert len(recorded(lambda: [net(batch()) for _ in range(3)])) == 1


def test_recurrent_steps_are_one_sequence():
    functional.set_reset_check(max_graph_steps=20)
    torch.manual_seed(0)
    net = nn.Sequential(layer.Recurrent(nn.Linear(4, 8), neuron.LIFNode(tau=2.0)), nn.Linear(8, 2))
    functional.set_step_mode(net, "m")
    x = torch.rand(30, N, 4)                 # 30 steps > the limit, inside one call
    silent(lambda: (net(x), functional.reset_net(net), net(x)))
    records = recorded(lambda: net(x))       # no reset after the last call: carried like an 'm' call
    assert len(records) == 1 and "step_mode='m'" in str(records[0].message)


# ----------------------------------------------------------------------------- no graph is retained
def _input_of_a_batch_kept_alive_by_its_graph(net):
    """Run one 's'-mode batch with autograd on and no backward; a weakref to its first input, which
    the first Linear saves for its backward: it lives exactly as long as the batch's graph."""
    x = batch()
    ref = weakref.ref(x)
    for x_t in x:
        net(x_t)
    return ref


def test_reset_net_frees_the_graph_of_an_evaluation_with_grad_on():
    net = make_net("s")
    ref = _input_of_a_batch_kept_alive_by_its_graph(net)
    functional.reset_net(net)
    _input_of_a_batch_kept_alive_by_its_graph(net)
    assert ref() is None                     # the check's hooks and trails keep nothing

    forgotten = _input_of_a_batch_kept_alive_by_its_graph(net)
    _input_of_a_batch_kept_alive_by_its_graph(net)        # no reset: the state carries the graph on
    assert forgotten() is not None


def test_a_spent_state_frees_its_graph_after_the_reset():
    net = make_net("s")
    x = batch()
    ref = weakref.ref(x)
    run(net, x).sum().backward()
    del x
    recorded(lambda: run(net, batch()))      # warned, and probed for the second backward
    functional.reset_net(net)
    run(net, batch())
    assert ref() is None


def test_a_copied_network_starts_a_fresh_trail():
    import copy
    import pickle

    net = make_net("m")
    net(batch())
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        silent(lambda: clone(batch()))       # the copy carries the initial state, not the graph
