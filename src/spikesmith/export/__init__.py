"""Deploying spiking networks: NIR graphs, Lava-dl netx files for Loihi 2, and what stops a model.

>>> from spikesmith import export
>>> export.check(net, "loihi2", input_shape=(1, 28, 28))      # [] when it runs exactly
>>> graph = export.to_nir(net, x_seq, dt=1e-3); export.write_nir(graph, "net.nir")
>>> net2 = export.from_nir("net.nir")                           # same spikes (ties aside: NIR fires on >)
>>> info = export.to_lava(net, "net.net", x_seq); export.compare_lava(net, "net.net", x_seq, y)

``ops`` flattens a network into layers (BatchNorm folded), ``check`` lists issues with fixes,
``approximate`` switches what a target cannot run (``approximate=True``) and reports the accuracy change.
Every export runs one pipeline (``pipeline.export_model``: shape -> layer list -> check -> approximate ->
build -> atomic write) over a target object from ``targets.TARGETS`` (``nirgraph.NirTarget``,
``lava.LavaTarget``); what a neuron is for the targets is its entry in ``neurons`` (or its refusal).
The NIR functions need the ``nir`` package (``pip install 'spikesmith[export]'``), Lava's need ``h5py``.
"""

from .check import Issue, check
from .lava import LavaExport, compare_lava, read_lava, simulate_lava, to_lava
from .modules import Scale, SumPool2d, Threshold
from .nirgraph import from_nir, read_nir, to_nir, write_nir
from .ops import Op, layer_list, ops_network
from .pipeline import Exported, export_model
from .targets import TARGETS, Target

__all__ = [
    "TARGETS", "Exported", "Issue", "LavaExport", "Op", "Scale", "SumPool2d", "Target", "Threshold", "check",
    "compare_lava", "export_model", "from_nir", "layer_list", "ops_network", "read_lava", "read_nir", "simulate_lava",
    "to_lava", "to_nir", "write_nir",
]
