"""SpikingJelly code on spikesmith.compat.spikingjelly given bad input (issue 17).

    PYTHONPATH=src python bench/reliability/probe_sj_compat.py --memory-gb 4

``sj compat bad input``: wrong arguments to the compat neurons, layers, functional helpers, encoder and
monitors must be clean errors naming the problem. ``sj compat missing``: SpikingJelly modules and names
with no counterpart (through the import switch and through the alias) must be clean errors naming the
nearest spikesmith module. ``sj compat accepted``: what SpikingJelly accepts must run: ``backend='cupy'``
/ ``'triton'`` with one notice, ``v_reset`` above the threshold with a warning, out-of-range Poisson
probabilities, a custom neuron written with ``neuronal_charge(self, x)`` (``wrong`` if the result differs
from the hand-computed one).
"""

from __future__ import annotations

import importlib
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import spikesmith.compat as compat  # noqa: E402
from spikesmith.compat.spikingjelly import SpikingJellyBackendNotice, _backend  # noqa: E402
from spikesmith.compat.spikingjelly.activation_based import (  # noqa: E402
    encoding,
    functional,
    layer,
    monitor,
    neuron,
    surrogate,
)
from spikesmith.compat.spikingjelly.clock_driven import neuron as old_neuron  # noqa: E402


def _monitor_index():
    node = neuron.IFNode()
    mon = monitor.OutputMonitor(node)
    node(torch.ones(2))
    return mon[5]


def _monitor_name():
    net = nn.Sequential(neuron.IFNode())
    return monitor.OutputMonitor(net, neuron.IFNode)["7"]


def _shape_change():
    node = neuron.LIFNode()
    node(torch.rand(2, 3))
    node(torch.rand(4, 3))


def _custom_shape_change():
    class Half(neuron.BaseNode):
        def neuronal_charge(self, x):
            self.v = self.v + 0.5 * x

    node = Half()
    node(torch.rand(2, 3))
    node(torch.rand(4, 3))


BAD_INPUT = {
    "lif tau 0.5": lambda: neuron.LIFNode(tau=0.5),
    "plif init_tau 1": lambda: neuron.ParametricLIFNode(init_tau=1.0),
    "if threshold nan": lambda: neuron.IFNode(v_threshold=float("nan")),
    "if threshold str": lambda: neuron.IFNode(v_threshold="1"),
    "lif backend cuda": lambda: neuron.LIFNode(backend="cuda"),
    "lif step_mode x": lambda: neuron.LIFNode(step_mode="x"),
    "lif surrogate name": lambda: neuron.LIFNode(surrogate_function="nope"),
    "simple lif tau 1": lambda: neuron.SimpleLIFNode(1.0, True),
    "old multistep lif tau 0": lambda: old_neuron.MultiStepLIFNode(tau=0.0),
    "lif long input": lambda: neuron.LIFNode()(torch.ones(3, dtype=torch.long)),
    "lif shape change": _shape_change,
    "custom neuron shape change": _custom_shape_change,
    "lif m-mode empty T": lambda: neuron.LIFNode(step_mode="m")(torch.zeros(0, 2)),
    "synapse filter tau 1": lambda: layer.SynapseFilter(tau=1.0),
    "delay -1 steps": lambda: layer.Delay(-1),
    "delay shape change": lambda: [d(torch.rand(s)) for d in [layer.Delay(2)] for s in (2, 3)],
    "synapse filter shape change": lambda: [f(torch.rand(s)) for f in [layer.SynapseFilter()] for s in (2, 3)],
    "linear rc in_features 0": lambda: layer.LinearRecurrentContainer(neuron.IFNode(), 0, 2),
    "linear rc wrong width": lambda: layer.LinearRecurrentContainer(neuron.IFNode(), 3, 3)(torch.rand(2, 4)),
    "element-wise rc not callable": lambda: layer.ElementWiseRecurrentContainer(neuron.IFNode(), 3),
    "unpool indices mismatch": lambda: layer.MaxUnpool2d(2, step_mode="m")(torch.rand(2, 1, 1, 2, 2),
                                                                           torch.zeros(2, 1, 1, 2, 3).long()),
    "multi_step_forward empty": lambda: functional.multi_step_forward(torch.zeros(0, 3), nn.Identity()),
    "multi_step_forward not a module": lambda: functional.multi_step_forward(torch.zeros(2, 3), 5),
    "seq_to_ann_forward 1-d": lambda: functional.seq_to_ann_forward(torch.zeros(4), nn.Identity()),
    "seq_to_ann_forward mismatched tuple": lambda: functional.seq_to_ann_forward(
        (torch.zeros(2, 3, 1), torch.zeros(3, 3, 1)), nn.Identity()),
    "chunk split 0": lambda: functional.chunk_multi_step_forward(0, torch.zeros(2, 1), nn.Identity()),
    "reset_net of a list": lambda: functional.reset_net([neuron.IFNode()]),
    "set_step_mode y": lambda: functional.set_step_mode(nn.Sequential(neuron.IFNode()), "y"),
    "set_backend cuda": lambda: functional.set_backend(nn.Sequential(neuron.IFNode()), "cuda"),
    "poisson long input": lambda: encoding.PoissonEncoder()(torch.ones(2, dtype=torch.long)),
    "monitor index out of range": _monitor_index,
    "monitor unknown layer": _monitor_name,
    "attribute monitor missing attribute": lambda: monitor.AttributeMonitor("w", False, neuron.IFNode()),
    "surrogate alpha 0": lambda: surrogate.Rect(alpha=0.0),
    "surrogate function form alpha -1": lambda: surrogate.sigmoid.apply(torch.zeros(2), -1.0),
    "super spike primitive": lambda: surrogate.SuperSpike(spiking=False)(torch.zeros(2)),
}


