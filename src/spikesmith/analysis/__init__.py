"""Operations and energy of a network on data: synaptic operations, dense MACs, firing rates, energy.

>>> from spikesmith import analysis
>>> p = analysis.profile(net, x_seq)                 # net takes [T, N, ...]; counts per sample
>>> print(p.table())                                 # per layer: input kind, rate, sparsity, ACs, MACs, energy
>>> analysis.plot_profile(p, "energy.png")
>>> twin = analysis.profile(ann_net, x)              # the ANN twin: every layer dense MACs

Energy uses stated per-operation costs (``EnergyCosts``: 0.9 pJ per accumulate, 4.6 pJ per
multiply-accumulate, 45 nm, Horowitz 2014); see ``counting`` for what each input costs.
"""

from .counting import Profiler, has_spiking_neurons, is_multi_step, positions_fanout, profile
from .energy import EnergyCosts, LayerStats, Profile, format_table
from .plot import plot_profile

__all__ = [
    "EnergyCosts", "LayerStats", "Profile", "Profiler", "format_table", "has_spiking_neurons", "is_multi_step",
    "plot_profile", "positions_fanout", "profile",
]

from .liquid import MemoryCurve, memory_capacity, memory_curve, separation, separation_curve  # noqa: E402

__all__ += ["MemoryCurve", "memory_capacity", "memory_curve", "separation", "separation_curve"]
