"""Event-driven inference: trained networks whose layers fed by spikes add weights instead of multiplying.

    from spikesmith.inference import event_driven, path_report
    fast = event_driven(net)            # an inference-only copy; net is unchanged
    with torch.no_grad():
        out = fast(x_seq)
    path_report(fast)                   # per sparse layer: density seen, path taken, time

The kernels are ``kernels.sparse`` (C++/OpenMP, compiled once and cached); ``crossover`` measures per
layer geometry the density below which they beat the dense product.
"""

from .crossover import calibrate
from .event_driven import KEEPS_SPIKES, SPARSE_LAYERS, event_driven, path_report, sparse_layers
from .sparse_layers import MODES, PathStats, SparseConv2d, SparseLinear

__all__ = ["KEEPS_SPIKES", "MODES", "PathStats", "SPARSE_LAYERS", "SparseConv2d", "SparseLinear", "calibrate",
           "event_driven", "path_report", "sparse_layers"]
