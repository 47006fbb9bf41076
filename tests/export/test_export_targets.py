"""Targets, the one pipeline and the per-class neuron entries: a neuron a target cannot express is
refused by name with the reason; a class without an entry is refused, never exported as its base;
the pipeline writes atomically and leaves no temporary file when a write fails."""

import inspect

import pytest
import torch
from torch import nn

from spikesmith import layer, neuron
from spikesmith.export import check
from spikesmith.export.check import check_target
from spikesmith.export.neurons import NEURON_EXPORTS, entry_of, refuse
from spikesmith.export.pipeline import export_model, sample_shape
from spikesmith.export.targets import TARGETS, Target, target_of

M = dict(step_mode="m")


def _net(node):
    """A linear layer with weights Loihi stores exactly (no 'precision' issue) and ``node``."""
    net = nn.Sequential(layer.Linear(4, 3, bias=False, **M), node)
    with torch.no_grad():
        net[0].weight.fill_(0.25)
    return net


def test_targets_are_registered_objects_with_the_four_steps():
    assert TARGETS.names() == ["loihi2", "nir"]
    for name in TARGETS:
        t = target_of(name)
        assert isinstance(t, Target) and t.name == name and target_of(t) is t
        for step in ("check", "params", "build", "write"):
            assert callable(getattr(t, step))
    assert check_target(" NIR ") == "nir"
    with pytest.raises(ValueError, match="unknown export target 'spinnaker'; known export targets: loihi2, nir"):
        target_of("spinnaker")


def test_options_are_validated_by_the_target():
    assert target_of("nir").params(dt=0.5) == {"dt": 0.5}
    with pytest.raises(ValueError, match="dt must be a positive number"):
        target_of("nir").params(dt=0)
    with pytest.raises(TypeError, match="loihi2 export takes no option 'dt'"):
        target_of("loihi2").params(dt=1e-3)


@pytest.mark.parametrize("target", ["nir", "loihi2"])
@pytest.mark.parametrize("cls, reason", [(neuron.AdaptiveLIFNode, "threshold adapts"),
                                         (neuron.IzhikevichNode, "quadratic")])
def test_a_neuron_the_targets_cannot_express_is_refused_by_name_with_the_reason(target, cls, reason):
    issues = check(_net(cls(**M)), target, (4,))
    assert len(issues) == 1 and issues[0].severity == "error"
    assert f"{cls.__name__} has no {target} equivalent" in issues[0].problem
    assert reason in issues[0].problem


def test_a_subclass_without_an_entry_is_refused_not_exported_as_its_base():
    class MyLIF(neuron.LIFNode):
        pass

    assert entry_of(neuron.LIFNode(**M)) is not None and entry_of(MyLIF(**M)) is None
    (issue,) = check(_net(MyLIF(**M)), "nir", (4,))
    assert issue.problem == "MyLIF has no nir equivalent" and "LIFNode" in issue.fix


def test_refuse_declares_a_new_neuron_in_one_line():
    class Odd(neuron.LIFNode):
        pass

    refuse(Odd, "it is odd", targets=("nir",))
    try:
        (issue,) = check(_net(Odd(**M)), "nir", (4,))
        assert issue.problem == "Odd has no nir equivalent (it is odd)"
        (issue,) = check(_net(Odd(**M)), "loihi2", (4,))    # not refused there, but the entry maps to nothing
        assert issue.problem == "Odd has no loihi2 equivalent"
        with pytest.raises(ValueError, match="give the reason"):
            refuse(type("Other", (neuron.LIFNode,), {}), "  ")
    finally:
        NEURON_EXPORTS.unregister(Odd)


def test_every_public_neuron_has_an_export_entry():
    """A new neuron declares how the exporters run it, or refuses (``export.neurons``)."""
    missing = [name for name, cls in vars(neuron).items()
               if inspect.isclass(cls) and issubclass(cls, neuron.BaseNode) and cls is not neuron.BaseNode
               and NEURON_EXPORTS.match(cls) is None]
    assert missing == [], f"add declare(...) or refuse(cls, reason) in spikesmith/export/neurons.py for {missing}"


@pytest.mark.parametrize("target, suffix", [("nir", "net.nir"), ("loihi2", "net.net")])
def test_the_pipeline_builds_and_writes_atomically(tmp_path, target, suffix):
    pytest.importorskip("h5py")
    if target == "nir":
        pytest.importorskip("nir")
    net = _net(neuron.IFNode(**M))
    result = export_model(net, target, torch.zeros(3, 2, 4), tmp_path / suffix)
    assert result.path.is_file() and result.path.stat().st_size > 0
    assert result.changes == [] and result.report == ""
    assert [p.name for p in tmp_path.iterdir()] == [suffix]

    class Broken(type(target_of(target))):
        def write(self, built, f):
            f.write(b"half")
            raise RuntimeError("disk full")

    (tmp_path / "old").write_bytes(b"old")
    with pytest.raises(RuntimeError, match="disk full"):
        export_model(net, Broken(), (4,), tmp_path / "old")
    assert (tmp_path / "old").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([suffix, "old"])


def test_the_pipeline_refuses_before_building():
    net = _net(neuron.LIFNode(v_reset=None, **M))
    with pytest.raises(ValueError, match="(?s)cannot be exported to nir exactly.*soft reset.*approximate=True"):
        export_model(net, "nir", (4,))
    with pytest.raises(ValueError, match=r"example_input must have the layout \[T, N, \.\.\.\]"):
        sample_shape(net, torch.zeros(2, 4))
