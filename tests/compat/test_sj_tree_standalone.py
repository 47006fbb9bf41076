"""spikesmith.compat.spikingjelly without SpikingJelly: the alias, the backend notice, the errors that name
the nearest spikesmith module, SpikingJelly-style custom neurons on scan, the Poisson encoder's tie rule.
(``test_sj_tree.py`` compares the tree's outputs with SpikingJelly's where it is installed.)"""

from __future__ import annotations

import importlib
import sys
import warnings

import pytest
import torch
from torch import nn

import spikesmith.compat as compat
from spikesmith.compat.spikingjelly import SpikingJellyBackendNotice, _backend

pytestmark = pytest.mark.usefixtures("one_thread")


def test_alias_resolves_spikingjelly_imports_until_uninstalled():
    before = {name: module for name, module in sys.modules.items() if name.split(".")[0] == "spikingjelly"}
    compat.install_spikingjelly_alias()
    compat.install_spikingjelly_alias()                      # twice is harmless
    try:
        import spikingjelly
        import spikingjelly.activation_based.neuron as aliased
        from spikingjelly.activation_based import functional, layer
        from spikingjelly.clock_driven.neuron import MultiStepLIFNode

        assert compat.spikingjelly.spikingjelly_alias_installed()
        assert aliased is importlib.import_module("spikesmith.compat.spikingjelly.activation_based.neuron")
        assert spikingjelly.activation_based.neuron is aliased
        assert aliased.__spec__.name == "spikesmith.compat.spikingjelly.activation_based.neuron"   # kept its own
        net = nn.Sequential(layer.Linear(3, 2), MultiStepLIFNode(tau=2.0))
        functional.set_step_mode(net, "m")
        assert net(torch.rand(4, 1, 3) * 3).shape == (4, 1, 2)
        with pytest.raises(ModuleNotFoundError, match="spikingjelly.datasets has no counterpart.*spikesmith.data"):
            importlib.import_module("spikingjelly.datasets")
    finally:
        compat.uninstall_spikingjelly_alias()
    assert not compat.spikingjelly.spikingjelly_alias_installed()
    after = {name: module for name, module in sys.modules.items() if name.split(".")[0] == "spikingjelly"}
    assert after == before                                   # the real SpikingJelly's modules (if any) are back


def test_missing_modules_and_names_name_the_nearest_spikesmith_module():
    with pytest.raises(ModuleNotFoundError, match=r"spikingjelly\.activation_based\.model has no counterpart.*"
                                                  r"spikesmith\.models"):
        importlib.import_module("spikesmith.compat.spikingjelly.activation_based.model")
    with pytest.raises(ModuleNotFoundError, match="clock_driven.ann2snn.*activation_based.ann2snn"):
        importlib.import_module("spikesmith.compat.spikingjelly.clock_driven.ann2snn")
    with pytest.raises(ImportError, match="clock_driven.monitor has no counterpart.*activation_based.monitor"):
        from spikesmith.compat.spikingjelly.clock_driven import monitor  # noqa: F401  (the from-import form)
    from spikesmith.compat.spikingjelly.activation_based import layer, neuron, surrogate

    with pytest.raises(ImportError, match="IzhikevichNode has no counterpart.*spikesmith.neuron.IzhikevichNode"):
        neuron.IzhikevichNode
    with pytest.raises(ImportError, match="TLastSeqToANNContainer has no counterpart.*SeqToANNContainer"):
        from spikesmith.compat.spikingjelly.activation_based.layer import TLastSeqToANNContainer  # noqa: F401
    with pytest.raises(ImportError, match="S2NN has no counterpart"):
        surrogate.S2NN
    assert layer.Linear is importlib.import_module("spikesmith.layer").Linear


def test_backend_names_map_with_one_notice_and_supported_backends():
    from spikesmith.compat.spikingjelly.activation_based import functional, neuron

    _backend._noticed.clear()
    with pytest.warns(SpikingJellyBackendNotice) as caught:
        node = neuron.LIFNode(step_mode="m", backend="triton")
        neuron.IFNode(backend="triton")
    assert len(caught) == 1 and caught[0].filename == __file__   # once, pointing at the user's line
    assert node.backend == "auto" and neuron.IFNode().backend == "torch"
    assert node.supported_backends == ("torch", "cupy", "triton")
    assert neuron.IFNode().supported_backends == ("torch",)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        functional.set_backend(nn.Sequential(node), "cupy")
    assert node.backend == "auto"
    with pytest.raises(ValueError, match="unknown backend 'cuda'.*'cupy'"):
        neuron.LIFNode(backend="cuda")


