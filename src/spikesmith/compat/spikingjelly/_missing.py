"""SpikingJelly modules and names that have no counterpart here: the error names them and the nearest
spikesmith module.

``import spikesmith.compat.spikingjelly.activation_based.model`` (or, through the alias,
``import spikingjelly.activation_based.model``) raises ``ModuleNotFoundError`` saying what to use instead;
``neuron.IzhikevichNode`` and other missing names raise ``ImportError`` / ``AttributeError`` the same way.
A finder at the end of ``sys.meta_path`` answers only for names under this package, after every other
finder has failed, so it changes nothing that imports.
"""

from __future__ import annotations

import importlib.abc
import sys

PACKAGE = __name__.rsplit(".", 1)[0]           # spikesmith.compat.spikingjelly

#: SpikingJelly submodule (relative to ``spikingjelly``) -> what to use instead.
NEAREST_MODULE = {
    "activation_based.model": "spikesmith.models (its own networks), or build the SpikingJelly model with "
                              "SpikingJelly and convert it with spikesmith.compat.from_spikingjelly",
    "activation_based.cuda_utils": "nothing: backend='cupy' maps onto spikesmith's fused kernels (spikesmith.kernels)",
    "activation_based.auto_cuda": "nothing: backend='cupy' maps onto spikesmith's fused kernels (spikesmith.kernels)",
    "activation_based.lava_exchange": "spikesmith.export (Lava and NIR export)",
    "activation_based.nir_exchange": "spikesmith.export (NIR export)",
    "activation_based.lynxi_exchange": "spikesmith.export",
    "activation_based.quantize": "spikesmith.export.quantize",
    "activation_based.op_counter": "nothing yet (count synaptic operations with spikesmith.monitor.SpikeMonitor)",
    "activation_based.profiler": "torch.profiler",
    "activation_based.memopt": "spikesmith.training (time_chunk= runs long sequences in chunks)",
    "activation_based.distributed": "spikesmith.training (its distributed runs)",
    "activation_based.examples": "examples/ of the spikesmith repository",
    "activation_based.precision": "torch.autocast",
    "datasets": "spikesmith.data (datasets and event frames)",
    "timing_based": "spikesmith.encoding.latency (time-to-first-spike coding); SpikingJelly's timing-based "
                    "neurons have no counterpart",
    "configure": "spikesmith's backends need no configuration (spikesmith.kernels)",
    "clock_driven.model": "spikesmith.models",
    "clock_driven.monitor": f"{PACKAGE}.activation_based.monitor (OutputMonitor, AttributeMonitor, ...; the old "
                            f"Monitor class has no counterpart)",
    "clock_driven.ann2snn": f"{PACKAGE}.activation_based.ann2snn",
    "clock_driven.lava_exchange": "spikesmith.export",
    "clock_driven.cu_kernel_opt": "nothing: backend='cupy' maps onto spikesmith's fused kernels",
    "clock_driven.neuron_kernel": "nothing: backend='cupy' maps onto spikesmith's fused kernels",
    "clock_driven.rnn": "spikesmith.layer (SpikingLSTM, SpikingGRU and their cells)",
    "clock_driven.examples": "examples/ of the spikesmith repository",
}


def nearest_module(relative: str) -> str:
    """What to use for the SpikingJelly module ``relative`` (e.g. ``'activation_based.model'``)."""
    parts = relative.split(".")
    for end in range(len(parts), 0, -1):
        hint = NEAREST_MODULE.get(".".join(parts[:end]))
        if hint:
            return hint
    return "spikesmith.compat.spikingjelly's tree (activation_based.neuron, layer, functional, surrogate, " \
           "monitor, learning, encoding, ann2snn, base; clock_driven.*)"


def missing_module_error(relative: str) -> ModuleNotFoundError:
    error = ModuleNotFoundError(
        f"spikingjelly.{relative} has no counterpart in spikesmith.compat.spikingjelly; use "
        f"{nearest_module(relative)}")
    # no .name: 'from package import missing' would otherwise swallow this error for Python's bare
    # "cannot import name" (importlib skips a ModuleNotFoundError named after the submodule)
    return error


class MissingCounterpartError(ImportError):
    """A SpikingJelly name this package does not provide. An ImportError, not an AttributeError, so that
    ``from ...layer import TLastSeqToANNContainer`` shows the hint instead of Python's 'cannot import name'."""


def missing_name(module: str, name: str, nearest: dict, available) -> MissingCounterpartError:
    """The error for ``module.name`` (an SJ name we do not provide): ``nearest[name]`` when known."""
    sj_module = module.replace(PACKAGE, "spikingjelly", 1)
    hint = nearest.get(name)
    if hint is None:
        hint = f"one of {', '.join(sorted(available))}" if available else "spikesmith's own modules"
    return MissingCounterpartError(f"{sj_module}.{name} has no counterpart in spikesmith.compat.spikingjelly; use {hint}",
                                   name=f"{sj_module}.{name}")


#: The top-level SpikingJelly packages: a missing module below one of them gets the hint (our own
#: modules of this package, such as ``convert``, are left to the usual error).
SJ_PACKAGES = ("activation_based", "clock_driven", "datasets", "timing_based", "configure", "visualizing",
               "event_driven", "cext")


class _MissingFinder(importlib.abc.MetaPathFinder):
    """Last on ``sys.meta_path``: turns 'No module named ...' under this package into the hint."""

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith(PACKAGE + "."):
            return None
        relative = fullname[len(PACKAGE) + 1:]
        if relative.split(".")[0] in SJ_PACKAGES:
            raise missing_module_error(relative)
        return None


def install_missing_finder() -> None:
    if not any(isinstance(f, _MissingFinder) for f in sys.meta_path):
        sys.meta_path.append(_MissingFinder())