def _alias_import(name):
    compat.install_spikingjelly_alias()
    try:
        importlib.import_module(name)
    finally:
        compat.uninstall_spikingjelly_alias()


MISSING = {
    "module activation_based.model": lambda: importlib.import_module(
        "spikesmith.compat.spikingjelly.activation_based.model"),
    "module clock_driven.cu_kernel_opt": lambda: importlib.import_module(
        "spikesmith.compat.spikingjelly.clock_driven.cu_kernel_opt"),
    "alias spikingjelly.datasets": lambda: _alias_import("spikingjelly.datasets"),
    "alias spikingjelly.activation_based.rnn": lambda: _alias_import("spikingjelly.activation_based.rnn"),
    "alias spikingjelly.timing_based.neuron": lambda: _alias_import("spikingjelly.timing_based.neuron"),
    "name neuron.IzhikevichNode": lambda: neuron.IzhikevichNode,
    "name layer.NeuNorm": lambda: layer.NeuNorm,
    "name surrogate.S2NN": lambda: surrogate.S2NN,
    "name functional.delay": lambda: functional.delay,
    "from-import layer.TLastSeqToANNContainer": lambda: exec(
        "from spikesmith.compat.spikingjelly.activation_based.layer import TLastSeqToANNContainer"),
}


def _missing_case(run):
    def case():
        try:
            run()
        except ImportError as error:
            if "has no counterpart" not in str(error) or "use " not in str(error):
                return f"wrong: the error does not name the nearest module: {error}"
            raise
        return "wrong: no error"
    return case


def _notice_once():
    _backend._noticed.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        node = neuron.LIFNode(step_mode="m", backend="cupy")
        old_neuron.MultiStepLIFNode(backend="cupy")
        neuron.IFNode(backend="triton", step_mode="m")(torch.rand(3, 2))
    notices = [w for w in caught if issubclass(w.category, SpikingJellyBackendNotice)]
    if len(notices) != 2:                     # one for 'cupy', one for 'triton'
        return f"wrong: {len(notices)} notices for two backend names"
    if node.backend != "auto" or node(torch.rand(3, 2)).shape != (3, 2):
        return "wrong: 'cupy' did not map onto 'auto'"
    return None


def _reset_above_threshold():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        node = neuron.IFNode(v_reset=5.0, step_mode="m")
    if not any(issubclass(w.category, neuron.ThresholdNotAboveResetWarning) for w in caught):
        return "wrong: no warning for v_reset above v_threshold"
    s = node(torch.tensor([[1.0], [0.0], [0.0]]))
    if s[:, 0].tolist() != [1.0, 1.0, 1.0]:   # from V = 5 it fires at every step, as in SpikingJelly
        return f"wrong: spikes {s[:, 0].tolist()}"
    return None


def _poisson_out_of_range():
    s = encoding.PoissonEncoder()(torch.tensor([-1.0, 2.0, float("nan")]))
    return None if s.tolist() == [0.0, 1.0, 0.0] else f"wrong: {s.tolist()}"


def _custom_neuron():
    class Doubling(neuron.BaseNode):
        def neuronal_charge(self, x):
            self.v = 2.0 * self.v + x

    s = Doubling(step_mode="m")(torch.full((4, 1), 0.3))
    return None if s[:, 0].tolist() == [0.0, 0.0, 1.0, 0.0] else f"wrong: {s[:, 0].tolist()}"


ACCEPTED = {
    "backend notice once per name": _notice_once,
    "v_reset above threshold": _reset_above_threshold,
    "poisson out of range": _poisson_out_of_range,
    "custom neuronal_charge(self, x)": _custom_neuron,
}


def _bad_case(run):
    def case():
        run()
        return "wrong: accepted without an error"
    return case


def cases():
    return ([harness.Case("sj compat bad input", name, _bad_case(run)) for name, run in BAD_INPUT.items()]
            + [harness.Case("sj compat missing", name, _missing_case(run)) for name, run in MISSING.items()]
            + [harness.Case("sj compat accepted", name, run) for name, run in ACCEPTED.items()])


if __name__ == "__main__":
    harness.main(cases)
