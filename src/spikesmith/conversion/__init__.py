"""ANN -> SNN conversion with threshold balancing and layer-wise calibration.

>>> from spikesmith import conversion
>>> snn = conversion.convert(ann, x_calib, T=32, method="light")     # x_calib: a few hundred inputs
>>> snn(x)                                # drop-in for ann(x): the readout averaged over T steps
>>> snn.set_T(16, calibration_data=x_calib)                         # recalibrate for another T
>>> conversion.save_converted(snn, "snn.pt"); conversion.load_converted("snn.pt")

Pipeline and methods: ``convert`` (presets), ``graph`` (tracing, supported operations, BatchNorm
folding), ``network`` (``ConvertedSNN``), ``thresholds`` (balancing), ``calibration`` (bias,
potential and weight calibration), ``steps`` (the calibration steps in order, each flagged by
whether it depends on T), ``sweep`` (accuracy against T over several methods), ``layers`` (the IF layer, readout, spiking max pool).

Rules: everything between two activations must be affine (convolution, linear, average pooling,
BatchNorm, flatten, addition of residual branches, concatenation); max pooling after a spiking layer
is an error unless ``max_pool='gate'`` (a spiking max pool gated by accumulated input), average
pooling is the recommended choice.
"""

from .calibration import layer_error, layer_errors
from .checkpoint import FORMAT, is_converted_checkpoint, load_converted, save_converted
from .convert import PRESETS, convert, methods, resolve_options
from .graph import check_supported, fold_batchnorm, fold_bn_into, normalize, trace
from .layers import GatedMaxPool, IFActivation, Readout, TimeExpand
from .network import ConvertedSNN, build_snn
from .steps import CALIBRATION_STEPS, depends_on_T, needs_recalibration
from .sweep import Variant, sweep, variants
from .thresholds import THRESHOLD_METHODS, balance, quantize

__all__ = [
    "CALIBRATION_STEPS", "FORMAT", "PRESETS", "THRESHOLD_METHODS", "ConvertedSNN", "GatedMaxPool", "IFActivation", "Readout", "TimeExpand",
    "Variant", "balance", "build_snn", "check_supported", "convert", "depends_on_T", "fold_batchnorm", "fold_bn_into", "is_converted_checkpoint",
    "layer_error", "layer_errors", "load_converted", "methods", "needs_recalibration", "normalize", "quantize", "resolve_options",
    "save_converted", "sweep", "trace", "variants",
]