def test_threshold_not_above_reset_warns_in_compat_and_stays_an_error_in_spikesmith():
    from spikesmith import neuron as sf_neuron
    from spikesmith.compat.spikingjelly.activation_based import neuron

    with pytest.warns(neuron.ThresholdNotAboveResetWarning, match="v_threshold=1.0 is not above v_reset=5.0"):
        neuron.IFNode(v_reset=5.0)
    with pytest.raises(ValueError, match="v_threshold must be greater than v_reset"):
        sf_neuron.IFNode(v_reset=5.0)


def test_learning_and_ann2snn_resolve_lazily():
    from spikesmith.compat.spikingjelly.activation_based import ann2snn, learning

    for module, name, source in ((learning, "STDPLearner", "stdp_learners"), (ann2snn, "Converter", "ann2snn_converter")):
        try:
            found = getattr(module, name)
        except ImportError as error:                              # the other part of issue 17 not merged yet
            assert source in str(error) and "does not have" in str(error)
        else:
            assert found.__module__.endswith(source)




def test_custom_neurons_run_the_spikingjelly_way_on_scan():
    from spikesmith.compat.spikingjelly.activation_based import functional, neuron

    class Doubling(neuron.BaseNode):                          # the old API's way: BaseNode + neuronal_charge(x)
        def neuronal_charge(self, x):
            self.v = 2.0 * self.v + x

    class TwoThirdsReset(neuron.LIFNode):                     # own reset, built-in LIF charge
        def neuronal_reset(self, spike):
            self.v = self.v - spike * (2.0 / 3.0) * self.v_threshold

    x = torch.full((4, 1), 0.3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpikingJellyBackendNotice)
        node = Doubling(step_mode="m", backend="cupy")
    # V: 0.3, 0.9, 2.1 -> spike, reset to 0, then 0.3
    torch.testing.assert_close(node(x), torch.tensor([[0.0], [0.0], [1.0], [0.0]]))
    assert node._ran_backend == "torch"                       # never a fused kernel
    torch.testing.assert_close(node.v, torch.tensor([0.3]))
    functional.reset_net(node)
    assert node.v == 0.0
    lif = TwoThirdsReset(tau=2.0, v_reset=None, step_mode="m")
    lif(torch.full((2, 1), 2.0))                              # H = 1 -> spike, V = 1/3; H = 1/6 + 1 -> spike
    torch.testing.assert_close(lif.v, torch.tensor([7.0 / 6.0 - 2.0 / 3.0]))
    simple = neuron.SimpleIFNode(v_reset=-0.5, step_mode="m")
    assert simple.v == 0.0                                    # SimpleBaseNode starts from 0 whatever v_reset is
    torch.testing.assert_close(simple(torch.full((3, 1), 0.6)), torch.tensor([[0.0], [1.0], [0.0]]))


def test_plain_compat_lif_keeps_the_fused_kernel():
    from spikesmith.compat.spikingjelly.activation_based import neuron
    from spikesmith.kernels import cpu

    if not cpu.available():
        pytest.skip(f"fused CPU kernels unavailable: {cpu.unavailable_reason()}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpikingJellyBackendNotice)
        node = neuron.LIFNode(step_mode="m", backend="cupy")
    node(torch.rand(4, 2, 3))
    assert node._ran_backend == "cpu"


def test_poisson_encoder_fires_on_equal_and_keeps_the_shape(monkeypatch):
    from spikesmith.compat.spikingjelly.activation_based import encoding

    x = torch.tensor([[0.0, 0.25, 1.0, 1.5, -0.2]])
    monkeypatch.setattr(torch, "rand_like", lambda t: torch.full_like(t, 0.25))
    s = encoding.PoissonEncoder()(x)
    assert s.shape == x.shape and s.dtype == x.dtype
    torch.testing.assert_close(s, torch.tensor([[0.0, 1.0, 1.0, 1.0, 0.0]]))   # 0.25 <= 0.25 fires
    with pytest.raises(TypeError, match="floating-point"):
        encoding.PoissonEncoder()(torch.ones(2, dtype=torch.long))


def test_compat_monitors_default_to_the_class_of_net_and_index_records():
    from spikesmith.compat.spikingjelly.activation_based import monitor, neuron

    node = neuron.IFNode(step_mode="m")
    with monitor.OutputMonitor(node) as mon:                  # instance=None: modules of net's own class
        node(torch.full((2, 3), 1.0))
        assert mon.monitored_layers == [""] and mon[0].sum() == 6     # 1.0 fires at both steps
    net = nn.Sequential(nn.Linear(2, 2), neuron.IFNode())
    assert monitor.OutputMonitor(net).monitored_layers == [""]
