"""Switching monitors on and off: the hooks really leave the modules."""

from __future__ import annotations

import copy
import gc
import io
import weakref

import pytest
import torch

from spikesmith import functional
from spikesmith.monitor import (
    AttributeMonitor,
    GradOutputMonitor,
    InputMonitor,
    MembraneMonitor,
    OutputMonitor,
    SpikeMonitor,
)

from monitor_net import run

MONITORS = [
    OutputMonitor,
    InputMonitor,
    SpikeMonitor,
    MembraneMonitor,
    GradOutputMonitor,
    lambda net: AttributeMonitor("v", net),
]


def no_hooks(net) -> bool:
    return all(
        not m._forward_hooks and not m._forward_pre_hooks and not m._backward_hooks for m in net.modules()
    )


@pytest.mark.parametrize("make", MONITORS)
def test_remove_hooks_leaves_no_hooks(net, make):
    assert no_hooks(net)
    mon = make(net)
    assert not no_hooks(net) and mon.enabled
    mon.remove_hooks()
    assert no_hooks(net) and not mon.enabled
    with pytest.raises(RuntimeError, match="create a new monitor"):
        mon.enable()
    mon.remove_hooks()  # twice is fine


def test_disable_stops_recording_and_takes_hooks_off(net, x_seq, step_mode):
    mon = OutputMonitor(net)
    run(net, x_seq, step_mode)
    n = len(mon.records)
    mon.disable()
    assert no_hooks(net) and not mon.is_enable()
    functional.reset_net(net)
    run(net, x_seq, step_mode)
    assert len(mon.records) == n  # records kept, nothing new
    mon.enable()
    mon.enable()  # idempotent: one hook per module
    assert all(len(net[i]._forward_hooks) == 1 for i in (1, 3))
    functional.reset_net(net)
    run(net, x_seq, step_mode)
    assert len(mon.records) == 2 * n


def test_context_manager_removes_hooks(net, x_seq, step_mode):
    with OutputMonitor(net) as mon:
        assert len(net[1]._forward_hooks) == 1
        run(net, x_seq, step_mode)
    assert no_hooks(net)
    assert torch.equal(mon.sequence("1").sum(), torch.tensor(7.0, dtype=torch.float64))  # records stay


def test_context_manager_removes_hooks_on_error(net):
    with pytest.raises(ZeroDivisionError):
        with SpikeMonitor(net):
            1 / 0
    assert no_hooks(net)


def test_deleting_the_monitor_removes_its_hooks(net, x_seq, step_mode):
    mon = SpikeMonitor(net)
    ref = weakref.ref(mon)
    del mon
    gc.collect()
    assert ref() is None and no_hooks(net)
    run(net, x_seq, step_mode)  # no dangling hook to trip over


def test_del_after_failed_init_is_safe(net):
    with pytest.raises(TypeError):
        OutputMonitor(net, instance=42)
    gc.collect()
    assert no_hooks(net)


def test_two_monitors_are_independent(net, x_seq, step_mode):
    a, b = OutputMonitor(net), OutputMonitor(net)
    a.remove_hooks()
    run(net, x_seq, step_mode)
    assert a.records == [] and len(b.records) > 0
    assert len(net[1]._forward_hooks) == 1
    assert "closed" in repr(a) and "enabled" in repr(b)


def test_copies_of_a_monitored_net_do_not_report(net, x_seq, step_mode):
    mon = SpikeMonitor(net)
    twin = copy.deepcopy(net)
    run(twin, x_seq, step_mode)
    assert mon.records == []
    buffer = io.BytesIO()
    torch.save(net, buffer)  # whole-module pickling works while monitored
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    run(loaded, x_seq, step_mode)
    assert mon.records == []
    run(net, x_seq, step_mode)
    assert len(mon["1"]) == (1 if step_mode == "m" else 5)
