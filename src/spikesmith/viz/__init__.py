"""Plots and reports: training curves, firing rates, rasters, membrane traces, confusion matrices,
class patterns, receptive fields, reconstructions, and a Markdown report that links them.

Every ``plot_*`` function takes plain data (numpy arrays, torch tensors, dicts), writes a PNG
atomically (temporary file in the same folder, then ``os.replace``) and returns its path.
matplotlib is imported only when a figure is drawn (``pip install spikesmith[viz]``); figures are
drawn on the Agg canvas without touching ``pyplot``.

>>> from spikesmith import viz
>>> cm = viz.confusion_matrix(pred, target, num_classes=10)                 # doctest: +SKIP
>>> viz.plot_confusion_matrix(cm, "out/cm.png", class_names=names)          # doctest: +SKIP
"""

from .accuracy_vs_T import plot_accuracy_vs_T
from .confusion import confusion_matrix, per_class_accuracy, plot_confusion_matrix
from .curves import plot_training_curves
from .patterns import class_patterns_from_model, plot_class_patterns
from .receptive_fields import plot_receptive_fields
from .reconstructions import plot_reconstructions
from .raster import plot_spike_raster, subsample_neurons
from .rates import mean_rates, plot_firing_rate_histograms, plot_firing_rates
from .report import write_report
from .traces import plot_membrane_traces

__all__ = [
    "class_patterns_from_model",
    "confusion_matrix",
    "mean_rates",
    "per_class_accuracy",
    "plot_accuracy_vs_T",
    "plot_class_patterns",
    "plot_confusion_matrix",
    "plot_firing_rate_histograms",
    "plot_firing_rates",
    "plot_membrane_traces",
    "plot_receptive_fields",
    "plot_reconstructions",
    "plot_spike_raster",
    "plot_training_curves",
    "subsample_neurons",
    "write_report",
]
